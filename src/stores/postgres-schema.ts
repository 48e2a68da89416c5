/**
 * Internal: the PostgreSQL store's table, the `table` option's validation, the DDL (exported as
 * {@link postgresSchema} for migrations) and the batch that creates it on first use and refuses a
 * table of sessionware's earlier layout. Re-exported from `sessionware/stores/postgres`.
 *
 * Subpath: none (internal to `sessionware`; `postgresSchema` is exported by
 * `sessionware/stores/postgres`).
 *
 * @module
 */

import { SessionConfigError } from '../errors.ts'

const SCHEMA_PART = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/
const TABLE_PART = /^[A-Za-z_][A-Za-z0-9_]{0,51}$/
/** The default `table` option. */
export const DEFAULT_TABLE = 'sessionware_sessions'
/** SQLSTATEs of a lost `CREATE … IF NOT EXISTS` race: unique_violation, duplicate_table. */
const CREATE_RACE = new Set(['23505', '42P07'])
/** SQLSTATE undefined_column: the layout check found a table of the earlier layout. */
const UNDEFINED_COLUMN = '42703'
/** The table name split and quoted: `"schema"."table"`, and the bare table part for index names. */
export interface TableName {
  qualified: string
  base: string
}

/** Validates and quotes the `table` option. */
export function parseTable(table: unknown, caller: string): TableName {
  const parts = typeof table === 'string' ? table.split('.') : []
  const base = parts.at(-1) ?? ''
  const valid =
    (parts.length === 1 || (parts.length === 2 && SCHEMA_PART.test(parts[0] ?? ''))) &&
    TABLE_PART.test(base)
  if (!valid) {
    throw new SessionConfigError(
      `${caller}: table must be "table" or "schema.table" of SQL identifiers (a letter or _, then letters, digits or _; the table at most 52 characters), got ${JSON.stringify(table)}`,
    )
  }
  return { qualified: parts.map((part) => `"${part}"`).join('.'), base }
}

/** The idempotent DDL of the table and its indexes. */
function ddl({ qualified, base }: TableName): string {
  return (
    `CREATE TABLE IF NOT EXISTS ${qualified} (\n` +
    '  id TEXT PRIMARY KEY,\n' +
    '  fields JSONB NOT NULL,\n' +
    '  version INTEGER NOT NULL,\n' +
    '  created_at BIGINT NOT NULL,\n' +
    '  last_active_at BIGINT NOT NULL,\n' +
    '  expires_at BIGINT NOT NULL,\n' +
    '  subject TEXT,\n' +
    '  moved_to TEXT\n' +
    ');\n' +
    `CREATE INDEX IF NOT EXISTS "${base}_expires_at" ON ${qualified} (expires_at);\n` +
    `CREATE INDEX IF NOT EXISTS "${base}_subject" ON ${qualified} (subject) WHERE subject IS NOT NULL;\n`
  )
}

/**
 * The SQL that creates the store's table and indexes, for a migration (then pass
 * `createTable: false`). Idempotent (`IF NOT EXISTS`); times are epoch milliseconds; `fields` is
 * a JSON object whose values are the texts the core stored (JSON strings inside the `jsonb`);
 * `moved_to` is set on a forwarding record (renewal). A table of sessionware's earlier layout
 * (with a `data` column) is not changed by it: drop that table first (its sessions are lost).
 *
 * ```sql
 * CREATE TABLE IF NOT EXISTS "sessionware_sessions" (
 *   id TEXT PRIMARY KEY,
 *   fields JSONB NOT NULL,
 *   version INTEGER NOT NULL,
 *   created_at BIGINT NOT NULL,
 *   last_active_at BIGINT NOT NULL,
 *   expires_at BIGINT NOT NULL,
 *   subject TEXT,
 *   moved_to TEXT
 * );
 * CREATE INDEX IF NOT EXISTS "sessionware_sessions_expires_at" ON "sessionware_sessions" (expires_at);
 * CREATE INDEX IF NOT EXISTS "sessionware_sessions_subject" ON "sessionware_sessions" (subject) WHERE subject IS NOT NULL;
 * ```
 *
 * @param table - The `table` option of the store.
 * @throws {SessionConfigError} when `table` is not a valid table name.
 */
export function postgresSchema(table: string = DEFAULT_TABLE): string {
  return ddl(parseTable(table, 'postgresSchema'))
}
/**
 * Creates the table and its indexes when missing, in one simple-protocol batch (one transaction;
 * the advisory lock serializes concurrent first uses from several stores, processes or hosts, whose
 * `CREATE … IF NOT EXISTS` could otherwise collide in the catalog), retrying a lost catalog race
 * (possible without the lock, from other tools). The batch ends by reading the current columns,
 * which fails on a table of the earlier layout: that is thrown as a `SessionConfigError` saying
 * what to do.
 */
export async function createSchema(
  send: (text: string) => Promise<unknown>,
  name: TableName,
): Promise<void> {
  const t = name.qualified
  const lockKey = `sessionware:${t.replaceAll('"', '')}`
  const batch =
    `SELECT pg_advisory_xact_lock(hashtext('${lockKey}'));\n${ddl(name)}` +
    `SELECT fields, moved_to FROM ${t} LIMIT 0;\n`
  for (let attempt = 1; ; attempt++) {
    try {
      await send(batch)
      return
    } catch (error) {
      const code = (error as { code?: unknown } | null)?.code
      if (code === UNDEFINED_COLUMN) throw layoutError(t, error)
      if (attempt >= 3 || typeof code !== 'string' || !CREATE_RACE.has(code)) throw error
    }
  }
}

function layoutError(table: string, cause: unknown): SessionConfigError {
  return new SessionConfigError(
    `createPostgresStore: table ${table} has an earlier sessionware layout (a data column), not ` +
      `the current one with fields and moved_to. Drop it (DROP TABLE ${table}; its sessions are ` +
      'lost and users sign in again) or pass another table name; the store then creates the new ' +
      'table, or run the SQL of postgresSchema() in a migration.',
    { cause },
  )
}
