/**
 * A session store in PostgreSQL through a `pg.Pool` or `pg.Client` the caller owns (node-postgres
 * is an optional peer dependency, imported here only as a type): one table whose `fields` column
 * is a `jsonb` object of strings, every operation one statement, conditional writes and
 * field-level patches that are atomic in the database, expired rows ignored on read and pruned on
 * a timer, every call bounded by a timeout.
 *
 * Subpath: `sessionware/stores/postgres`.
 *
 * @module
 */

import type {
  PatchResult,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  WriteResult,
} from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { parseJson } from '../lib/json-reader.ts'
import { callbackOption, clockOption, intervalOption, timeoutOption } from '../lib/options.ts'
import { pruneWarning, startPruneTimer } from '../lib/prune.ts'
import { withTimeout } from '../lib/timeout.ts'
import { createSchema, DEFAULT_TABLE, parseTable } from './postgres-schema.ts'

export { postgresSchema } from './postgres-schema.ts'

/**
 * What the store needs of a client: node-postgres's `query(text, values)`. A `pg.Pool` fits (the
 * recommended choice: concurrent requests run on several connections), and so does a connected
 * `pg.Client` (one connection: the store sends its queries one after another, and once the
 * connection is lost the client stays unusable, so the store fails until the caller replaces it).
 * Any other object without a pool's `totalCount` is treated like a client.
 */
export interface PostgresStoreClient {
  query(text: string, values?: unknown[]): Promise<PostgresQueryResult>
}

/** The part of a node-postgres `QueryResult` the store reads. */
export interface PostgresQueryResult {
  rows: unknown[]
  rowCount: number | null
}

/** Options of {@link createPostgresStore}. */
export interface PostgresStoreOptions {
  /**
   * The table holding sessions: `table` or `schema.table`, each part a letter or `_` followed by
   * letters, digits or `_` (the table part at most 52 characters, so its index names fit
   * PostgreSQL's 63-byte limit; a schema part at most 63). Names are quoted, so case matters. A
   * schema must already exist; the table (and its indexes) are created on first use unless
   * `createTable` is false. A table left by sessionware's earlier layout (a `data` column) is
   * refused on first use with a `SessionConfigError`.
   *
   * @default 'sessionware_sessions'
   */
  table?: string
  /**
   * Whether the store creates its table and indexes (`CREATE … IF NOT EXISTS`, one statement
   * batch before the first call) when they are missing. Set it to false when the schema is managed
   * by migrations: run the SQL of {@link postgresSchema} there.
   *
   * @default true
   */
  createTable?: boolean
  /**
   * Seconds a store call may take before it rejects with an error saying it timed out (a positive
   * number; fractions allowed, at most 2147483), so that no request waits for ever on a server that
   * is down or stuck. The query itself is not cancelled: also set node-postgres's
   * `connectionTimeoutMillis` and `query_timeout` (or the server's `statement_timeout`) on the pool.
   *
   * @default 5
   */
  timeout?: number
  /**
   * Seconds between automatic prunes of expired rows (a positive number; fractions allowed, at
   * most 2147483). `0` disables them: `capabilities.ttl` is then false and the caller must run
   * `prune()` itself (for example from a cron job). The timer never keeps the process alive.
   *
   * @default 300
   */
  pruneInterval?: number
  /**
   * Called with the error when an automatic prune fails (the server is down, the timeout passed);
   * the next run retries. A prune on the timer never throws.
   *
   * @default emits a process warning
   */
  onPruneError?: (error: unknown) => void
  /**
   * The current time in epoch milliseconds, compared with `expires_at`. Inject one to move time in
   * tests. The database server's clock is never used.
   *
   * @default Date.now
   */
  clock?: () => number
}

/** The store {@link createPostgresStore} returns: every optional store method is present. */
export interface PostgresStore extends SessionStore {
  /** Active records of a subject, newest `lastActiveAt` first. */
  listBySubject(subject: string): Promise<SessionRecord[]>
  /** Deletes the subject's active records (all but `exceptId`); returns how many it deleted. */
  deleteBySubject(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes the record if it is active and belongs to `subject` (one statement); returns whether it did. */
  deleteIfSubject(id: string, subject: string): Promise<boolean>
  /** Deletes rows whose `expiresAt` is at or before `now` (epoch ms); returns the count. */
  prune(now: number): Promise<number>
  /** Stops the prune timer. The caller's pool or client stays open: end it yourself afterwards. */
  close(): Promise<void>
}

const COLUMNS = 'id, fields, version, created_at, last_active_at, expires_at, subject, moved_to'
/**
 * {@link COLUMNS} as read: `fields` as text, parsed by the store (V8's `JSON.parse`, which
 * node-postgres uses for `jsonb`, can misread escaped keys; see json-reader.ts).
 */
const SELECTED =
  'id, fields::text AS fields, version, created_at, last_active_at, expires_at, subject, moved_to'

/** A row as node-postgres returns it: BIGINT arrives as a string by default. */
interface Row {
  id: string
  /** Selected as text (a client that parses it anyway gives the object). */
  fields: Record<string, string> | string
  version: number
  created_at: string | number | bigint
  last_active_at: string | number | bigint
  expires_at: string | number | bigint
  subject: string | null
  moved_to: string | null
}

/**
 * Creates a session store in PostgreSQL.
 *
 * `client` is a `pg.Pool` (recommended) or a connected `pg.Client` that the caller created and
 * owns: the store never connects or ends it. Configure it so that failures surface quickly —
 * `connectionTimeoutMillis` and `query_timeout` (or `statement_timeout`) — and give it an `error`
 * listener (`pool.on('error', …)`): node-postgres emits the errors of idle connections there, and
 * an unhandled `error` event ends the process. Nothing is sent before the first store call, which
 * creates the table when missing (see `createTable`).
 *
 * Each call is one statement (one round trip), plus one batch before the first call that creates
 * the schema. A patch is one `UPDATE` that merges the fields in the database
 * (`capabilities.patch` is `'server'`); when it writes nothing, the same statement reads whether
 * the record is a forwarding one or gone. Errors from node-postgres, and the store's timeout error, are thrown as they are;
 * the core wraps them in `SessionStoreError`. A call that timed out may still complete on the
 * server later.
 *
 * @example
 * ```ts
 * import pg from 'pg'
 * import { createPostgresStore } from 'sessionware/stores/postgres'
 *
 * const pool = new pg.Pool({
 *   connectionString: process.env.DATABASE_URL,
 *   connectionTimeoutMillis: 2000,
 *   query_timeout: 4000,
 * })
 * pool.on('error', (error) => console.error('idle PostgreSQL connection lost', error))
 * const store = createPostgresStore(pool, { table: 'app.sessions' })
 * ```
 *
 * @throws {SessionConfigError} when `client` has no `query` method or an option is invalid; on
 * first use (a rejected call), when the table has sessionware's earlier (v1) layout.
 */
export function createPostgresStore(
  client: PostgresStoreClient,
  options: PostgresStoreOptions = {},
): PostgresStore {
  const caller = 'createPostgresStore'
  if (typeof (client as Partial<PostgresStoreClient> | null)?.query !== 'function') {
    throw new SessionConfigError(
      'createPostgresStore: client must be a pg.Pool or a connected pg.Client (an object with query())',
    )
  }
  const name = parseTable(options.table ?? DEFAULT_TABLE, caller)
  const createTable = options.createTable ?? true
  if (typeof createTable !== 'boolean') {
    throw new SessionConfigError('createPostgresStore: createTable must be a boolean')
  }
  const timeout = timeoutOption(caller, 'timeout', options.timeout ?? 5)
  const pruneInterval = intervalOption(caller, 'pruneInterval', options.pruneInterval ?? 300)
  const clock = clockOption(caller, options.clock ?? Date.now)
  const onPruneError = callbackOption(
    caller,
    'onPruneError',
    options.onPruneError ?? pruneWarning('postgres'),
  )

  const t = name.qualified
  const sql = {
    get: `SELECT ${SELECTED} FROM ${t} WHERE id = $1 AND expires_at > $2`,
    // Insert-if-absent, where an expired row counts as absent and is replaced in place.
    create:
      `INSERT INTO ${t} AS s (${COLUMNS}) VALUES ($1, $2::jsonb, 1, $3, $4, $5, $6, $7) ` +
      'ON CONFLICT (id) DO UPDATE SET fields = excluded.fields, version = 1, ' +
      'created_at = excluded.created_at, last_active_at = excluded.last_active_at, ' +
      'expires_at = excluded.expires_at, subject = excluded.subject, moved_to = excluded.moved_to ' +
      'WHERE s.expires_at <= $8',
    // Compare-and-set, and on a mismatch the current row in the same round trip. All parts of a
    // statement share one snapshot, which may predate the writer that won; a locking read follows
    // the row to its newest committed version (READ COMMITTED), so `current` is never stale.
    replace:
      `WITH updated AS (UPDATE ${t} SET fields = $2::jsonb, version = version + 1, ` +
      'created_at = $3, last_active_at = $4, expires_at = $5, subject = $6, moved_to = $7 ' +
      'WHERE id = $1 AND version = $8 AND expires_at > $9 RETURNING version), ' +
      `current AS (SELECT ${SELECTED} FROM ${t} WHERE id = $1 AND expires_at > $9 ` +
      'AND NOT EXISTS (SELECT 1 FROM updated) FOR SHARE) ' +
      'SELECT true AS updated, NULL AS id, NULL::text AS fields, version, NULL AS created_at, ' +
      'NULL AS last_active_at, NULL AS expires_at, NULL AS subject, NULL AS moved_to FROM updated ' +
      `UNION ALL SELECT false, ${COLUMNS} FROM current`,
    // The field-level patch: the kept fields (without those starting with the cleared prefix,
    // rebuilt from jsonb_each only when there is one), minus the unset names, merged with the set
    // fields. Names are bound values, never spliced into SQL or a path. It writes nothing on an
    // absent, expired or forwarding row; then the locking read (as in replace) names the reason.
    patch:
      `WITH updated AS (UPDATE ${t} SET fields = ((CASE WHEN $3::text IS NULL THEN fields ELSE ` +
      'COALESCE((SELECT jsonb_object_agg(key, value) FROM jsonb_each(fields) ' +
      "WHERE NOT starts_with(key, $3::text)), '{}'::jsonb) END) - $4::text[]) || $5::jsonb, " +
      'subject = CASE WHEN $6::boolean THEN $7::text ELSE subject END, ' +
      'last_active_at = $8, expires_at = $9, version = version + 1 ' +
      'WHERE id = $1 AND expires_at > $2 AND moved_to IS NULL RETURNING version), ' +
      `current AS (SELECT moved_to FROM ${t} WHERE id = $1 AND expires_at > $2 ` +
      'AND NOT EXISTS (SELECT 1 FROM updated) FOR SHARE) ' +
      'SELECT version, NULL AS moved_to FROM updated UNION ALL SELECT NULL, moved_to FROM current',
    delete: `DELETE FROM ${t} WHERE id = $1`,
    deleteIfSubject: `DELETE FROM ${t} WHERE id = $1 AND subject = $2 AND expires_at > $3`,
    listBySubject:
      `SELECT ${SELECTED} FROM ${t} WHERE subject = $1 AND expires_at > $2 ` +
      'ORDER BY last_active_at DESC, id',
    deleteBySubject: `DELETE FROM ${t} WHERE subject = $1 AND id IS DISTINCT FROM $2::text AND expires_at > $3`,
    prune: `DELETE FROM ${t} WHERE expires_at <= $1`,
  }

  // A single connection runs one query at a time, and node-postgres deprecates queueing them on a
  // Client (pg@9 will throw): the store sends its own queries one after another. A pool (it has a
  // `totalCount`) gets them concurrently.
  const serial = typeof (client as { totalCount?: unknown }).totalCount !== 'number'
  let queue: Promise<unknown> = Promise.resolve()
  const send = (text: string, values?: unknown[]): Promise<PostgresQueryResult> => {
    if (!serial) return client.query(text, values)
    const result = queue.then(() => client.query(text, values))
    queue = result.catch(() => {})
    return result
  }

  let schema: Promise<void> | undefined = createTable ? undefined : Promise.resolve()
  const ensureSchema = (): Promise<void> => {
    schema ??= createSchema(send, name).catch((error: unknown) => {
      schema = undefined // retried by the next call
      throw error
    })
    return schema
  }

  /** Runs a query after the schema exists, rejecting once `timeout` seconds have passed. */
  const run = (operation: string, text: string, values: unknown[]): Promise<PostgresQueryResult> =>
    withTimeout(
      ensureSchema().then(() => send(text, values)),
      timeout * 1000,
      () => timeoutError(operation, timeout),
    )

  /** $1 to $7 of create and replace. */
  const recordValues = (record: SessionRecord): unknown[] => [
    record.id,
    JSON.stringify(record.fields),
    ms(record.createdAt),
    ms(record.lastActiveAt),
    ms(record.expiresAt),
    typeof record.subject === 'string' ? record.subject : null,
    typeof record.movedTo === 'string' ? record.movedTo : null,
  ]

  const prune = async (now: number): Promise<number> =>
    (await run('prune', sql.prune, [ms(now)])).rowCount ?? 0

  const stopPruning = startPruneTimer(pruneInterval, {
    // The caller ended its pool or client: nothing left to prune.
    closed: () => isEnded(client),
    prune: async () => prune(clock()),
    onError: onPruneError,
  })

  return {
    contractVersion: 2,
    capabilities: Object.freeze({
      patch: 'server',
      ttl: pruneInterval > 0,
      subjectIndex: true,
    }) satisfies StoreCapabilities,

    async get(id) {
      const { rows } = await run('get', sql.get, [id, ms(clock())])
      const row = rows[0] as Row | undefined
      return row ? toRecord(row) : null
    },

    async create(record): Promise<WriteResult> {
      const { rowCount } = await run('create', sql.create, [...recordValues(record), ms(clock())])
      return rowCount ? { ok: true, version: 1 } : { ok: false, reason: 'exists' }
    },

    async replace(record, expectedVersion): Promise<WriteResult> {
      const values = [...recordValues(record), expectedVersion, ms(clock())]
      const { rows } = await run('replace', sql.replace, values)
      const row = rows[0] as (Row & { updated: boolean }) | undefined
      if (row?.updated) return { ok: true, version: row.version }
      return { ok: false, reason: 'conflict', current: row ? toRecord(row) : null }
    },

    async patch(id, patch): Promise<PatchResult> {
      const values = [
        id,
        ms(clock()),
        typeof patch.clearPrefix === 'string' ? patch.clearPrefix : null,
        patch.unset,
        JSON.stringify(patch.set),
        patch.subject !== undefined,
        typeof patch.subject === 'string' ? patch.subject : null,
        ms(patch.lastActiveAt),
        ms(patch.expiresAt),
      ]
      const { rows } = await run('patch', sql.patch, values)
      const row = rows[0] as { version: number | null; moved_to: string | null } | undefined
      if (typeof row?.version === 'number') return { ok: true, version: row.version }
      return typeof row?.moved_to === 'string'
        ? { ok: false, reason: 'moved', movedTo: row.moved_to }
        : { ok: false, reason: 'gone' }
    },

    async delete(id) {
      await run('delete', sql.delete, [id])
    },

    async deleteIfSubject(id, subject) {
      const { rowCount } = await run('deleteIfSubject', sql.deleteIfSubject, [
        id,
        subject,
        ms(clock()),
      ])
      return (rowCount ?? 0) > 0
    },

    async listBySubject(subject) {
      const { rows } = await run('listBySubject', sql.listBySubject, [subject, ms(clock())])
      return (rows as Row[]).map(toRecord)
    },

    async deleteBySubject(subject, deleteOptions) {
      const exceptId = deleteOptions?.exceptId ?? null
      const values = [subject, exceptId, ms(clock())]
      return (await run('deleteBySubject', sql.deleteBySubject, values)).rowCount ?? 0
    },

    prune,

    async close() {
      stopPruning()
    },
  }
}

/** The error of a call that ran out of time (named TimeoutError, as the DOM's `AbortSignal.timeout`). */
function timeoutError(operation: string, seconds: number): Error {
  const error = new Error(
    `sessionware postgres store: ${operation} timed out after ${seconds} s (is PostgreSQL reachable?)`,
  )
  error.name = 'TimeoutError'
  return error
}

/** Epoch milliseconds as a BIGINT parameter: whole milliseconds (the core may compute fractions). */
function ms(time: number): number {
  return Math.floor(time)
}

/** node-postgres marks an ended pool with `ended`/`ending`, an ended client with `_ending`. */
function isEnded(client: PostgresStoreClient): boolean {
  const state = client as { ended?: unknown; ending?: unknown; _ending?: unknown }
  return state.ended === true || state.ending === true || state._ending === true
}

function toRecord(row: Row): SessionRecord {
  const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
    id: row.id,
    fields: (typeof row.fields === 'string' ? parseJson(row.fields) : row.fields) as Record<
      string,
      string
    >,
    version: Number(row.version),
    createdAt: Number(row.created_at),
    lastActiveAt: Number(row.last_active_at),
    expiresAt: Number(row.expires_at),
  }
  if (row.subject !== null) record.subject = row.subject
  if (row.moved_to !== null) record.movedTo = row.moved_to
  return record
}
