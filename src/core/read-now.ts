/**
 * A store's synchronous read and patch: a store that holds its records in the process (the memory
 * store) lends them to server storage without a promise and without a copy, and applies a patch
 * at once, so loading or saving a session costs no store round trip through the microtask queue
 * (and a response waits for no asynchronous commit). Internal: not part of the store contract,
 * and a store that does not offer it is called through `get` and `patch` as always.
 *
 * @module
 */
import type { PatchResult, SessionPatch, SessionStore } from './types.ts'

/** A record as the store holds it, lent for a synchronous read. */
export interface LentRecord {
  readonly id: string
  readonly fields: ReadonlyMap<string, string>
  readonly version: number
  readonly createdAt: number
  readonly lastActiveAt: number
  readonly expiresAt: number
  readonly subject: string | undefined
  readonly movedTo: string | undefined
}

/** What a store offers under {@link READ_NOW}. */
export interface ReadNow {
  /**
   * The store's own `get`. The synchronous read is used only while `store.get` is this very
   * function: a wrapper that replaces `get` (a spread copy, instrumentation) is always called.
   */
  readonly get: SessionStore['get']
  /**
   * What `get(id)` would give, lent: the record itself, to be read at once, never kept and never
   * changed (the store changes it in place on the next patch). Null when absent or expired.
   */
  read(id: string): LentRecord | null
  /**
   * The store's own `patch`; {@link ReadNow.patchNow} is used only while `store.patch` is this very
   * function.
   */
  readonly patch: SessionStore['patch']
  /** What `patch(id, patch)` would resolve to, done at once (it throws where `patch` rejects). */
  patchNow(id: string, patch: SessionPatch): PatchResult
}

/** The non-enumerable property under which a store offers {@link ReadNow}. */
export const READ_NOW: unique symbol = Symbol.for('sessionware.readNow') as never

/** The store's synchronous patch, when it offers one and its `patch` is still its own. */
export function patchNowOf(store: SessionStore): ReadNow | undefined {
  const readNow = (store as { [READ_NOW]?: ReadNow })[READ_NOW]
  return readNow !== undefined && readNow.patch === store.patch ? readNow : undefined
}

/** The store's synchronous read, when it offers one and its `get` is still its own. */
export function readNowOf(store: SessionStore): ReadNow | undefined {
  const readNow = (store as { [READ_NOW]?: ReadNow })[READ_NOW]
  return readNow !== undefined && readNow.get === store.get ? readNow : undefined
}
