import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, type Socket } from 'node:net'
import { after, describe, it, type TestContext } from 'node:test'
import pg from 'pg'
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
  postgresSchema,
} from '../../src/stores/postgres.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { record, storeOn, uniqueName } from '../support/postgres-helpers.ts'
import { startPostgres } from '../support/postgres-server.ts'
import { assertExitsByItself, HOUR, touchPatch } from '../support/store-helpers.ts'
import { runStoreSuite } from '../support/store-suite.ts'

// One pool and one store shared by every test of the pool suites (the suites' ids are unique).
let poolOffset = 0
let poolStore: PostgresStore | undefined
after(() => poolStore?.close())

async function sharedPoolStore(t: TestContext): Promise<PostgresStore | null> {
  const server = await startPostgres(t)
  if (server === null) return null
  poolOffset = 0 // each test starts on wall-clock time
  poolStore ??= createPostgresStore(server.pool(), { clock: () => Date.now() + poolOffset })
  return poolStore
}

runStoreSuite('postgres store (pg.Pool)', async (t) => {
  const store = await sharedPoolStore(t)
  if (store === null) return null
  return {
    store,
    advance: (ms) => {
      poolOffset += ms
    },
  }
})

let clientOffset = 0
let clientStore: Promise<PostgresStore> | undefined
after(async () => (await clientStore)?.close())

runStoreSuite('postgres store (one pg.Client)', async (t) => {
  const server = await startPostgres(t)
  if (server === null) return null
  clientOffset = 0 // each test starts on wall-clock time
  clientStore ??= server
    .client()
    .then((client) => createPostgresStore(client, { clock: () => Date.now() + clientOffset }))
  return {
    store: await clientStore,
    advance: (ms) => {
      clientOffset += ms
    },
  }
})

runConcurrencySuite('postgres store (pg.Pool)', sharedPoolStore)

/** Resolves once `check()` is true, or fails after `timeout` ms. */
async function eventually(check: () => Promise<boolean>, timeout = 3000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

async function count(pool: pg.Pool, table: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)
  return rows[0]?.n ?? -1
}

/** Measures how long `promise` takes to reject, and returns the error and the milliseconds. */
async function rejection(promise: Promise<unknown>): Promise<{ error: unknown; ms: number }> {
  const start = Date.now()
  try {
    await promise
  } catch (error) {
    return { error, ms: Date.now() - start }
  }
  return assert.fail('expected the call to reject')
}

describe('postgres store specifics', () => {
  it('sends one statement per patch, whether it lands, finds a pointer or finds nothing', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const sent: string[] = []
    // The real pool, with every statement the store sends written down.
    const counting = {
      totalCount: 0,
      query: (text: string, values?: unknown[]) => {
        sent.push(text)
        return pool.query(text, values)
      },
    }
    const store = createPostgresStore(counting, { pruneInterval: 0 })
    t.after(() => store.close())
    const live = record()
    const pointer = record({ fields: {}, movedTo: 'elsewhere' })
    await store.create(live)
    await store.create(pointer)
    sent.length = 0
    assert.deepEqual(
      await store.patch(live.id, touchPatch({ set: { 'd:a': '1' }, clearPrefix: 'm' })),
      {
        ok: true,
        version: 2,
      },
    )
    assert.deepEqual(await store.patch(pointer.id, touchPatch()), {
      ok: false,
      reason: 'moved',
      movedTo: 'elsewhere',
    })
    assert.deepEqual(await store.patch('absent', touchPatch()), { ok: false, reason: 'gone' })
    assert.equal(sent.length, 3, sent.join('\n'))
    assert.deepEqual((await store.get(live.id))?.fields, { 'd:n': live.fields['d:n'], 'd:a': '1' })
  })

  it('stores whole epoch milliseconds when given fractions', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const store = storeOn(t, server.pool(), { pruneInterval: 0 })
    const now = Date.now()
    const stored = record({ lastActiveAt: now + 0.4, expiresAt: now + HOUR + 0.7 })
    await store.create(stored)
    const read = await store.get(stored.id)
    assert.equal(read?.lastActiveAt, now)
    assert.equal(read?.expiresAt, now + HOUR)
    assert.deepEqual(await store.replace({ ...stored, expiresAt: now + 2 * HOUR + 0.5 }, 1), {
      ok: true,
      version: 2,
    })
    assert.equal((await store.get(stored.id))?.expiresAt, now + 2 * HOUR)
    const patch = { set: {}, unset: [], lastActiveAt: now + 1.9, expiresAt: now + 3 * HOUR + 0.2 }
    assert.deepEqual(await store.patch(stored.id, patch), { ok: true, version: 3 })
    const patched = await store.get(stored.id)
    assert.equal(patched?.lastActiveAt, now + 1)
    assert.equal(patched?.expiresAt, now + 3 * HOUR)
  })

  it('prunes expired rows on its timer', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const table = uniqueName()
    let now = Date.now()
    const store = storeOn(t, pool, { table, pruneInterval: 0.05, clock: () => now })
    await store.create(record({ expiresAt: now + 1000 }))
    const long = record({ expiresAt: now + HOUR })
    await store.create(long)
    await new Promise((resolve) => setTimeout(resolve, 150))
    assert.equal(await count(pool, table), 2)
    now += 2000
    await eventually(async () => (await count(pool, table)) === 1)
    assert.ok(await store.get(long.id))
  })

  it('reports a failed automatic prune to onPruneError and keeps running', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const table = uniqueName()
    const errors: unknown[] = []
    const store = storeOn(t, pool, {
      table,
      createTable: false,
      pruneInterval: 0.02,
      onPruneError: (error) => errors.push(error),
    })
    await eventually(async () => errors.length > 0)
    assert.equal((errors[0] as { code?: string }).code, '42P01')
    await pool.query(postgresSchema(table))
    const stored = record({ expiresAt: Date.now() - 1 })
    await store.create(stored)
    await eventually(async () => (await count(pool, table)) === 0)
  })

  it('disables automatic pruning with pruneInterval 0 and says so in capabilities', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    assert.deepEqual(storeOn(t, pool, { pruneInterval: 0 }).capabilities, {
      patch: 'server',
      ttl: false,
      subjectIndex: true,
    })
    assert.deepEqual(storeOn(t, pool).capabilities, {
      patch: 'server',
      ttl: true,
      subjectIndex: true,
    })
  })

  it('does not end the pool it was given', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    const pool = server.pool()
    const store = createPostgresStore(pool)
    await store.create(record())
    await store.close()
    await store.close() // idempotent
    assert.equal((await pool.query('SELECT 1 AS one')).rows[0]?.one, 1)
  })

  it('does not keep the process alive with its prune timer', async () => {
    const source = new URL('../../src/stores/postgres.ts', import.meta.url).href
    const script = `
      import { createPostgresStore } from ${JSON.stringify(source)}
      const client = { query: async () => ({ rows: [], rowCount: 1 }) }
      const store = createPostgresStore(client, { pruneInterval: 1 })
      await store.create({ id: 'idle', fields: {}, version: 1, createdAt: 0, lastActiveAt: 0, expiresAt: 1 })
    `
    await assertExitsByItself(['--import', 'tsx', '--input-type=module', '--eval', script])
  })

  it('rejects other invalid options with ERR_SESSION_CONFIG', () => {
    const client = { query: async () => ({ rows: [], rowCount: 0 }) }
    const invalid: unknown[] = [
      { timeout: 0 },
      { timeout: -1 },
      { timeout: Number.NaN },
      { timeout: '5' },
      { timeout: 3_000_000 },
      { pruneInterval: -1 },
      { pruneInterval: Number.POSITIVE_INFINITY },
      { pruneInterval: 3_000_000 },
      { createTable: 'yes' },
      { clock: 'now' },
      { onPruneError: true },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createPostgresStore(client, options as PostgresStoreOptions),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
    for (const bad of [null, undefined, 'postgres://localhost/db', {}]) {
      assert.throws(() => createPostgresStore(bad as unknown as pg.Pool), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
  })

  it('rejects a call after timeout seconds when the server never answers', async (t) => {
    // A listener that accepts connections and never says anything: a hung server.
    const sockets = new Set<Socket>()
    const blackhole = createServer((socket) => {
      sockets.add(socket)
    })
    await new Promise<void>((resolve) => blackhole.listen(0, '127.0.0.1', resolve))
    t.after(() => {
      for (const socket of sockets) socket.destroy()
      blackhole.close()
    })
    const { port } = blackhole.address() as { port: number }
    const pool = new pg.Pool({ connectionString: `postgres://x@127.0.0.1:${port}/x` })
    pool.on('error', () => {})
    const store = storeOn(t, pool, { timeout: 0.3, pruneInterval: 0 })
    const { error, ms } = await rejection(store.get('x'))
    assert.match(String(error), /TimeoutError: .*get timed out after 0\.3 s/)
    assert.ok(ms >= 250 && ms < 1500, `rejected after ${ms} ms`)
    const patch = await rejection(store.patch('x', touchPatch()))
    assert.match(String(patch.error), /patch timed out/)
    for (const socket of sockets) socket.destroy() // let the pool give up
    await pool.end().catch(() => {})
  })

  it('fails fast while the server is down, then works again with the same pool', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    if (server.external) return t.skip('DATABASE_URL is set: cannot stop that server')
    const pool = server.pool({ connectionTimeoutMillis: 500 })
    const store = storeOn(t, pool, { timeout: 1, pruneInterval: 0 })
    const subject = `user-${randomUUID()}`
    const kept = record({ subject, fields: { 'd:kept': 'true' } })
    assert.deepEqual(await store.create(kept), { ok: true, version: 1 })
    assert.deepEqual(await store.patch(kept.id, touchPatch({ set: { 'd:kept': '2' } })), {
      ok: true,
      version: 2,
    })

    await server.stop()
    try {
      const calls: Array<[string, () => Promise<unknown>]> = [
        ['get', () => store.get(kept.id)],
        ['create', () => store.create(record())],
        ['replace', () => store.replace({ ...kept, fields: { 'd:lost': 'true' } }, 2)],
        ['patch', () => store.patch(kept.id, touchPatch({ set: { 'd:lost': 'true' } }))],
        ['delete', () => store.delete(kept.id)],
        ['deleteIfSubject', () => store.deleteIfSubject(kept.id, subject)],
        ['listBySubject', () => store.listBySubject(subject)],
        ['deleteBySubject', () => store.deleteBySubject(subject)],
        ['prune', () => store.prune(Date.now())],
      ]
      const results = await Promise.all(calls.map(([, call]) => rejection(call())))
      for (const [i, { error, ms }] of results.entries()) {
        assert.ok(error instanceof Error, `${calls[i]?.[0]}: ${String(error)}`)
        assert.ok(ms < 1500, `${calls[i]?.[0]} took ${ms} ms to fail`)
      }
    } finally {
      await server.start()
    }

    assert.deepEqual((await store.get(kept.id))?.fields, { 'd:kept': '2' })
    assert.deepEqual(await store.patch(kept.id, touchPatch({ set: { 'd:kept': '3' } })), {
      ok: true,
      version: 3,
    })
    assert.deepEqual(
      (await store.listBySubject(subject)).map((r) => r.fields),
      [{ 'd:kept': '3' }],
    )
  })
})
