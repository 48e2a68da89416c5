/**
 * Contracts between the core and its pluggable parts: codecs (stateless cookie storage),
 * serializers and server-side stores. Type-only; re-exported from `sessionware`.
 *
 * @module
 */

import type { SessionDecodeError } from '../errors.ts'

/** The shape of session data: string keys, JSON-serialisable values (with the default serializer). */
export type SessionData = Record<string, unknown>

/**
 * Declares the application's session types once, for every `getSession`, `newSession`,
 * `createSessions` and framework accessor (`req.session`, `ctx.session`, `c.get('session')`, …)
 * that is not given types explicitly. Empty by default: data and flash are {@link SessionData}.
 *
 * @example
 * ```ts
 * declare module 'sessionware' {
 *   interface Register {
 *     data: { user?: string; visits?: number }
 *     flash: { notice: string }
 *   }
 * }
 * ```
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled in by the application's declaration merging
export interface Register {}

/** The session data type declared in {@link Register} (`data`), else {@link SessionData}. */
export type RegisteredData = Register extends { data: infer Data extends SessionData }
  ? Data
  : SessionData

/** The flash type declared in {@link Register} (`flash`), else `Data`. */
export type RegisteredFlash<Data extends SessionData = RegisteredData> = Register extends {
  flash: infer Flash extends SessionData
}
  ? Flash
  : Data

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
   * Decodes a cookie value. Throws {@link SessionDecodeError} with reason `malformed`, `tampered`,
   * `unknown-key` or, for a codec with an age check of its own (fernet's `ttl`, itsdangerous'
   * `maxAge`), `expired`; never any other error.
   */
  decode(value: string): DecodedCookie
  /**
   * False when `decode` depends on the time (an age check of the codec's own): cookie storage then
   * never serves the value from its decode cache, so an aged value is refused on time. Absent:
   * true.
   */
  readonly cacheable?: boolean
  /**
   * True when every value `encode` returns is made of characters `encodeURIComponent` leaves as
   * they are (`A`–`Z`, `a`–`z`, `0`–`9`, `-_.!~*'()`), as base64url tokens are: the Set-Cookie
   * writer then does not scan each new value for characters to escape (with the default `'uri'`
   * cookie encoding). A codec that sets it and still writes another character sends it unescaped:
   * a `;` or a space would end the value and let the rest read as cookie attributes, so set it only
   * for an alphabet that cannot hold them. Absent: false, every value is scanned.
   */
  readonly uriSafe?: boolean
}

/** What {@link CookieCodec.decode} returns. */
export interface DecodedCookie {
  /** The serialized payload that {@link CookieCodec.encode} was given. */
  readonly payload: string
  /** True when a key other than the first (the writing key) opened the value. */
  readonly rotated: boolean
}

/**
 * Turns a value into text and back. The default, {@link jsonSerializer}, is JSON whose parser
 * drops `__proto__` keys (also `\u`-escaped) at any depth, so decoded data cannot change a
 * prototype, and keeps every other key (`constructor` and `prototype` are ordinary data). Server
 * storage calls it once per data or flash value (each is its own store field).
 */
export interface Serializer {
  /** Serializes a plain object. */
  stringify(value: unknown): string
  /** Parses text produced by `stringify`; throws on malformed input. */
  parse(text: string): unknown
}

/** The store contract version this core speaks. A store declares the version it implements. */
export const STORE_CONTRACT_VERSION = 2

/**
 * A session's stored fields: field name to text. The core names the fields and encodes each value
 * with the serializer on its own: `d:<key>` holds a data value, `f:<key>` a flash value, and names
 * without a colon hold the core's metadata (`m` the session's own idle timeout, `n` when the id was
 * last given, `p` the cookie mode, `u` and `a` the client's User-Agent and address). A store keeps names and texts exactly as given (any Unicode,
 * no NUL) and never interprets them, except `clearPrefix` in a {@link SessionPatch}.
 */
export type SessionFields = Readonly<Record<string, string>>

/**
 * One stored session. Times are epoch milliseconds. `id` is the store key: by default a hash of the
 * id in the cookie, never the cookie value itself.
 */
export interface SessionRecord {
  /** Store key. */
  readonly id: string
  /** The session's fields; see {@link SessionFields}. */
  readonly fields: SessionFields
  /** Monotonic version, bumped by every write. A new record has version 1. */
  readonly version: number
  /** When the session was created (absolute-timeout anchor). */
  readonly createdAt: number
  /** When the session was last active (idle-timeout anchor). */
  readonly lastActiveAt: number
  /** When the store may forget the record: the earlier of the idle and absolute deadlines. */
  readonly expiresAt: number
  /** The owner (a user id), indexed by stores with `capabilities.subjectIndex`. */
  readonly subject?: string | undefined
  /**
   * Set on a record whose session moved to another id (renewal): the store key of the new record.
   * Such a record is a forwarding pointer: it has no fields, no subject, and is never patched.
   */
  readonly movedTo?: string | undefined
}

/**
 * A field-level change to one record, applied atomically to whatever the record holds at that
 * moment (no read before it, no version to match): `clearPrefix` first, then `unset`, then `set`,
 * then the subject and the times. The version is bumped by one.
 */
export interface SessionPatch {
  /** Fields to write (may be empty). */
  readonly set: SessionFields
  /** Fields to remove (may be empty; absent names are ignored). */
  readonly unset: readonly string[]
  /** Removes every field whose name starts with this text before `set` is applied. */
  readonly clearPrefix?: string | undefined
  /** A new subject; `null` removes it; `undefined` (or absent) leaves it as stored. */
  readonly subject?: string | null | undefined
  /** The new last-active time. */
  readonly lastActiveAt: number
  /** The new expiry. */
  readonly expiresAt: number
}

/** The outcome of {@link SessionStore.patch}. */
export type PatchResult =
  | { readonly ok: true; readonly version: number }
  /** Absent or expired: nothing was written (a destroyed session is never resurrected). */
  | { readonly ok: false; readonly reason: 'gone' }
  /** A forwarding pointer: nothing was written; the session now lives at `movedTo`. */
  | { readonly ok: false; readonly reason: 'moved'; readonly movedTo: string }

/** The outcome of a conditional whole-record write ({@link SessionStore.create}, {@link SessionStore.replace}). */
export type WriteResult =
  | { readonly ok: true; readonly version: number }
  /** Version mismatch, or the record is gone (`current: null`: destroyed or expired meanwhile). */
  | { readonly ok: false; readonly reason: 'conflict'; readonly current: SessionRecord | null }
  /** `create()` found the id taken. */
  | { readonly ok: false; readonly reason: 'exists' }

/** What a store can do; the core and the README rely on these being true. */
export interface StoreCapabilities {
  /**
   * How {@link SessionStore.patch} is applied: `'server'`, merged by the backend in one round trip
   * (a Lua script, one SQL statement, in place in memory); `'compare-and-set'`, read by the store
   * and written back with compare-and-set, retried on conflict (a backend that cannot merge, such as
   * Memcached). Both are atomic: no concurrent change is lost.
   */
  readonly patch: 'server' | 'compare-and-set'
  /** The backend drops records at `expiresAt` by itself; otherwise `prune()` is needed. */
  readonly ttl: boolean
  /** `listBySubject`, `deleteBySubject` and `deleteIfSubject` are available and index-backed. */
  readonly subjectIndex: boolean
}

/**
 * A server-side session store (contract version 2). Every method may throw the client's own
 * error; the core wraps it in a `SessionStoreError`.
 */
export interface SessionStore {
  /** The contract version implemented: {@link STORE_CONTRACT_VERSION}. */
  readonly contractVersion: 2
  /** What this store can do. */
  readonly capabilities: StoreCapabilities
  /** The record (forwarding pointers included), or null when absent or past `expiresAt`. */
  get(id: string): Promise<SessionRecord | null>
  /** Insert-if-absent (an expired record counts as absent): never overwrites. Stores `record` with version 1. */
  create(record: SessionRecord): Promise<WriteResult>
  /**
   * Compare-and-set of the whole record: writes only if the stored, unexpired version equals
   * `expectedVersion`, storing `record` (fields, times, subject and `movedTo` exactly as given,
   * replacing all) with version `expectedVersion + 1`. Used for structural changes (renewal).
   */
  replace(record: SessionRecord, expectedVersion: number): Promise<WriteResult>
  /**
   * Applies `patch` atomically to the current record. Fails, writing nothing, when the record is
   * absent or expired (`gone`) or is a forwarding pointer (`moved`).
   */
  patch(id: string, patch: SessionPatch): Promise<PatchResult>
  /** Idempotent delete. */
  delete(id: string): Promise<void>
  /** Active (unexpired) records of a subject, newest activity first. */
  listBySubject?(subject: string): Promise<SessionRecord[]>
  /** Deletes every record of a subject, optionally all but one; returns how many were deleted. */
  deleteBySubject?(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes the record only if it belongs to `subject`, atomically; returns whether it did. */
  deleteIfSubject?(id: string, subject: string): Promise<boolean>
  /** Deletes records whose `expiresAt` is at or before `now`; returns how many were deleted. */
  prune?(now: number): Promise<number>
  /** Releases timers and handles the store itself opened (never the user's client). */
  close?(): Promise<void>
}
