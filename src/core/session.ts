/**
 * The {@link Session} object handed to application code. Exported from `sessionware`.
 *
 * @module
 */

import {
  SessionCommittedError,
  SessionConfigError,
  SessionInvalidatedError,
  SessionReadOnlyError,
  SessionReplacedError,
} from '../errors.ts'
import { KEY_ORDER } from '../lib/python-json.ts'
import { type Changes, noChanges } from './changes.ts'
import type { ClientInfo } from './client.ts'
import type { CommitWatcher } from './request.ts'
import type { SessionData } from './types.ts'

export type { Changes } from './changes.ts'

/** The longest `maxAge` accepted: about 68 years, so every deadline stays a safe, finite time. */
const MAX_SECONDS = 2_147_483_647

/** A record that inherits nothing: `__proto__` and `constructor` are ordinary keys there. */
export type Bag = Record<string, unknown>

/**
 * The prototype of every {@link Bag}: empty, frozen, itself without a prototype, so a bag inherits
 * nothing. A bag is made with `new` rather than `Object.create(null)`, which V8 makes a hash table
 * from the start: this way it keeps fast properties (a map shared by bags of the same keys).
 */
const Empty = function Empty() {} as unknown as new () => Bag
;(Empty as unknown as { prototype: object }).prototype = Object.freeze(Object.create(null))

/** Creates an empty record that inherits nothing, with the own enumerable properties of `from`. */
export function bag(from?: object): Bag {
  const out = new Empty()
  if (from) {
    for (const key of Object.keys(from)) out[key] = (from as Bag)[key]
    // The key order of Python-written data (integer-like keys), for writing it back byte for byte.
    const order = (from as { [KEY_ORDER]?: unknown })[KEY_ORDER]
    if (order !== undefined) Object.defineProperty(out, KEY_ORDER, { value: order, writable: true })
  }
  return out
}

/**
 * The incoming flash values of a session that has none: one shared, frozen, empty record. Flash
 * values are only ever removed from what came in (a key it holds), so none is written to it.
 */
export const NO_FLASH: Bag = Object.freeze(bag())

/** `from` as a null-prototype record, or {@link NO_FLASH} when it holds nothing. */
export function flashBag(from: object): Bag {
  for (const _ in from) return bag(from)
  return NO_FLASH
}

/**
 * Mutable state shared by a {@link Session} and the manager that loads and commits it. Internal:
 * not part of the public API.
 */
export interface SessionState {
  id: string | null
  handle: string | null
  isNew: boolean
  createdAt: number
  lastActiveAt: number
  /** When the id was last given (creation, regenerate or renewal), epoch ms. */
  renewedAt: number
  maxAge: number | undefined
  /** This session's cookie mode; `undefined`: the manager's `cookie.persistent`. */
  persistent: boolean | undefined
  subject: string | undefined
  data: Bag
  flashIn: Bag
  flashOut: Bag | null
  /** What changed; null until the first change (a read-only request allocates none). */
  changes: Changes | null
  changed: boolean
  invalidated: boolean
  regenerated: boolean
  /**
   * Writes are over: `true` once committed (or the response started), `'upgrade'` for the
   * read-only session of a WebSocket upgrade.
   */
  committed: boolean | 'upgrade'
  /** `newSession()` replaced this session in its request: writes would be lost, so they throw. */
  replaced: boolean
  /** The client as the loaded record keeps it (option `clientInfo`). */
  storedClient: ClientInfo | undefined
  /** The client to write with the record: set by the commit when `clientInfo` is on. */
  client: ClientInfo | undefined
  /** Told at the first write that the commit may have to wait for the store; then cleared. */
  watcher: CommitWatcher | null
  /**
   * Epoch ms at which the session expires, from the manager's timeouts; counted from
   * `lastActiveAt` when given (the time a commit records), else from the state's own.
   */
  deadline(
    state: Pick<SessionState, 'maxAge' | 'lastActiveAt' | 'createdAt'>,
    lastActiveAt?: number,
  ): number
  /**
   * True when this request will refresh the last-active time (a throttled touch is due), at `now`
   * (default: the clock's time).
   */
  touchDue(state: SessionState, now?: number): boolean
  /** The effective cookie mode. */
  isPersistent(state: SessionState): boolean
  now(): number
  /** Gives the state a new id and handle (server storage); no-op for cookie storage. */
  rekey(state: SessionState): void
}

/**
 * A session: a typed, dict-like object. `Data` types the values, `Flash` the flash values.
 *
 * Changes are tracked; the session is saved once, before the response headers go out, and only when
 * something changed (or a throttled touch is due). Values must survive the serializer (JSON by
 * default). A value mutated in place (`session.get('cart').push(x)`) is not seen: call
 * {@link Session.markChanged} with its key.
 */
export class Session<Data extends SessionData = SessionData, Flash extends SessionData = Data> {
  readonly #s: SessionState

  /** @internal Sessions are created by the manager; use `getSession(request)`. */
  constructor(state: SessionState) {
    this.#s = state
  }

  /**
   * The session id: for server storage the random id in the cookie (a new one after
   * `regenerate()`); `null` for cookie storage, which has no id.
   */
  get id(): string | null {
    return this.#s.id
  }

  /**
   * An opaque handle of the stored record (a hash of the id): safe to show, and to pass to
   * `sessions.revokeSession()`. `null` for cookie storage. With `hashIds: false` (the Python
   * layouts) it is the id itself: then never show or log it.
   */
  get handle(): string | null {
    return this.#s.handle
  }

  /** True when the request brought no usable session and this one has not been saved yet. */
  get isNew(): boolean {
    return this.#s.isNew
  }

  /** When the session was created. */
  get createdAt(): Date {
    return new Date(this.#s.createdAt)
  }

  /** When the session was last recorded as active. */
  get lastActiveAt(): Date {
    return new Date(this.#s.lastActiveAt)
  }

  /**
   * This session's own idle timeout in seconds, overriding the manager's `idleTimeout` (for
   * example a longer one for "remember me"); `undefined` uses the manager's. A positive, finite
   * number of seconds. Stored with the session.
   */
  get maxAge(): number | undefined {
    return this.#s.maxAge
  }

  set maxAge(seconds: number | undefined) {
    this.#writable()
    if (
      seconds !== undefined &&
      !(typeof seconds === 'number' && seconds > 0 && seconds <= MAX_SECONDS)
    ) {
      throw new SessionConfigError(
        `maxAge must be a positive, finite number of seconds (at most ${MAX_SECONDS}) or undefined. Received: ${String(seconds)}`,
      )
    }
    this.#s.maxAge = seconds
    this.#changes().maxAge = true
    this.#s.changed = true
  }

  /**
   * Whether this session's cookie outlives the browser session ("remember me"): `true` sets
   * `Max-Age`/`Expires` to the session's deadline, `false` makes a browser-session cookie. Reads the
   * manager's `cookie.persistent` until set; stored with the session, so later responses keep it.
   * Timeouts are enforced on the server either way.
   */
  get persistent(): boolean {
    return this.#s.isPersistent(this.#s)
  }

  set persistent(value: boolean) {
    this.#writable()
    if (typeof value !== 'boolean') throw new SessionConfigError('persistent must be a boolean')
    this.#s.persistent = value
    this.#changes().persistent = true
    this.#s.changed = true
  }

  /**
   * Seconds left before the session expires (idle or absolute, whichever comes first), counting
   * this request's activity when the response will record it (a change, or a due touch).
   */
  get timeLeft(): number {
    const s = this.#s
    const now = s.now()
    const refreshed = s.changed || s.touchDue(s)
    const left = (s.deadline(s, refreshed ? now : s.lastActiveAt) - now) / 1000
    return Math.max(left, 0)
  }

  /** True when something changed that will be saved. */
  get changed(): boolean {
    return this.#s.changed
  }

  /** True after {@link Session.invalidate}. */
  get invalidated(): boolean {
    return this.#s.invalidated
  }

  /** The subject (user id) the session belongs to, for listing and revoking a user's sessions. */
  get subject(): string | undefined {
    return this.#s.subject
  }

  /** Sets or clears the subject (user id); server stores with a subject index index it. */
  setSubject(subject: string | null): void {
    this.#writable()
    if (subject !== null && (typeof subject !== 'string' || subject === '')) {
      throw new SessionConfigError('subject must be a non-empty string or null')
    }
    this.#s.subject = subject ?? undefined
    this.#changes().subject = true
    this.#s.changed = true
  }

  /** The value stored under `key`. */
  get<K extends keyof Data & string>(key: K): Data[K] | undefined {
    return this.#s.data[key] as Data[K] | undefined
  }

  /** Stores `value` under `key`; `undefined` deletes the key. */
  set<K extends keyof Data & string>(key: K, value: Data[K]): this {
    this.#writable()
    if (value === undefined) {
      this.delete(key)
      return this
    }
    this.#s.data[key] = value
    this.#key(key)
    return this
  }

  /**
   * Stores several values at once (`undefined` deletes a key), as one change: the seeds'
   * `session.update(mapping)`. Like `delete`, an `undefined` for a key the session does not hold
   * changes nothing.
   */
  update(values: Partial<Data>): this {
    this.#writable()
    for (const key of Object.keys(values)) {
      const value = (values as Record<string, unknown>)[key]
      if (value !== undefined) this.#s.data[key] = value
      else if (key in this.#s.data) delete this.#s.data[key]
      else continue // deleting what this request does not see is no change
      this.#key(key)
    }
    return this
  }

  /** True when `key` holds a value. */
  has(key: keyof Data & string): boolean {
    return key in this.#s.data
  }

  /** Deletes `key`; returns whether it held a value. */
  delete(key: keyof Data & string): boolean {
    this.#writable()
    if (!(key in this.#s.data)) return false
    delete this.#s.data[key]
    this.#key(key)
    return true
  }

  /** Takes the value under `key` out of the session: returns it and deletes the key. */
  pop<K extends keyof Data & string>(key: K): Data[K] | undefined {
    this.#writable()
    if (!(key in this.#s.data)) return undefined
    const value = this.#s.data[key] as Data[K]
    delete this.#s.data[key]
    this.#key(key)
    return value
  }

  /** Removes every value (flash values stay). */
  clear(): void {
    this.#writable()
    this.#s.data = bag()
    this.#changes().all = true
    this.#s.changed = true
  }

  /** How many keys hold a value. */
  get size(): number {
    return Object.keys(this.#s.data).length
  }

  /** True when no key holds a value. */
  get isEmpty(): boolean {
    for (const _ in this.#s.data) return false
    return true
  }

  /** The keys. */
  keys(): IterableIterator<keyof Data & string> {
    return Object.keys(this.#s.data)[Symbol.iterator]() as IterableIterator<keyof Data & string>
  }

  /** The values. */
  values(): IterableIterator<Data[keyof Data]> {
    return Object.values(this.#s.data)[Symbol.iterator]() as IterableIterator<Data[keyof Data]>
  }

  /** `[key, value]` pairs. */
  entries(): IterableIterator<[keyof Data & string, Data[keyof Data]]> {
    return Object.entries(this.#s.data)[Symbol.iterator]() as IterableIterator<
      [keyof Data & string, Data[keyof Data]]
    >
  }

  /** `[key, value]` pairs, so `for (const [k, v] of session)` works. */
  [Symbol.iterator](): IterableIterator<[keyof Data & string, Data[keyof Data]]> {
    return this.entries()
  }

  /** A plain copy of the data. */
  toJSON(): Partial<Data> {
    return { ...this.#s.data } as Partial<Data>
  }

  /**
   * Declares that the value under `key` was mutated in place (or, with no key, that any value may
   * have been), so it is saved. Saving is per key: a concurrent request's change to another key is
   * kept; without a key, this request's whole data replaces the stored data.
   */
  markChanged(key?: keyof Data & string): void {
    this.#writable()
    if (key === undefined) this.#changes().all = true
    else this.#changes().keys.add(key)
    this.#s.changed = true
  }

  /**
   * Stores a flash value: readable exactly once, with {@link Session.getFlash}, on a later request.
   */
  flash<K extends keyof Flash & string>(key: K, value: Flash[K]): void {
    this.#writable()
    this.#s.flashOut ??= bag()
    this.#s.flashOut[key] = value
    this.#changes().flash.add(key)
    this.#s.changed = true
  }

  /**
   * Reads and removes a flash value set by an earlier request.
   *
   * @throws {SessionCommittedError} after the commit, when a value waits: it could no longer be
   * consumed and would show again ({@link SessionReadOnlyError} on a WebSocket upgrade).
   */
  getFlash<K extends keyof Flash & string>(key: K): Flash[K] | undefined {
    if (!(key in this.#s.flashIn)) return undefined
    if (this.#s.invalidated) return undefined
    this.#writable()
    const value = this.#s.flashIn[key] as Flash[K]
    delete this.#s.flashIn[key]
    this.#changes().flash.add(key)
    this.#s.changed = true
    return value
  }

  /** True when a flash value from an earlier request waits under `key`. */
  hasFlash(key: keyof Flash & string): boolean {
    return key in this.#s.flashIn
  }

  /**
   * Ends the session: the stored record is deleted and the cookie expired when the response goes
   * out. Reads then see an empty session; writes throw `SessionInvalidatedError`. Use
   * `newSession(request)` for a fresh one in the same request.
   */
  invalidate(): void {
    if (this.#s.replaced) throw new SessionReplacedError()
    if (this.#s.committed) throw lockedError(this.#s)
    this.#s.watcher?.mayWait()
    this.#s.invalidated = true
    this.#s.data = bag()
    this.#s.flashIn = NO_FLASH
    this.#s.flashOut = null
  }

  /**
   * Gives the session a new identity, keeping its data (call it after login or any privilege
   * change: fixation-safe). The old stored record is deleted when the response goes out. With
   * cookie storage the cookie is re-issued.
   */
  regenerate(): void {
    this.#writable()
    this.#s.rekey(this.#s)
    this.#s.regenerated = true
    this.#s.changed = true
  }

  #writable(): void {
    const s = this.#s
    if (s.replaced) throw new SessionReplacedError()
    if (s.invalidated) throw new SessionInvalidatedError()
    if (s.committed) throw lockedError(s)
    s.watcher?.mayWait()
  }

  #changes(): Changes {
    this.#s.changes ??= noChanges()
    return this.#s.changes
  }

  #key(key: string): void {
    this.#changes().keys.add(key)
    this.#s.changed = true
  }
}

/** The error a write to a locked session throws. */
function lockedError(state: SessionState): SessionCommittedError | SessionReadOnlyError {
  return state.committed === 'upgrade' ? new SessionReadOnlyError() : new SessionCommittedError()
}
