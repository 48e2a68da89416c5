/**
 * The store's server stopped and started again under the running demo. While it is down, session
 * requests answer 503 JSON (or the HTML 503 page) within a bounded time, `/api/none` answers 200
 * and the app keeps running; once it is back, the same cookie finds the same data (neither
 * emptied nor overwritten meanwhile) and writes work, without restarting the app.
 *
 * Redis runs with an append-only file (`startRedis(t, { persistent: true })`: `appendfsync
 * always`), so its stop (SIGTERM: the process exits and connections are refused) and start keep
 * the data, as a production Redis with persistence would. PostgreSQL is stopped with a fast
 * shutdown (open connections are terminated) and started on the same data directory.
 */
import assert from 'node:assert/strict'
import { type TestContext, test } from 'node:test'
import pg from 'pg'
import { startPostgres } from '../support/postgres-server.ts'
import { redisCli, startRedis } from '../support/redis-server.ts'
import {
  BOUND_MS,
  Client,
  eventually,
  type Running,
  type SessionAnswer,
  STORE_UNAVAILABLE,
  startTimedDemo,
  timed,
} from './helpers.ts'

/** After the server is back, the demo must work again within this many ms. */
const RECOVERY_MS = 5000

async function session(client: Client): Promise<SessionAnswer> {
  const response = await client.fetch('/api/session')
  assert.equal(response.status, 200)
  return (await response.json()) as SessionAnswer
}

/** A session with data, written in two requests (so its stored version is 2). */
async function sessionWithData(client: Client): Promise<SessionAnswer> {
  assert.equal((await client.json('/api/session', 'PATCH', { user: 'alice' })).status, 200)
  assert.equal((await client.json('/api/session', 'PATCH', { cart: ['book'] })).status, 200)
  const loaded = await session(client)
  assert.deepEqual(loaded.data, { user: 'alice', cart: ['book'] })
  return loaded
}

/** While the server is down: 503 within the bound for reads and writes; /api/none is fine. */
async function assertDown(t: TestContext, running: Running, client: Client): Promise<void> {
  const cookie = client.jar.get('session')
  const read = await timed(() => client.fetch('/api/session'))
  assert.equal(read.result.status, 503)
  assert.deepEqual(await read.result.json(), STORE_UNAVAILABLE)
  assert.ok(read.ms < BOUND_MS, `GET /api/session answered after ${read.ms} ms`)

  const write = await timed(() => client.json('/api/session', 'PATCH', { cart: [] }))
  assert.equal(write.result.status, 503)
  assert.deepEqual(await write.result.json(), STORE_UNAVAILABLE)
  assert.ok(write.ms < BOUND_MS, `PATCH /api/session answered after ${write.ms} ms`)
  assert.deepEqual(write.result.headers.getSetCookie(), [], 'the cookie is left alone')
  assert.equal(client.jar.get('session'), cookie)

  const page = await timed(() => client.fetch('/'))
  assert.equal(page.result.status, 503)
  assert.match(await page.result.text(), /Sessions are unavailable/)
  assert.ok(page.ms < BOUND_MS, `GET / answered after ${page.ms} ms`)

  const none = await timed(() => client.fetch('/api/none'))
  assert.equal(none.result.status, 200)
  assert.deepEqual(await none.result.json(), { ok: true })
  assert.ok(none.ms < 500, `GET /api/none answered after ${none.ms} ms`)
  assert.equal(running.app.server.listening, true, 'the app is still up')
  t.diagnostic(
    `while down: GET ${read.ms} ms, PATCH ${write.ms} ms, page ${page.ms} ms, none ${none.ms} ms`,
  )
}

/** Once the server is back: the same session, unchanged, and writable again. */
async function assertRecovered(
  t: TestContext,
  client: Client,
  before: SessionAnswer,
): Promise<void> {
  const { ms } = await timed(() =>
    eventually(
      async () => (await client.fetch('/api/session')).status === 200,
      RECOVERY_MS,
      'GET /api/session answering 200',
    ),
  )
  t.diagnostic(`back ${ms} ms after the server was up again`)
  assert.deepEqual(await session(client), before, 'the same id and data, nothing emptied')
  const write = await client.json('/api/session', 'PATCH', { after: 'yes' })
  assert.equal(write.status, 200)
  assert.deepEqual((await session(client)).data, { user: 'alice', cart: ['book'], after: 'yes' })
}

/** The `version` of every session hash, straight from Redis. */
async function redisVersions(port: number): Promise<string[]> {
  const keys = (await redisCli(port, '--raw', 'keys', 'sessionware:{*')).split('\n').filter(Boolean)
  return Promise.all(
    keys.map(async (key) => (await redisCli(port, '--raw', 'hget', key, 'version')).trim()),
  )
}

/** The `version` of every row of the demo's table, straight from PostgreSQL. */
async function postgresVersions(url: string): Promise<number[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  await client.connect()
  try {
    const { rows } = await client.query('SELECT version FROM sessionware_sessions ORDER BY id')
    return rows.map((row: { version: number }) => row.version)
  } finally {
    await client.end()
  }
}

test('redis stopped and started under the running demo: 503 meanwhile, then the same session', async (t) => {
  const server = await startRedis(t, { persistent: true })
  if (server === null) return
  const running = await startTimedDemo(t, { SESSION_STORE: 'redis', REDIS_URL: server.url })
  const client = new Client(running.url)
  const before = await sessionWithData(client)
  assert.deepEqual(await redisVersions(server.port), ['2'])

  await server.stop()
  await assertDown(t, running, client)
  assert.match(running.logs.join('\n'), /lost Redis at redis:\/\/127\.0\.0\.1:\d+/)

  await server.start()
  // Restarted from its append-only file, with the record as it was: never rewritten while down.
  assert.deepEqual(await redisVersions(server.port), ['2'])
  await assertRecovered(t, client, before)
  assert.deepEqual(await redisVersions(server.port), ['3'])
  assert.match(running.logs.join('\n'), /Redis at .* is reachable again/)
})

test('postgres stopped and started under the running demo: 503 meanwhile, then the same session', async (t) => {
  const server = await startPostgres(t)
  if (server === null) return
  if (server.external) return t.skip('DATABASE_URL is set: cannot stop that server')
  const url = await server.createDatabase()
  const running = await startTimedDemo(t, { SESSION_STORE: 'postgres', DATABASE_URL: url })
  const client = new Client(running.url)
  const before = await sessionWithData(client)
  assert.deepEqual(await postgresVersions(url), [2])

  await server.stop()
  let started = false
  t.after(async () => {
    if (!started) await server.start()
  })
  await assertDown(t, running, client)

  await server.start()
  started = true
  assert.deepEqual(await postgresVersions(url), [2], 'never rewritten while down')
  await assertRecovered(t, client, before)
  assert.deepEqual(await postgresVersions(url), [3])
})
