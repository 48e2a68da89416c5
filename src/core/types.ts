/**
 * Contracts between the core and its pluggable parts: codecs (stateless cookie storage),
 * serializers and server-side stores. Type-only; re-exported from `sessionware`.
 *
 * @module
 */

/** The shape of session data: string keys, JSON-serialisable values (with the default serializer). */
export type SessionData = Record<string, unknown>

/**
 * Turns session payloads into cookie values and back, for stateless cookie storage. A codec is
 * synchronous and stateless apart from its keys.
 *
 * Keys: the first key writes, every key reads. A value read with any key but the first is reported
 * as `rotated`, and the core re-issues the cookie with the first key on that response.
 */
export interface CookieCodec {
  /** A short name for messages and the CLI, such as `'sealed'`. */
  readonly name: string
  /** Encodes a serialized payload into a cookie-safe value (RFC 6265 cookie-octets only). */
  encode(payload: string): string
  /**
   * Decodes a cookie value. Throws {@link SessionDecodeError} with reason `malformed`, `tampered`
   * or `unknown-key`; never any other error.
   */
  decode(value: string): DecodedCookie
}

/** What {@link CookieCodec.decode} returns. */
export interface DecodedCookie {
  /** The serialized payload that {@link CookieCodec.encode} was given. */
  readonly payload: string
  /** True when a key other than the first (the writing key) opened the value. */
  readonly rotated: boolean
}

/**
 * Turns a value into text and back. The default is JSON whose parser drops `__proto__`,
 * `constructor` and `prototype` keys so decoded data cannot pollute prototypes.
 */
export interface Serializer {
  /** Serializes a plain object. */
  stringify(value: unknown): string
  /** Parses text produced by `stringify`; throws on malformed input. */
  parse(text: string): unknown
}

/** The store contract version this core speaks. A store declares the version it implements. */
export const STORE_CONTRACT_VERSION = 1

/**
 * One stored session. Times are epoch milliseconds. `id` is the store key: by default a hash of the
 * id in the cookie, never the cookie value itself.
 */
export interface SessionRecord {
  /** Store key. */
  readonly id: string
  /** Serialized payload (data and flash); opaque to the store. */
  readonly data: string
  /** Monotonic version, the compare-and-set token. A new record has version 1. */
  readonly version: number
  /** When the session was created (absolute-timeout anchor). */
  readonly createdAt: number
  /** When the session was last active (idle-timeout anchor). */
  readonly lastActiveAt: number
  /** When the store may forget the record: the earlier of the idle and absolute deadlines. */
  readonly expiresAt: number
  /** The owner (a user id), indexed by stores with `capabilities.subjectIndex`. */
  readonly subject?: string | undefined
}

/** The outcome of a conditional write. */
export type WriteResult =
  | { readonly ok: true; readonly version: number }
  /** Version mismatch, or the record is gone (`current: null`: destroyed or expired meanwhile). */
  | { readonly ok: false; readonly reason: 'conflict'; readonly current: SessionRecord | null }
  /** `create()` found the id taken. */
  | { readonly ok: false; readonly reason: 'exists' }

/** What a store can do; the core and the README rely on these being true. */
export interface StoreCapabilities {
  /** `update()` is a real compare-and-set. When false the core falls back to last-write-wins. */
  readonly atomic: boolean
  /** The backend drops records at `expiresAt` by itself; otherwise `prune()` is needed. */
  readonly ttl: boolean
  /** `listBySubject` and `deleteBySubject` are available and index-backed. */
  readonly subjectIndex: boolean
}

/**
 * A server-side session store (contract version 1). Every method may throw the client's own
 * error; the core wraps it in a `SessionStoreError`.
 */
export interface SessionStore {
  /** The contract version implemented: {@link STORE_CONTRACT_VERSION}. */
  readonly contractVersion: 1
  /** What this store can do. */
  readonly capabilities: StoreCapabilities
  /** The record, or null when absent or past `expiresAt`. */
  get(id: string): Promise<SessionRecord | null>
  /** Insert-if-absent: never overwrites. Stores `record` as given (version 1). */
  create(record: SessionRecord): Promise<WriteResult>
  /**
   * Compare-and-set: writes only if the stored version equals `expectedVersion`, storing
   * `record` with version `expectedVersion + 1`.
   */
  update(record: SessionRecord, expectedVersion: number): Promise<WriteResult>
  /** Bumps `lastActiveAt` and `expiresAt` only; never rewrites data or version. No-op if absent. */
  touch(id: string, lastActiveAt: number, expiresAt: number): Promise<void>
  /** Idempotent delete. */
  delete(id: string): Promise<void>
  /** Active (unexpired) records of a subject, newest activity first. */
  listBySubject?(subject: string): Promise<SessionRecord[]>
  /** Deletes every record of a subject, optionally all but one; returns how many were deleted. */
  deleteBySubject?(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes records whose `expiresAt` is at or before `now`; returns how many were deleted. */
  prune?(now: number): Promise<number>
  /** Releases timers and handles the store itself opened (never the user's client). */
  close?(): Promise<void>
}
