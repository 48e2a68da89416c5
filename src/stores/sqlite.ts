/**
 * A session store in a SQLite database through better-sqlite3 (an optional peer dependency):
 * one table, conditional writes in single statements, expired rows ignored on read and pruned on
 * a timer.
 *
 * Subpath: `sessionware/stores/sqlite`.
 *
 * @module
 */

import Database from 'better-sqlite3'
import type { SessionRecord, SessionStore, StoreCapabilities, WriteResult } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { callbackOption, clockOption, intervalOption } from '../lib/options.ts'
import { pruneWarning, startPruneTimer } from '../lib/prune.ts'

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The table holding sessions, created with its indexes on first use when missing. An SQL
   * identifier: a letter or `_`, then letters, digits or `_`, at most 64 characters, not starting
   * with `sqlite_`.
   *
   * @default 'sessionware_sessions'
   */
  table?: string
  /**
   * Seconds between automatic prunes of expired rows (a positive number; fractions allowed, at
   * most 2147483). `0` disables them: `capabilities.ttl` is then false and the caller must run
   * `prune()` itself. The timer never keeps the process alive.
   *
   * @default 300
   */
  pruneInterval?: number
  /**
   * Called with the error when an automatic prune fails (for example `SQLITE_BUSY` while another
   * process holds the write lock); the next run retries. A prune on the timer never throws.
   *
   * @default emits a process warning
   */
  onPruneError?: (error: unknown) => void
  /**
   * The current time in epoch milliseconds. Inject one to move time in tests.
   *
   * @default Date.now
   */
  clock?: () => number
}

/** The store {@link createSqliteStore} returns: every optional store method is present. */
export interface SqliteStore extends SessionStore {
  /** Active records of a subject, newest `lastActiveAt` first. */
  listBySubject(subject: string): Promise<SessionRecord[]>
  /** Deletes the subject's active records (all but `exceptId`); returns how many it deleted. */
  deleteBySubject(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes rows whose `expiresAt` is at or before `now` (epoch ms); returns the count. */
  prune(now: number): Promise<number>
  /**
   * Stops the prune timer and closes the database when the store opened it from a path. A
   * `Database` the caller passed in stays open.
   */
  close(): Promise<void>
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/

/** A row as SQLite returns it. */
interface Row {
  id: string
  data: string
  version: number
  created_at: number
  last_active_at: number
  expires_at: number
  subject: string | null
}

/** Named parameters of the statements that write a whole record. */
interface RecordParams {
  id: string
  data: string
  version: number
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  subject: string | null
  now: number
}

/** The statements, prepared once on first use (they need the table to exist). */
interface Statements {
  get: Database.Statement<[{ id: string; now: number }], Row>
  create: Database.Statement<[RecordParams]>
  update: Database.Statement<[RecordParams & { expectedVersion: number }]>
  touch: Database.Statement<[{ id: string; lastActiveAt: number; expiresAt: number; now: number }]>
  delete: Database.Statement<[string]>
  listBySubject: Database.Statement<[{ subject: string; now: number }], Row>
  deleteBySubject: Database.Statement<[{ subject: string; exceptId: string | null; now: number }]>
  prune: Database.Statement<[number]>
}

/**
 * Creates a session store in a SQLite database.
 *
 * `database` is a file path (or `':memory:'`), which the store opens with better-sqlite3 (file
 * databases are switched to WAL journal mode) and closes in `close()`; or a better-sqlite3
 * `Database` the caller owns, used as configured and never closed by the store. Nothing is read
 * or written before the first store call, which creates the table when missing.
 *
 * Errors from better-sqlite3 are thrown as they are; the core wraps them in `SessionStoreError`.
 *
 * @example
 * ```ts
 * import { createSqliteStore } from 'sessionware/stores/sqlite'
 *
 * const store = createSqliteStore('sessions.db', { pruneInterval: 600 })
 * ```
 *
 * @throws {SessionConfigError} when an option is invalid.
 */
export function createSqliteStore(
  database: string | Database.Database,
  options: SqliteStoreOptions = {},
): SqliteStore {
  const table = options.table ?? 'sessionware_sessions'
  if (typeof table !== 'string' || !IDENTIFIER.test(table) || /^sqlite_/i.test(table)) {
    throw new SessionConfigError(
      `createSqliteStore: table must be an SQL identifier (letters, digits, _; not sqlite_*), got ${JSON.stringify(table)}`,
    )
  }
  const pruneInterval = intervalOption(
    'createSqliteStore',
    'pruneInterval',
    options.pruneInterval ?? 300,
  )
  const clock = clockOption('createSqliteStore', options.clock ?? Date.now)
  const onPruneError = callbackOption(
    'createSqliteStore',
    'onPruneError',
    options.onPruneError ?? pruneWarning('sqlite'),
  )
  if (typeof database !== 'string' && !isDatabase(database)) {
    throw new SessionConfigError(
      'createSqliteStore: database must be a file path, ":memory:" or a better-sqlite3 Database',
    )
  }

  const ownsDatabase = typeof database === 'string'
  const db = typeof database === 'string' ? new Database(database) : database
  let statements: Statements | undefined

  const prepared = (): Statements => {
    if (statements) return statements
    if (ownsDatabase && !db.memory) db.pragma('journal_mode = WAL')
    const t = `"${table}"`
    const columns = 'id, data, version, created_at, last_active_at, expires_at, subject'
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, data TEXT NOT NULL, ` +
        'version INTEGER NOT NULL, created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, ' +
        'expires_at INTEGER NOT NULL, subject TEXT); ' +
        `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at); ` +
        `CREATE INDEX IF NOT EXISTS "${table}_subject" ON ${t} (subject);`,
    )
    statements = {
      get: db.prepare(`SELECT ${columns} FROM ${t} WHERE id = @id AND expires_at > @now`),
      // Insert-if-absent, where an expired row counts as absent and is replaced in place.
      create: db.prepare(
        `INSERT INTO ${t} (${columns}) ` +
          'VALUES (@id, @data, @version, @createdAt, @lastActiveAt, @expiresAt, @subject) ' +
          'ON CONFLICT (id) DO UPDATE SET data = excluded.data, version = excluded.version, ' +
          'created_at = excluded.created_at, last_active_at = excluded.last_active_at, ' +
          `expires_at = excluded.expires_at, subject = excluded.subject WHERE ${t}.expires_at <= @now`,
      ),
      update: db.prepare(
        `UPDATE ${t} SET data = @data, version = version + 1, created_at = @createdAt, ` +
          'last_active_at = @lastActiveAt, expires_at = @expiresAt, subject = @subject ' +
          'WHERE id = @id AND version = @expectedVersion AND expires_at > @now',
      ),
      touch: db.prepare(
        `UPDATE ${t} SET last_active_at = @lastActiveAt, expires_at = @expiresAt ` +
          'WHERE id = @id AND expires_at > @now',
      ),
      delete: db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      listBySubject: db.prepare(
        `SELECT ${columns} FROM ${t} WHERE subject = @subject AND expires_at > @now ` +
          'ORDER BY last_active_at DESC',
      ),
      deleteBySubject: db.prepare(
        `DELETE FROM ${t} WHERE subject = @subject AND id IS NOT @exceptId AND expires_at > @now`,
      ),
      prune: db.prepare(`DELETE FROM ${t} WHERE expires_at <= ?`),
    }
    return statements
  }

  const recordParams = (record: SessionRecord, now: number): RecordParams => ({
    id: record.id,
    data: record.data,
    version: record.version,
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    subject: typeof record.subject === 'string' ? record.subject : null,
    now,
  })

  const stopPruning = startPruneTimer(pruneInterval, {
    // The caller closed its own database: nothing left to prune.
    closed: () => !db.open,
    prune: () => prepared().prune.run(clock()),
    onError: onPruneError,
  })

  const capabilities: StoreCapabilities = Object.freeze({
    atomic: true,
    ttl: pruneInterval > 0,
    subjectIndex: true,
  })

  return {
    contractVersion: 1,
    capabilities,

    async get(id) {
      const row = prepared().get.get({ id, now: clock() })
      return row ? toRecord(row) : null
    },

    async create(record): Promise<WriteResult> {
      const { changes } = prepared().create.run(recordParams(record, clock()))
      return changes === 0 ? { ok: false, reason: 'exists' } : { ok: true, version: record.version }
    },

    async update(record, expectedVersion): Promise<WriteResult> {
      const now = clock()
      const sql = prepared()
      const { changes } = sql.update.run({ ...recordParams(record, now), expectedVersion })
      if (changes > 0) return { ok: true, version: expectedVersion + 1 }
      const row = sql.get.get({ id: record.id, now })
      return { ok: false, reason: 'conflict', current: row ? toRecord(row) : null }
    },

    async touch(id, lastActiveAt, expiresAt) {
      prepared().touch.run({ id, lastActiveAt, expiresAt, now: clock() })
    },

    async delete(id) {
      prepared().delete.run(id)
    },

    async listBySubject(subject) {
      return prepared().listBySubject.all({ subject, now: clock() }).map(toRecord)
    },

    async deleteBySubject(subject, deleteOptions) {
      const exceptId = deleteOptions?.exceptId ?? null
      return prepared().deleteBySubject.run({ subject, exceptId, now: clock() }).changes
    },

    async prune(now) {
      return prepared().prune.run(now).changes
    },

    async close() {
      stopPruning()
      if (ownsDatabase && db.open) db.close()
    },
  }
}

/** Duck-typed, so a Database from another copy of better-sqlite3 is accepted too. */
function isDatabase(value: unknown): value is Database.Database {
  const candidate = value as Partial<Database.Database> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.prepare === 'function' &&
    typeof candidate.exec === 'function'
  )
}

function toRecord(row: Row): SessionRecord {
  const record: SessionRecord = {
    id: row.id,
    data: row.data,
    version: row.version,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    expiresAt: row.expires_at,
  }
  return row.subject === null ? record : { ...record, subject: row.subject }
}
