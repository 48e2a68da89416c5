/**
 * The storage layer between the manager and where sessions live. Created with
 * {@link createCookieStorage} or {@link createServerStorage}; its members are for the manager, not for
 * application code.
 *
 * @module
 */
import type { InvalidCookieReason } from '../errors.ts'
import type { ClientInfo } from './client.ts'
import { type Bag, bag, type SessionState } from './session.ts'
import type { SessionStore } from './types.ts'

/** A session as read from a cookie or a store. Times in epoch ms. */
export interface LoadedSession {
  readonly id: string | null
  /** The store key of the record read (for a forwarded load, the renewed record's). */
  readonly handle: string | null
  readonly createdAt: number
  readonly lastActiveAt: number
  /** When the id was last given (creation, regenerate or renewal). */
  readonly renewedAt: number
  /**
   * Loaded through an old id still in its renewal grace window: the store key of that old record
   * (a pointer to `handle`); null otherwise. No cookie is sent then (the renewing response carried
   * the new one).
   */
  readonly forwardedFrom: string | null
  readonly maxAge: number | undefined
  readonly persistent: boolean | undefined
  readonly subject: string | undefined
  readonly data: Bag
  readonly flash: Bag
  /** Store version (0 for cookie storage). */
  readonly version: number
  /** Read with a key other than the writing key: re-issue the cookie. */
  readonly rotated: boolean
  /** The client the record keeps (server storage, option `clientInfo`). */
  readonly client?: ClientInfo | undefined
}

/** How a write that needs the stored session ended. */
export type WriteOutcome =
  /** Written. */
  | 'ok'
  /** Written to the record the session moved to (renewed meanwhile): send no cookie. */
  | 'moved'
  /** The session is gone (destroyed or expired meanwhile): nothing written, no cookie. */
  | 'gone'

/**
 * Where sessions live. `kind` tells which; the methods are called by the manager only, as the
 * commit plan says (src/core/plan.ts). Cookie storage has no store work: its write methods are
 * never called.
 */
export interface SessionStorage {
  /** `'cookie'`: the whole session is in the cookie; `'server'`: the cookie holds an id. */
  readonly kind: 'cookie' | 'server'
  /** The store, for server storage. */
  readonly store: SessionStore | undefined
  /** Decodes a cookie value; a reason when it cannot be used. */
  read(
    value: string,
    now: number,
  ): LoadedSession | InvalidCookieReason | Promise<LoadedSession | InvalidCookieReason>
  /** Gives a state a fresh id and handle (server storage) or none (cookie storage). */
  rekey(state: SessionState): void
  /** The value of the session cookie for the state: its id, or the encoded session. */
  cookieValue(state: SessionState, now: number): string
  /**
   * True when every `cookieValue` is made of characters `encodeURIComponent` leaves as they are
   * (session ids; a codec's values when it says so), so the Set-Cookie writer need not scan it.
   */
  readonly uriSafe: boolean
  /** Inserts the state as a new record under its id. */
  create(state: SessionState, now: number): Promise<void>
  /** Applies the state's changes (or, with `timesOnly`, its new times) to its record. */
  patch(state: SessionState, now: number, timesOnly: boolean): Promise<WriteOutcome>
  /**
   * `patch` done at once, where the store can (the memory store): the outcome, or undefined when
   * it cannot (then `patch` is called). Absent: never.
   */
  patchNow?(state: SessionState, now: number, timesOnly: boolean): WriteOutcome | undefined
  /**
   * Moves the loaded session to a new id (the state is rekeyed), keeping the old record for
   * `graceMs` as a pointer to the new one.
   */
  renew(
    state: SessionState,
    loaded: LoadedSession,
    now: number,
    graceMs: number,
  ): Promise<WriteOutcome>
  /** Deletes a stored record by handle. */
  destroy(handle: string): Promise<void>
}

/** Flash values to keep: the unconsumed incoming ones plus this request's. */
export function flashToKeep(state: SessionState): Bag {
  if (state.flashOut === null) return state.flashIn
  return Object.assign(bag(state.flashIn), state.flashOut)
}

/** Type guard for a plain object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
