/**
 * An in-process session store: a bounded map (CLOCK eviction, an LRU approximation) with TTL
 * expiry and a subject index. For tests, development and single-process servers; sessions are lost
 * when the process exits and are not shared between processes.
 *
 * Subpath: `sessionware/stores/memory`.
 *
 * @module
 */

import { READ_NOW, type ReadNow } from '../core/read-now.ts'
import { bag } from '../core/session.ts'
import type {
  PatchResult,
  SessionFields,
  SessionPatch,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  WriteResult,
} from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { clockOption, intervalOption } from '../lib/options.ts'
import { unrefTimer } from '../lib/timers.ts'

/**
 * A record as the store holds it, with its CLOCK bit (one object per record, so a read follows one
 * pointer from the map): its fields in a Map, changed in place by a patch.
 */
interface Stored {
  readonly id: string
  fields: Map<string, string>
  version: number
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  subject: string | undefined
  movedTo: string | undefined
  /** Used since the eviction hand last passed it (CLOCK's second chance). */
  used: boolean
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most records the store holds (a count, positive integer). Inserting one more evicts a
   * record not used recently (CLOCK, an approximation of least-recently-used: records are
   * considered in insertion order, and one used since it was last considered gets a second
   * chance); `get`, `replace` and `patch` count as use.
   *
   * @default 10000
   */
  maxEntries?: number
  /**
   * Seconds between sweeps that drop expired records (a positive number; fractions allowed, at
   * most 2147483). `0` disables the sweep: expired records are then dropped only when read or
   * evicted, and `capabilities.ttl` is false. The sweep timer never keeps the process alive.
   *
   * @default 60
   */
  sweepInterval?: number
  /**
   * The current time in epoch milliseconds. Inject one to move time in tests.
   *
   * @default Date.now
   */
  clock?: () => number
}

/** The store {@link createMemoryStore} returns: every optional store method is present. */
export interface MemoryStore extends SessionStore {
  /** How many records the store holds, including expired ones not yet swept. */
  readonly size: number
  /** Active records of a subject, newest `lastActiveAt` first. */
  listBySubject(subject: string): Promise<SessionRecord[]>
  /** Deletes the subject's records (all but `exceptId`); returns how many active ones it deleted. */
  deleteBySubject(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes the record if it is active and belongs to `subject`; returns whether it did. */
  deleteIfSubject(id: string, subject: string): Promise<boolean>
  /** Deletes records whose `expiresAt` is at or before `now` (epoch ms); returns the count. */
  prune(now: number): Promise<number>
  /** Stops the sweep timer. Records stay readable. */
  close(): Promise<void>
}

/**
 * Creates an in-memory session store.
 *
 * Records are copied in and out, so changing an object passed to or returned by the store never
 * changes what it holds. Every write is synchronous under the hood, hence atomic: `create` is
 * insert-if-absent, `replace` a real compare-and-set, and `patch` changes the record in place
 * (`capabilities.patch` is `'server'`).
 *
 * @example
 * ```ts
 * import { createMemoryStore } from 'sessionware/stores/memory'
 *
 * const store = createMemoryStore({ maxEntries: 50_000 })
 * ```
 *
 * @throws {SessionConfigError} when an option is invalid.
 */
export function createMemoryStore(options: MemoryStoreOptions = {}): MemoryStore {
  const maxEntries = options.maxEntries ?? 10_000
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
    throw new SessionConfigError(
      `createMemoryStore: maxEntries must be a positive integer, got ${String(maxEntries)}`,
    )
  }
  const sweepInterval = intervalOption(
    'createMemoryStore',
    'sweepInterval',
    options.sweepInterval ?? 60,
  )
  const clock = clockOption('createMemoryStore', options.clock ?? Date.now)

  /**
   * Records with a "used since the eviction hand passed" bit: eviction is the CLOCK approximation
   * of LRU (a used record gets a second chance and moves to the end; an unused one goes). Using a
   * record only sets its bit: re-inserting a key on every read (exact LRU with a Map) costs V8 a
   * scan of the deleted entries, tens of microseconds per read with 10,000 records (measured).
   */
  const records = new Map<string, Stored>()
  const subjects = new Map<string, Set<string>>()

  const index = (subject: string | undefined, id: string): void => {
    if (subject === undefined) return
    const ids = subjects.get(subject)
    if (ids) ids.add(id)
    else subjects.set(subject, new Set([id]))
  }
  const unindex = (subject: string | undefined, id: string): void => {
    if (subject === undefined) return
    const ids = subjects.get(subject)
    if (!ids) return
    ids.delete(id)
    if (ids.size === 0) subjects.delete(subject)
  }
  /** Moves a record's index entry when its subject changes. */
  const reindex = (stored: Stored, subject: string | undefined): void => {
    if (stored.subject === subject) return
    unindex(stored.subject, stored.id)
    stored.subject = subject
    index(subject, stored.id)
  }
  /** Evicts until the bound holds: unused records first, in insertion order. */
  const evict = (): void => {
    while (records.size > maxEntries) {
      const first = records.entries().next()
      if (first.done) return
      const [id, stored] = first.value
      if (stored.used) {
        stored.used = false
        records.delete(id)
        records.set(id, stored)
      } else remove(id)
    }
  }
  const remove = (id: string): void => {
    const stored = records.get(id)
    if (!stored) return
    records.delete(id)
    unindex(stored.subject, id)
  }
  /** The live record, or undefined; an expired one is dropped on the way. */
  const live = (id: string, now: number): Stored | undefined => {
    const stored = records.get(id)
    if (stored === undefined) return undefined
    if (stored.expiresAt <= now) {
      remove(id)
      return undefined
    }
    return stored
  }
  const prune = (now: number): number => {
    let removed = 0
    for (const [id, stored] of records) {
      if (stored.expiresAt <= now) {
        remove(id)
        removed++
      }
    }
    return removed
  }

  let timer: ReturnType<typeof setInterval> | undefined
  if (sweepInterval > 0) {
    timer = setInterval(() => prune(clock()), sweepInterval * 1000)
    unrefTimer(timer)
  }

  /** Applies a patch at once (`patch`, and server storage's synchronous write). */
  const patchNow = (id: string, patch: SessionPatch): PatchResult => {
    const stored = live(id, clock())
    if (stored === undefined) return { ok: false, reason: 'gone' }
    if (stored.movedTo !== undefined) return { ok: false, reason: 'moved', movedTo: stored.movedTo }
    const { fields } = stored
    const prefix = patch.clearPrefix
    if (prefix !== undefined) {
      for (const name of fields.keys()) if (name.startsWith(prefix)) fields.delete(name)
    }
    for (const name of patch.unset) fields.delete(name)
    for (const name of Object.keys(patch.set)) fields.set(name, patch.set[name] as string)
    if (patch.subject !== undefined) reindex(stored, patch.subject ?? undefined)
    stored.lastActiveAt = patch.lastActiveAt
    stored.expiresAt = patch.expiresAt
    stored.version++
    stored.used = true
    return { ok: true, version: stored.version }
  }

  const capabilities: StoreCapabilities = Object.freeze({
    patch: 'server',
    ttl: sweepInterval > 0,
    subjectIndex: true,
  })

  const store: MemoryStore = {
    contractVersion: 2,
    capabilities,
    get size() {
      return records.size
    },

    async get(id) {
      const stored = live(id, clock())
      if (stored === undefined) return null
      stored.used = true
      return copyOut(stored)
    },

    async create(record): Promise<WriteResult> {
      if (live(record.id, clock())) return { ok: false, reason: 'exists' }
      remove(record.id) // an expired record of the same id, with its index entry
      const stored = copyIn(record, 1)
      records.set(stored.id, stored)
      index(stored.subject, stored.id)
      evict()
      return { ok: true, version: 1 }
    },

    async replace(record, expectedVersion): Promise<WriteResult> {
      const stored = live(record.id, clock())
      if (stored === undefined) return { ok: false, reason: 'conflict', current: null }
      if (stored.version !== expectedVersion) {
        return { ok: false, reason: 'conflict', current: copyOut(stored) }
      }
      const next = copyIn(record, expectedVersion + 1)
      reindex(stored, next.subject)
      next.used = true
      records.set(next.id, next) // the same key: its place in the eviction order stays
      return { ok: true, version: next.version }
    },

    async patch(id, patch): Promise<PatchResult> {
      return patchNow(id, patch)
    },

    async delete(id) {
      remove(id)
    },

    async listBySubject(subject) {
      const ids = subjects.get(subject)
      if (!ids) return []
      const now = clock()
      const found: SessionRecord[] = []
      for (const id of [...ids]) {
        const stored = live(id, now)
        if (stored) found.push(copyOut(stored))
      }
      return found.sort((a, b) => b.lastActiveAt - a.lastActiveAt)
    },

    async deleteBySubject(subject, deleteOptions) {
      const ids = subjects.get(subject)
      if (!ids) return 0
      const now = clock()
      let deleted = 0
      for (const id of [...ids]) {
        if (id === deleteOptions?.exceptId) continue
        // An expired record goes too, but only active sessions count as revoked.
        if (live(id, now)) {
          remove(id)
          deleted++
        }
      }
      return deleted
    },

    async deleteIfSubject(id, subject) {
      const stored = live(id, clock())
      if (stored === undefined || stored.subject !== subject) return false
      remove(id)
      return true
    },

    async prune(now) {
      return prune(now)
    },

    async close() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
  }
  // Server storage reads a record synchronously and without a copy (see read-now.ts): the same
  // answer as `get`, with no promise per request. Not enumerable, so a `{ ...store }` wrapper does
  // not carry it past its own `get`.
  const readNow: ReadNow = {
    get: store.get,
    patch: store.patch,
    patchNow,
    read(id) {
      const stored = live(id, clock())
      if (stored === undefined) return null
      stored.used = true
      return stored
    },
  }
  Object.defineProperty(store, READ_NOW, { value: readNow })
  return store
}

/** The store's own copy of a record, with `version`. */
function copyIn(record: SessionRecord, version: number): Stored {
  const fields = new Map<string, string>()
  for (const name of Object.keys(record.fields)) fields.set(name, record.fields[name] as string)
  return {
    id: record.id,
    fields,
    version,
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    subject: typeof record.subject === 'string' ? record.subject : undefined,
    movedTo: typeof record.movedTo === 'string' ? record.movedTo : undefined,
    used: false,
  }
}

/**
 * A copy holding exactly the contract's fields, so callers never share an object with the store.
 * The fields object inherits nothing: a field named `__proto__` is an own field like any other.
 */
function copyOut(stored: Stored): SessionRecord {
  const fields = bag() as Record<string, string>
  for (const [name, text] of stored.fields) fields[name] = text
  const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
    id: stored.id,
    fields: fields as SessionFields,
    version: stored.version,
    createdAt: stored.createdAt,
    lastActiveAt: stored.lastActiveAt,
    expiresAt: stored.expiresAt,
  }
  if (stored.subject !== undefined) record.subject = stored.subject
  if (stored.movedTo !== undefined) record.movedTo = stored.movedTo
  return record
}
