/**
 * The demo on real Redis, memcached and PostgreSQL servers (started by test/support; a missing
 * binary skips loudly, or fails under SESSIONWARE_REQUIRE_SERVICES=1): the JSON API round trip,
 * "your sessions" where the store has a subject index, and startup while the server is down.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import pg from 'pg'
import { startMemcached } from '../support/memcached-server.ts'
import { startPostgres } from '../support/postgres-server.ts'
import { redisCli, sharedRedis, startRedis } from '../support/redis-server.ts'
import { freePort } from '../support/services.ts'
import {
  BOUND_MS,
  Client,
  eventually,
  parseSetCookie,
  type Running,
  type SessionAnswer,
  STORE_UNAVAILABLE,
  startTimedDemo,
  timed,
} from './helpers.ts'

async function answer(response: Response, status = 200): Promise<SessionAnswer> {
  assert.equal(response.status, status)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return (await response.json()) as SessionAnswer
}

/** Session records in Redis (the subject sets live under `sessionware:subject:`). */
async function redisRecords(port: number): Promise<number> {
  const keys = await redisCli(port, '--raw', 'keys', 'sessionware:{*')
  return keys.split('\n').filter(Boolean).length
}

/** Rows in the demo's PostgreSQL table (0 before the store created it). */
async function postgresRecords(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  await client.connect()
  try {
    const table = await client.query("SELECT to_regclass('sessionware_sessions') AS t")
    if ((table.rows[0] as { t: string | null }).t === null) return 0
    const { rows } = await client.query('SELECT count(*)::int AS n FROM sessionware_sessions')
    return (rows[0] as { n: number }).n
  } finally {
    await client.end()
  }
}

/**
 * PATCH sets keys, GET reads them back with the cookie, regenerate changes the id and kills the
 * old one, DELETE invalidates. `records` (when the test can count them) checks the server.
 */
async function roundTrip(running: Running, records?: () => Promise<number>): Promise<void> {
  const client = new Client(running.url)
  const stored = async (expected: number): Promise<void> => {
    if (records) assert.equal(await records(), expected, 'records on the server')
  }

  const fresh = await client.fetch('/api/session')
  assert.deepEqual((await answer(fresh)).data, {})
  assert.deepEqual(fresh.headers.getSetCookie(), [], 'nothing stored for a visitor')
  await stored(0)

  const patched = await client.json('/api/session', 'PATCH', { a: 1, b: 'two', c: { n: [1] } })
  const created = await answer(patched)
  assert.deepEqual(created.data, { a: 1, b: 'two', c: { n: [1] } })
  assert.equal(patched.headers.getSetCookie().length, 1)
  await stored(1)

  const loaded = await answer(await client.fetch('/api/session'))
  assert.equal(loaded.isNew, false)
  assert.equal(loaded.id, created.id)
  assert.deepEqual(loaded.data, { a: 1, b: 'two', c: { n: [1] } })

  await answer(await client.json('/api/session', 'PATCH', { b: null, d: 4 }))
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, {
    a: 1,
    c: { n: [1] },
    d: 4,
  })

  const before = client.copy()
  const regenerated = await answer(
    await client.fetch('/api/session/regenerate', { method: 'POST' }),
  )
  assert.notEqual(regenerated.id, loaded.id)
  assert.notEqual(client.jar.get('session'), before.jar.get('session'))
  assert.deepEqual(regenerated.data, { a: 1, c: { n: [1] }, d: 4 })
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, regenerated.data)
  const old = await answer(await before.fetch('/api/session'))
  assert.equal(old.isNew, true, 'the old id is dead')
  assert.deepEqual(old.data, {})
  await stored(1)

  const copy = client.copy()
  const deleted = await client.fetch('/api/session', { method: 'DELETE' })
  assert.deepEqual(await answer(deleted), { id: null, isNew: true, data: {} })
  assert.equal(parseSetCookie(deleted.headers.getSetCookie()[0] ?? '').expired, true)
  assert.equal(client.jar.size, 0)
  const dead = await answer(await copy.fetch('/api/session'))
  assert.equal(dead.isNew, true, 'the deleted session is gone')
  assert.deepEqual(dead.data, {})
  await stored(0)
}

/** The `handle` values of the revoke forms on a "your sessions" page. */
function handles(page: string): string[] {
  return [...page.matchAll(/name="handle" value="([^"]+)"/g)].map((match) => match[1] ?? '')
}

/**
 * Logs in twice as alice (two cookie jars) and once as mallory: alice's page lists her two
 * sessions, revoking the other one signs that device out, "sign out everywhere else" works.
 */
async function yourSessions(running: Running): Promise<void> {
  const laptop = new Client(running.url)
  const phone = new Client(running.url)
  const mallory = new Client(running.url)
  for (const device of [laptop, phone]) {
    assert.equal((await device.form('/login', { username: 'alice' })).status, 303)
  }
  assert.equal((await mallory.form('/login', { username: 'mallory' })).status, 303)

  const listed = await laptop.fetch('/sessions')
  assert.equal(listed.status, 200)
  const page = await listed.text()
  assert.equal(page.match(/<tr/g)?.length, 3, 'a header row and two sessions')
  assert.equal(page.match(/This session/g)?.length, 1)
  const [other, ...more] = handles(page)
  assert.ok(other !== undefined && more.length === 0, 'one revocable session: the phone')

  const revoke = await laptop.form('/sessions/revoke', { handle: other })
  assert.equal(revoke.status, 303)
  assert.equal(revoke.headers.get('location'), '/sessions')
  const after = await (await laptop.fetch('/sessions')).text()
  assert.match(after, /Signed out that session\./)
  assert.equal(after.match(/<tr/g)?.length, 2)
  assert.match(await (await phone.fetch('/')).text(), /You are not logged in/)
  assert.match(await (await laptop.fetch('/')).text(), /logged in as <strong>alice/)

  // The phone logs in again; "sign out everywhere else" leaves the laptop and mallory.
  await phone.form('/login', { username: 'alice' })
  await laptop.form('/sessions/revoke-others', {})
  const alone = await (await laptop.fetch('/sessions')).text()
  assert.match(alone, /Signed out 1 other session\./)
  assert.match(alone, /not signed in anywhere else/)
  assert.match(await (await phone.fetch('/')).text(), /You are not logged in/)
  assert.match(await (await mallory.fetch('/')).text(), /logged in as <strong>mallory/)
}

/** While the store is unreachable: the API answers 503 JSON quickly; /api/none answers 200. */
async function assertUnavailable(running: Running): Promise<void> {
  const client = new Client(running.url)
  const { result: write, ms } = await timed(() => client.json('/api/session', 'PATCH', { x: 1 }))
  assert.equal(write.status, 503)
  assert.deepEqual(await write.json(), STORE_UNAVAILABLE)
  assert.deepEqual(write.headers.getSetCookie(), [])
  assert.ok(ms < BOUND_MS, `PATCH answered after ${ms} ms`)
  const page = await client.fetch('/') // the visit counter writes
  assert.equal(page.status, 503)
  assert.match(await page.text(), /Sessions are unavailable/)
  const none = await client.fetch('/api/none')
  assert.equal(none.status, 200)
  assert.deepEqual(await none.json(), { ok: true })
}

test('redis: the JSON API round trip and "your sessions" through the demo', async (t) => {
  const server = await sharedRedis(t)
  if (server === null) return
  const running = await startTimedDemo(t, { SESSION_STORE: 'redis', REDIS_URL: server.url })
  assert.equal(running.app.description, `redis (${server.url})`)
  await roundTrip(running, () => redisRecords(server.port))
  await yourSessions(running)
  assert.deepEqual(running.logs, [])
})

test('memcached: the JSON API round trip; "your sessions" needs a subject index', async (t) => {
  const server = await startMemcached(t)
  if (server === null) return
  const running = await startTimedDemo(t, { SESSION_STORE: 'memcached', MEMCACHED_URL: server.url })
  assert.match(running.app.description, /^memcached \(127\.0\.0\.1:\d+; /)
  await roundTrip(running)

  const browser = new Client(running.url)
  assert.equal((await browser.form('/login', { username: 'alice' })).status, 303)
  assert.match(await (await browser.fetch('/')).text(), /Welcome, alice/)
  const page = await browser.fetch('/sessions')
  assert.equal(page.status, 200)
  assert.match(await page.text(), /needs a store with a subject\s+index/)
  for (const path of ['/sessions/revoke', '/sessions/revoke-others']) {
    const refused = await browser.form(path, { handle: 'x' })
    assert.equal(refused.status, 400, path)
    assert.match(await refused.text(), /needs a store with a subject index/)
  }
  assert.match(await (await browser.fetch('/')).text(), /logged in as <strong>alice/)
  assert.deepEqual(running.logs, [])
})

test('postgres: the JSON API round trip and "your sessions" through the demo', async (t) => {
  const server = await startPostgres(t)
  if (server === null) return
  const url = await server.createDatabase()
  const running = await startTimedDemo(t, { SESSION_STORE: 'postgres', DATABASE_URL: url })
  assert.equal(running.app.description, `postgres (${url})`)
  await roundTrip(running, () => postgresRecords(url))
  await yourSessions(running)
  assert.deepEqual(running.logs, [])
})

test('redis down at startup: the demo starts at once, answers 503, and recovers', async (t) => {
  const server = await startRedis(t)
  if (server === null) return
  await server.stop()
  const { result: running, ms } = await timed(() =>
    startTimedDemo(t, { SESSION_STORE: 'redis', REDIS_URL: server.url }),
  )
  assert.ok(ms < BOUND_MS, `startup took ${ms} ms`)
  assert.match(
    running.logs.join('\n'),
    /cannot reach Redis at redis:\/\/127\.0\.0\.1:\d+ .*ECONNREFUSED.*starting anyway/,
  )
  await assertUnavailable(running)

  await server.start()
  const client = new Client(running.url)
  await eventually(
    async () => (await client.json('/api/session', 'PATCH', { back: true })).status === 200,
    5000,
    'a write after Redis started',
  )
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, { back: true })
  assert.match(running.logs.join('\n'), /Redis at .* is reachable again/)
})

test('memcached unreachable at startup: the demo starts at once and answers 503', async (t) => {
  const port = await freePort() // nothing listens there
  const { result: running, ms } = await timed(() =>
    startTimedDemo(t, { SESSION_STORE: 'memcached', MEMCACHED_URL: `127.0.0.1:${port}` }),
  )
  assert.ok(ms < BOUND_MS, `startup took ${ms} ms`)
  assert.match(
    running.logs.join('\n'),
    /cannot reach memcached at 127\.0\.0\.1:\d+ .*starting anyway/,
  )
  await assertUnavailable(running)
})

test('postgres down at startup: the demo starts at once, answers 503, and recovers', async (t) => {
  const server = await startPostgres(t)
  if (server === null) return
  if (server.external) return t.skip('DATABASE_URL is set: cannot stop that server')
  const url = await server.createDatabase()
  await server.stop()
  let started = false
  t.after(async () => {
    if (!started) await server.start()
  })
  const { result: running, ms } = await timed(() =>
    startTimedDemo(t, { SESSION_STORE: 'postgres', DATABASE_URL: url }),
  )
  assert.ok(ms < BOUND_MS, `startup took ${ms} ms`)
  assert.match(running.logs.join('\n'), /cannot reach PostgreSQL at postgres:.*starting anyway/)
  await assertUnavailable(running)

  await server.start()
  started = true
  const client = new Client(running.url)
  await eventually(
    async () => (await client.json('/api/session', 'PATCH', { back: true })).status === 200,
    5000,
    'a write after PostgreSQL started',
  )
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, { back: true })
  assert.match(running.logs.join('\n'), /PostgreSQL at .* is reachable again/)
})
