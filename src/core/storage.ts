/**
 * The storage layer between the manager and where sessions live. Created with
 * {@link cookieStorage} or {@link serverStorage}; its members are for the manager, not for
 * application code.
 *
 * @module
 */
import type { InvalidCookieReason } from '../errors.ts'
import type { Bag, SessionState } from './session.ts'
import type { SessionStore } from './types.ts'

/** A session as read from a cookie or a store. Times in epoch ms. */
export interface LoadedSession {
  readonly id: string | null
  readonly handle: string | null
  readonly createdAt: number
  readonly lastActiveAt: number
  /** When the id was last given (creation, regenerate or renewal). */
  readonly renewedAt: number
  /**
   * Loaded through an old id still in its renewal grace window: the state carries the renewed
   * session's handle, and no cookie is sent (the renewing response carried the new one).
   */
  readonly forwarded: boolean
  readonly maxAge: number | undefined
  readonly subject: string | undefined
  readonly data: Bag
  readonly flash: Bag
  /** Store version (0 for cookie storage). */
  readonly version: number
  /** Read with a key other than the writing key: re-issue the cookie. */
  readonly rotated: boolean
}

/** What a write needs besides the session state. */
export interface WriteContext {
  /** The session as loaded, or null for a session that is new in this request. */
  readonly loaded: LoadedSession | null
  /** Flash values to persist: unconsumed incoming ones plus this request's. */
  readonly flash: Bag
  /** Replays of a conflicting write allowed before giving up. */
  readonly retries: number
}

/**
 * Where sessions live. `kind` tells which; the methods are called by the manager only.
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
  /** The handle a cookie value would name, without loading it; null if it names none. */
  handleOf(value: string): string | null
  /**
   * Persists the state; returns the cookie value to send, or null when the session was destroyed
   * by another request meanwhile (nothing is written then).
   */
  write(state: SessionState, context: WriteContext): string | null | Promise<string | null>
  /**
   * Renewal (server storage): moves the loaded session to the state's new id, keeping the old
   * record for `graceMs` as a pointer to the new one. Returns the new cookie value, or null when the
   * session was destroyed meanwhile.
   */
  renew(state: SessionState, context: WriteContext, graceMs: number): Promise<string | null>
  /** Refreshes the last-active time only; returns the cookie value to send. */
  touch(state: SessionState, context: WriteContext): string | Promise<string>
  /** Deletes a stored session by handle (no-op for cookie storage). */
  destroy(handle: string): void | Promise<void>
}

/** Payload kept in a server record's `data`. */
export interface StoredPayload {
  /** Data. */
  d: Bag
  /** Flash values. */
  f?: Bag
  /** The session's own idle timeout, seconds. */
  m?: number
  /** When the id was last given, epoch ms (absent: the record's createdAt). */
  n?: number
  /** Set on an old record during a renewal grace window: the handle of the renewed record. */
  r?: string
}

/** Type guard for a plain object. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
