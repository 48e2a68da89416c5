/**
 * A session store in a SQLite database through better-sqlite3 (an optional peer dependency):
 * one table whose `fields` column holds a session's fields as a JSON object, conditional writes
 * and field-level patches in single statements (SQLite's JSON functions), expired rows ignored on
 * read and pruned on a timer.
 *
 * Subpath: `sessionware/stores/sqlite`.
 *
 * @module
 */

import Database from 'better-sqlite3'
import type {
  PatchResult,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  WriteResult,
} from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { parseJson } from '../lib/json-reader.ts'
import { callbackOption, clockOption, intervalOption } from '../lib/options.ts'
import { pruneWarning, startPruneTimer } from '../lib/prune.ts'

/** Options of {@link createSqliteStore}. */
export interface SqliteStoreOptions {
  /**
   * The table holding sessions, created with its indexes on first use when missing (a table left
   * by sessionware's earlier layout, with a `data` column, is refused with a `SessionConfigError`
   * on first use). An SQL identifier: a letter or `_`, then letters, digits or `_`, at most 64 characters, not starting
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
  /** Deletes the record if it is active and belongs to `subject` (one statement); returns whether it did. */
  deleteIfSubject(id: string, subject: string): Promise<boolean>
  /** Deletes rows whose `expiresAt` is at or before `now` (epoch ms); returns the count. */
  prune(now: number): Promise<number>
  /**
   * Stops the prune timer and closes the database when the store opened it from a path. A
   * `Database` the caller passed in stays open.
   */
  close(): Promise<void>
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const COLUMNS = 'id, fields, version, created_at, last_active_at, expires_at, subject, moved_to'

/** A row as SQLite returns it; `fields` is a JSON object of strings. */
interface Row {
  id: string
  fields: string
  version: number
  created_at: number
  last_active_at: number
  expires_at: number
  subject: string | null
  moved_to: string | null
}

/** Named parameters of the statements that write a whole record. */
interface RecordParams {
  id: string
  fields: string
  createdAt: number
  lastActiveAt: number
  expiresAt: number
  subject: string | null
  movedTo: string | null
  now: number
}

/** Named parameters of the patch statement. */
interface PatchParams {
  id: string
  /** The fields to write, as a JSON object. */
  set: string
  /** The names to remove, as a JSON array. */
  unset: string
  /** 1 when neither `clearPrefix` nor `unset` removes anything: the filter pass is skipped. */
  keepAll: number
  prefix: string | null
  /** 1 to write `subject`, 0 to leave the stored one. */
  writeSubject: number
  subject: string | null
  lastActiveAt: number
  expiresAt: number
  now: number
}

/** The statements, prepared once on first use (they need the table to exist). */
interface Statements {
  get: Database.Statement<[{ id: string; now: number }], Row>
  create: Database.Statement<[RecordParams]>
  replace: Database.Statement<[RecordParams & { expectedVersion: number }]>
  patch: Database.Statement<[PatchParams], { version: number }>
  delete: Database.Statement<[string]>
  deleteIfSubject: Database.Statement<[{ id: string; subject: string; now: number }]>
  listBySubject: Database.Statement<[{ subject: string; now: number }], Row>
  deleteBySubject: Database.Statement<[{ subject: string; exceptId: string | null; now: number }]>
  prune: Database.Statement<[number]>
}

/**
 * The patch as one UPDATE. The kept fields are rebuilt from `json_each` without the cleared and
 * unset names (compared as values, so no name is ever spliced into a JSON path), then `json_patch`
 * merges the set fields from a bound JSON object: every value is a string, so the merge only adds
 * or replaces names. The WHERE clause makes it fail, writing nothing, on an absent, expired or
 * forwarding row.
 */
function patchSql(t: string): string {
  return (
    `UPDATE ${t} SET fields = json_patch(CASE WHEN @keepAll THEN fields ELSE ` +
    '(SELECT json_group_object(key, value) FROM json_each(fields) ' +
    'WHERE (@prefix IS NULL OR substr(key, 1, length(@prefix)) <> @prefix) ' +
    'AND key NOT IN (SELECT value FROM json_each(@unset))) END, @set), ' +
    'subject = CASE WHEN @writeSubject THEN @subject ELSE subject END, ' +
    'last_active_at = @lastActiveAt, expires_at = @expiresAt, version = version + 1 ' +
    'WHERE id = @id AND expires_at > @now AND moved_to IS NULL RETURNING version'
  )
}

/**
 * Creates a session store in a SQLite database.
 *
 * `database` is a file path (or `':memory:'`), which the store opens with better-sqlite3 (file
 * databases are switched to WAL journal mode) and closes in `close()`; or a better-sqlite3
 * `Database` the caller owns, used as configured and never closed by the store. Nothing is read
 * or written before the first store call, which creates the table when missing.
 *
 * Every call is one statement; a patch is one `UPDATE` that merges the fields in the database
 * (`capabilities.patch` is `'server'`), followed by one read only when it fails, to tell a
 * forwarding record from a gone one.
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
 * @throws {SessionConfigError} when an option is invalid; on first use, when the table has
 * sessionware's earlier (v1) layout.
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
    db.exec(
      `CREATE TABLE IF NOT EXISTS ${t} (id TEXT PRIMARY KEY, fields TEXT NOT NULL, ` +
        'version INTEGER NOT NULL, created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, ' +
        'expires_at INTEGER NOT NULL, subject TEXT, moved_to TEXT); ' +
        `CREATE INDEX IF NOT EXISTS "${table}_expires_at" ON ${t} (expires_at); ` +
        `CREATE INDEX IF NOT EXISTS "${table}_subject" ON ${t} (subject);`,
    )
    assertLayout(db, table)
    statements = {
      get: db.prepare(`SELECT ${COLUMNS} FROM ${t} WHERE id = @id AND expires_at > @now`),
      // Insert-if-absent, where an expired row counts as absent and is replaced in place.
      create: db.prepare(
        `INSERT INTO ${t} (${COLUMNS}) ` +
          'VALUES (@id, @fields, 1, @createdAt, @lastActiveAt, @expiresAt, @subject, @movedTo) ' +
          'ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, version = 1, ' +
          'created_at = excluded.created_at, last_active_at = excluded.last_active_at, ' +
          'expires_at = excluded.expires_at, subject = excluded.subject, ' +
          `moved_to = excluded.moved_to WHERE ${t}.expires_at <= @now`,
      ),
      replace: db.prepare(
        `UPDATE ${t} SET fields = @fields, version = version + 1, created_at = @createdAt, ` +
          'last_active_at = @lastActiveAt, expires_at = @expiresAt, subject = @subject, ' +
          'moved_to = @movedTo WHERE id = @id AND version = @expectedVersion AND expires_at > @now',
      ),
      patch: db.prepare(patchSql(t)),
      delete: db.prepare(`DELETE FROM ${t} WHERE id = ?`),
      deleteIfSubject: db.prepare(
        `DELETE FROM ${t} WHERE id = @id AND subject = @subject AND expires_at > @now`,
      ),
      listBySubject: db.prepare(
        `SELECT ${COLUMNS} FROM ${t} WHERE subject = @subject AND expires_at > @now ` +
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
    fields: JSON.stringify(record.fields),
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    subject: typeof record.subject === 'string' ? record.subject : null,
    movedTo: typeof record.movedTo === 'string' ? record.movedTo : null,
    now,
  })

  const stopPruning = startPruneTimer(pruneInterval, {
    // The caller closed its own database: nothing left to prune.
    closed: () => !db.open,
    prune: () => prepared().prune.run(clock()),
    onError: onPruneError,
  })

  const capabilities: StoreCapabilities = Object.freeze({
    patch: 'server',
    ttl: pruneInterval > 0,
    subjectIndex: true,
  })

  return {
    contractVersion: 2,
    capabilities,

    async get(id) {
      const row = prepared().get.get({ id, now: clock() })
      return row ? toRecord(row) : null
    },

    async create(record): Promise<WriteResult> {
      const { changes } = prepared().create.run(recordParams(record, clock()))
      return changes === 0 ? { ok: false, reason: 'exists' } : { ok: true, version: 1 }
    },

    async replace(record, expectedVersion): Promise<WriteResult> {
      const now = clock()
      const sql = prepared()
      const { changes } = sql.replace.run({ ...recordParams(record, now), expectedVersion })
      if (changes > 0) return { ok: true, version: expectedVersion + 1 }
      const row = sql.get.get({ id: record.id, now })
      return { ok: false, reason: 'conflict', current: row ? toRecord(row) : null }
    },

    async patch(id, patch): Promise<PatchResult> {
      const now = clock()
      const sql = prepared()
      const prefix = typeof patch.clearPrefix === 'string' ? patch.clearPrefix : null
      const written = sql.patch.get({
        id,
        set: JSON.stringify(patch.set),
        unset: JSON.stringify(patch.unset),
        keepAll: prefix === null && patch.unset.length === 0 ? 1 : 0,
        prefix,
        writeSubject: patch.subject === undefined ? 0 : 1,
        subject: typeof patch.subject === 'string' ? patch.subject : null,
        lastActiveAt: patch.lastActiveAt,
        expiresAt: patch.expiresAt,
        now,
      })
      if (written) return { ok: true, version: written.version }
      // The write was conditional and wrote nothing; this read only names the reason.
      const row = sql.get.get({ id, now })
      return row?.moved_to != null
        ? { ok: false, reason: 'moved', movedTo: row.moved_to }
        : { ok: false, reason: 'gone' }
    },

    async delete(id) {
      prepared().delete.run(id)
    },

    async deleteIfSubject(id, subject) {
      return prepared().deleteIfSubject.run({ id, subject, now: clock() }).changes > 0
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

/**
 * Refuses a table of sessionware's earlier layout (a `data` column, no `fields`): the store would
 * otherwise fail on every call with a less helpful SQLite error.
 */
function assertLayout(db: Database.Database, table: string): void {
  const columns = db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string }[]
  const names = new Set(columns.map((column) => column.name))
  if (names.has('fields') && names.has('moved_to')) return
  throw new SessionConfigError(
    `createSqliteStore: table "${table}" has an earlier sessionware layout ` +
      `(columns: ${[...names].join(', ')}), not the current one with fields and moved_to. ` +
      `Drop it (DROP TABLE "${table}"; its sessions are lost and users sign in again) or pass another table name; the store creates the new table itself.`,
  )
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
  const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
    id: row.id,
    fields: parseJson(row.fields) as Record<string, string>,
    version: row.version,
    createdAt: row.created_at,
    lastActiveAt: row.last_active_at,
    expiresAt: row.expires_at,
  }
  if (row.subject !== null) record.subject = row.subject
  if (row.moved_to !== null) record.movedTo = row.moved_to
  return record
}
