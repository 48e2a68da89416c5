/**
 * An in-process session store: a bounded map (CLOCK eviction, an LRU approximation) with TTL expiry and a subject index. For tests,
 * development and single-process servers; sessions are lost when the process exits and are not
 * shared between processes.
 *
 * Subpath: `sessionware/stores/memory`.
 *
 * @module
 */

import type { SessionRecord, SessionStore, StoreCapabilities, WriteResult } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { clockOption, intervalOption } from '../lib/options.ts'
import { unrefTimer } from '../lib/timers.ts'

/** A stored record and its CLOCK bit. */
interface Entry {
  record: SessionRecord
  used: boolean
}

/** Options of {@link createMemoryStore}. */
export interface MemoryStoreOptions {
  /**
   * The most records the store holds (a count, positive integer). Inserting one more evicts a
   * record not used recently (CLOCK, an approximation of least-recently-used: records are
   * considered in insertion order, and one used since it was last considered gets a second
   * chance); `get`, `update` and `touch` count as use.
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
  /** Deletes records whose `expiresAt` is at or before `now` (epoch ms); returns the count. */
  prune(now: number): Promise<number>
  /** Stops the sweep timer. Records stay readable. */
  close(): Promise<void>
}

/**
 * Creates an in-memory session store.
 *
 * Records are copied in and out, so changing an object passed to or returned by the store never
 * changes what it holds. Writes are synchronous under the hood, hence atomic: `create` is
 * insert-if-absent and `update` a real compare-and-set.
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
  const records = new Map<string, Entry>()
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
  /** Stores a record; an existing key keeps its place and is marked used. */
  const put = (record: SessionRecord): void => {
    const entry = records.get(record.id)
    if (entry) {
      entry.record = record
      entry.used = true
    } else records.set(record.id, { record, used: false })
  }
  /** Evicts until the bound holds: unused records first, in insertion order. */
  const evict = (): void => {
    while (records.size > maxEntries) {
      const first = records.entries().next()
      if (first.done) return
      const [id, entry] = first.value
      if (entry.used) {
        entry.used = false
        records.delete(id)
        records.set(id, entry)
      } else remove(id)
    }
  }
  const remove = (id: string): void => {
    const entry = records.get(id)
    if (!entry) return
    records.delete(id)
    unindex(entry.record.subject, id)
  }
  /** The live record, or undefined; an expired one is dropped on the way. */
  const live = (id: string, now: number): SessionRecord | undefined => {
    const entry = records.get(id)
    if (entry === undefined) return undefined
    if (entry.record.expiresAt <= now) {
      remove(id)
      return undefined
    }
    return entry.record
  }
  const prune = (now: number): number => {
    let removed = 0
    for (const [id, { record }] of records) {
      if (record.expiresAt <= now) {
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

  const capabilities: StoreCapabilities = Object.freeze({
    atomic: true,
    ttl: sweepInterval > 0,
    subjectIndex: true,
  })

  return {
    contractVersion: 1,
    capabilities,
    get size() {
      return records.size
    },

    async get(id) {
      const entry = records.get(id)
      const record = live(id, clock())
      if (entry === undefined || record === undefined) return null
      entry.used = true
      return copyRecord(record)
    },

    async create(record): Promise<WriteResult> {
      if (live(record.id, clock())) return { ok: false, reason: 'exists' }
      const stored = copyRecord(record)
      put(stored)
      index(stored.subject, stored.id)
      evict()
      return { ok: true, version: stored.version }
    },

    async update(record, expectedVersion): Promise<WriteResult> {
      const current = live(record.id, clock())
      if (current === undefined) return { ok: false, reason: 'conflict', current: null }
      if (current.version !== expectedVersion) {
        return { ok: false, reason: 'conflict', current: copyRecord(current) }
      }
      const stored = copyRecord(record, expectedVersion + 1)
      if (current.subject !== stored.subject) {
        unindex(current.subject, current.id)
        index(stored.subject, stored.id)
      }
      put(stored)
      return { ok: true, version: stored.version }
    },

    async touch(id, lastActiveAt, expiresAt) {
      const current = live(id, clock())
      if (current === undefined) return
      put({ ...copyRecord(current), lastActiveAt, expiresAt })
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
        const record = live(id, now)
        if (record) found.push(copyRecord(record))
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

    async prune(now) {
      return prune(now)
    },

    async close() {
      if (timer !== undefined) clearInterval(timer)
      timer = undefined
    },
  }
}

/** A copy holding exactly the contract's fields, so callers never share an object with the store. */
function copyRecord(record: SessionRecord, version: number = record.version): SessionRecord {
  const copy: SessionRecord = {
    id: record.id,
    data: record.data,
    version,
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
  }
  return typeof record.subject === 'string' ? { ...copy, subject: record.subject } : copy
}
