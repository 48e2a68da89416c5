/**
 * The PostgreSQL store's table: created on first use (also by several stores at once), the
 * exported migration, schema-qualified names, the jsonb layout of the fields, and a table of the
 * earlier layout refused with a clear error. The conformance suite and the other specifics are in
 * `postgres.test.ts`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type pg from 'pg'
import type { SessionRecord } from '../../src/core/types.ts'
import {
  createPostgresStore,
  type PostgresStore,
  postgresSchema,
} from '../../src/stores/postgres.ts'
import { record, storeOn, uniqueName } from '../support/postgres-helpers.ts'
import { startPostgres } from '../support/postgres-server.ts'
import { touchPatch } from '../support/store-helpers.ts'

/** Tables and indexes of a schema, by name. */
async function relations(pool: pg.Pool, schema = 'public'): Promise<string[]> {
  const { rows } = await pool.query<{ relname: string }>(
    `SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE n.nspname = $1 AND c.relkind IN ('r', 'i') ORDER BY c.relname`,
    [schema],
  )
  return rows.map((row) => row.relname)
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
  return rows[0]?.n ?? -1
}
describe('postgres store table', () => {
  it('creates its schema on first use in an empty database', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool({ connectionString: await server.createDatabase() })
    const store = storeOn(t, pool)
    assert.deepEqual(await relations(pool), [], 'nothing is written before first use')
    assert.equal(await store.get('nothing'), null)
    assert.deepEqual(await relations(pool), [
      'sessionware_sessions',
      'sessionware_sessions_expires_at',
      'sessionware_sessions_pkey',
      'sessionware_sessions_subject',
    ])
    const { rows } = await pool.query<{
      column_name: string
      data_type: string
      is_nullable: string
    }>(
      `SELECT column_name, data_type, is_nullable FROM information_schema.columns
       WHERE table_name = 'sessionware_sessions' ORDER BY ordinal_position`,
    )
    assert.deepEqual(
      rows.map((c) => [c.column_name, c.data_type, c.is_nullable]),
      [
        ['id', 'text', 'NO'],
        ['fields', 'jsonb', 'NO'],
        ['version', 'integer', 'NO'],
        ['created_at', 'bigint', 'NO'],
        ['last_active_at', 'bigint', 'NO'],
        ['expires_at', 'bigint', 'NO'],
        ['subject', 'text', 'YES'],
        ['moved_to', 'text', 'YES'],
      ],
    )
  })

  it('survives concurrent first uses of several stores on one new table', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    for (let round = 0; round < 5; round++) {
      const table = uniqueName()
      const pairs: Array<[PostgresStore, SessionRecord]> = Array.from({ length: 4 }, () => [
        storeOn(t, server.pool({ max: 3 }), { table, pruneInterval: 0 }),
        record(),
      ])
      await Promise.all(
        pairs.flatMap(([store, stored]) => [
          store.create(stored),
          store.get('absent'),
          store.listBySubject('nobody'),
        ]),
      )
      for (const [store, stored] of pairs) {
        assert.deepEqual((await store.get(stored.id))?.fields, stored.fields)
      }
    }
  })

  it('works with createTable: false once the exported migration has run', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const table = uniqueName()
    const store = storeOn(t, pool, { table, createTable: false })
    await assert.rejects(store.get('x'), { code: '42P01' }) // undefined_table: nothing created
    assert.deepEqual(await relations(pool).then((r) => r.filter((n) => n.startsWith(table))), [])

    const migration = postgresSchema(table)
    assert.match(migration, /^CREATE TABLE IF NOT EXISTS "sessions_\w+" \(/)
    await pool.query(migration)
    await pool.query(migration) // idempotent
    const stored = record({ subject: 'alice' })
    assert.deepEqual(await store.create(stored), { ok: true, version: 1 })
    assert.deepEqual(await store.get(stored.id), stored)
    assert.deepEqual(
      (await relations(pool)).filter((n) => n.startsWith(table)),
      [table, `${table}_expires_at`, `${table}_pkey`, `${table}_subject`],
    )
  })

  it('refuses a table of the earlier layout with a SessionConfigError that says what to do', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const table = uniqueName()
    await pool.query(
      `CREATE TABLE ${table} (id TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL, ` +
        'created_at BIGINT NOT NULL, last_active_at BIGINT NOT NULL, expires_at BIGINT NOT NULL, subject TEXT)',
    )
    const store = storeOn(t, pool, { table, pruneInterval: 0 })
    for (const call of [() => store.get('x'), () => store.patch('x', touchPatch())]) {
      await assert.rejects(call(), (error: unknown) => {
        assert.equal((error as { code?: unknown }).code, 'ERR_SESSION_CONFIG')
        assert.match(String(error), new RegExp(`"${table}" has an earlier sessionware layout`))
        assert.match(String(error), new RegExp(`DROP TABLE "${table}"`))
        return true
      })
    }
    // Once the table is gone, the same store creates the new one and works.
    await pool.query(`DROP TABLE ${table}`)
    assert.deepEqual(await store.create(record()), { ok: true, version: 1 })
  })

  it('stores the fields as one jsonb object of strings, hostile names included', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const table = uniqueName()
    const store = storeOn(t, pool, { table, pruneInterval: 0 })
    const names = ['d:"', "d:'", 'd:\\', 'd:$.a', '__proto__', 'd:{}', 'd:🎉', "d:a' || 'b"]
    const set = Object.fromEntries(names.map((name) => [name, JSON.stringify(name)]))
    const stored = record({ fields: { m: '60', 'f:x': '1' } })
    await store.create(stored)
    const patch = touchPatch({ set, unset: ['m'], clearPrefix: 'f:' })
    assert.deepEqual(await store.patch(stored.id, patch), { ok: true, version: 2 })
    const { rows } = await pool.query<{ key: string; type: string; value: string }>(
      `SELECT e.key, jsonb_typeof(e.value) AS type, e.value #>> '{}' AS value
       FROM ${table} AS s, jsonb_each(s.fields) AS e WHERE s.id = $1`,
      [stored.id],
    )
    assert.deepEqual(
      rows.map((row) => [row.key, row.type, row.value]).sort(),
      names.map((name) => [name, 'string', JSON.stringify(name)]).sort(),
    )
  })

  it('exports the default migration', () => {
    const sql = postgresSchema()
    assert.match(sql, /CREATE TABLE IF NOT EXISTS "sessionware_sessions"/)
    assert.match(sql, /"sessionware_sessions_expires_at" ON "sessionware_sessions" \(expires_at\)/)
    assert.match(sql, /"sessionware_sessions_subject" ON "sessionware_sessions" \(subject\)/)
    assert.equal(
      postgresSchema('app.s'),
      sql
        .replaceAll('"sessionware_sessions"', '"app"."s"')
        .replaceAll('sessionware_sessions_', 's_'),
    )
  })

  it('uses a schema-qualified table', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const schema = uniqueName('app')
    await pool.query(`CREATE SCHEMA ${schema}`)
    const store = storeOn(t, pool, { table: `${schema}.Sessions` })
    const stored = record({ subject: 'bob' })
    await store.create(stored)
    assert.deepEqual(await relations(pool, schema), [
      'Sessions',
      'Sessions_expires_at',
      'Sessions_pkey',
      'Sessions_subject',
    ])
    assert.equal(await count(pool, `${schema}."Sessions"`), 1)
    assert.deepEqual(await store.listBySubject('bob'), [stored])
  })

  it('rejects an invalid table name with ERR_SESSION_CONFIG', () => {
    const client = { query: async () => ({ rows: [], rowCount: 0 }) }
    for (const table of [
      '',
      'bad name',
      'x;DROP TABLE y',
      '1abc',
      'a"b',
      'a.b.c',
      '.b',
      'a.',
      'a'.repeat(53),
      `${'s'.repeat(64)}.t`,
    ]) {
      assert.throws(() => createPostgresStore(client, { table }), {
        name: 'SessionConfigError',
        code: 'ERR_SESSION_CONFIG',
      })
      assert.throws(() => postgresSchema(table), { code: 'ERR_SESSION_CONFIG' })
    }
    createPostgresStore(client, { table: `${'s'.repeat(63)}.${'t'.repeat(52)}`, pruneInterval: 0 })
  })
})
