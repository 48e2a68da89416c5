/**
 * The {@link Session} object handed to application code. Exported from `sessionware`.
 *
 * @module
 */
import { SessionCommittedError, SessionConfigError, SessionInvalidatedError } from '../errors.ts'
import type { SessionData } from './types.ts'

/** One recorded mutation, replayed onto a newer version when a compare-and-set write conflicts. */
export type Operation =
  | readonly ['set', string, unknown]
  | readonly ['delete', string]
  | readonly ['clear']
  | readonly ['flash', string, unknown]
  | readonly ['consume', string]
  | readonly ['mark', string]
  | readonly ['markAll']
  | readonly ['subject', string | undefined]
  | readonly ['maxAge', number | undefined]

/** A null-prototype record: `__proto__` is an ordinary key there. */
export type Bag = Record<string, unknown>

/** Creates an empty null-prototype record. */
export function bag(from?: object): Bag {
  const out: Bag = Object.create(null)
  if (from) for (const [k, v] of Object.entries(from)) out[k] = v
  return out
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
  subject: string | undefined
  data: Bag
  flashIn: Bag
  flashOut: Bag | null
  ops: Operation[]
  changed: boolean
  invalidated: boolean
  regenerated: boolean
  committed: boolean
  /** Epoch ms at which the session expires, from the manager's timeouts. */
  deadline(state: SessionState): number
  /** True when this request will refresh the last-active time (a throttled touch is due). */
  touchDue(state: SessionState): boolean
  now(): number
  /** Gives the state a new id and handle (server storage); no-op for cookie storage. */
  rekey(state: SessionState): void
}

/**
 * Applies recorded operations to data and flash read from a newer stored version. Values named by
 * `mark` operations are taken from `latest` (the request's own view).
 */
export function replay(
  ops: readonly Operation[],
  data: Bag,
  flash: Bag,
  latest: Bag,
): { data: Bag; flash: Bag; subject?: [string | undefined]; maxAge?: [number | undefined] } {
  let subject: [string | undefined] | undefined
  let maxAge: [number | undefined] | undefined
  for (const op of ops) {
    switch (op[0]) {
      case 'set':
        data[op[1]] = op[2]
        break
      case 'delete':
        delete data[op[1]]
        break
      case 'clear':
        data = bag()
        break
      case 'flash':
        flash[op[1]] = op[2]
        break
      case 'consume':
        delete flash[op[1]]
        break
      case 'mark':
        if (op[1] in latest) data[op[1]] = latest[op[1]]
        else delete data[op[1]]
        break
      case 'markAll':
        data = bag(latest)
        break
      case 'subject':
        subject = [op[1]]
        break
      case 'maxAge':
        maxAge = [op[1]]
        break
    }
  }
  const out: ReturnType<typeof replay> = { data, flash }
  if (subject) out.subject = subject
  if (maxAge) out.maxAge = maxAge
  return out
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
   * An opaque, non-secret handle of the stored record (a hash of the id): safe to show, and to pass
   * to `sessions.revokeSession()`. `null` for cookie storage.
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
   * example a longer one for "remember me"); `undefined` uses the manager's. Stored with the
   * session.
   */
  get maxAge(): number | undefined {
    return this.#s.maxAge
  }

  set maxAge(seconds: number | undefined) {
    this.#writable()
    if (seconds !== undefined && !(typeof seconds === 'number' && seconds > 0)) {
      throw new SessionConfigError(`maxAge must be a positive number of seconds or undefined`)
    }
    this.#s.maxAge = seconds
    this.#record(['maxAge', seconds])
  }

  /**
   * Seconds left before the session expires (idle or absolute, whichever comes first), counting
   * this request's activity when the response will record it (a change, or a due touch).
   */
  get timeLeft(): number {
    const s = this.#s
    const now = s.now()
    const refreshed = s.changed || s.touchDue(s)
    const left = (s.deadline(refreshed ? { ...s, lastActiveAt: now } : s) - now) / 1000
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
    this.#record(['subject', this.#s.subject])
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
    this.#record(['set', key, value])
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
    this.#record(['delete', key])
    return true
  }

  /** Removes every value (flash values stay). */
  clear(): void {
    this.#writable()
    this.#s.data = bag()
    this.#record(['clear'])
  }

  /** How many keys hold a value. */
  get size(): number {
    return Object.keys(this.#s.data).length
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
   * have been), so it is saved. On a concurrent-write conflict the named key (or the whole data)
   * from this request wins.
   */
  markChanged(key?: keyof Data & string): void {
    this.#writable()
    this.#record(key === undefined ? ['markAll'] : ['mark', key])
  }

  /**
   * Stores a flash value: readable exactly once, with {@link Session.getFlash}, on a later request.
   */
  flash<K extends keyof Flash & string>(key: K, value: Flash[K]): void {
    this.#writable()
    this.#s.flashOut ??= bag()
    this.#s.flashOut[key] = value
    this.#record(['flash', key, value])
  }

  /** Reads and removes a flash value set by an earlier request. */
  getFlash<K extends keyof Flash & string>(key: K): Flash[K] | undefined {
    if (!(key in this.#s.flashIn)) return undefined
    const value = this.#s.flashIn[key] as Flash[K]
    if (!this.#s.committed && !this.#s.invalidated) {
      delete this.#s.flashIn[key]
      this.#record(['consume', key])
    }
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
    if (this.#s.committed) throw new SessionCommittedError()
    this.#s.invalidated = true
    this.#s.data = bag()
    this.#s.flashIn = bag()
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
    if (this.#s.invalidated) throw new SessionInvalidatedError()
    if (this.#s.committed) throw new SessionCommittedError()
  }

  #record(op: Operation): void {
    this.#s.ops.push(op)
    this.#s.changed = true
  }
}
