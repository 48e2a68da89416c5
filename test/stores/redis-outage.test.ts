/*
 * Redis going away under the store, then under a running app.
 *
 * The store: every call rejects within its timeout while Redis is stopped or stalled, whatever the
 * client library and its offline queue, and the same store works again once Redis is back.
 *
 * The app: requests that need the session answer 503 quickly, the
 * others are unaffected, nothing crashes, and once Redis is back the same cookie finds the same
 * session, neither emptied nor overwritten meanwhile, without restarting the app.
 *
 * The server runs with an append-only file (`appendfsync always`) in a temporary directory, so a
 * real stop (SIGTERM, connections refused) and restart keeps the data, as a production Redis with
 * persistence would. A second test stalls Redis instead (CLIENT PAUSE: connections stay open, no
 * answers), which only the store's own timeout can bound.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { createClient } from 'redis'
import { withSessions } from '../../src/adapters/node.ts'
import { createServerStorage, createSessions, getSession } from '../../src/index.ts'
import { createRedisStore, type RedisStoreClient } from '../../src/stores/redis.ts'
import { ignore, ioRedis, nodeRedis } from '../support/redis-clients.ts'
import { type RedisServer, redisCli, startRedis } from '../support/redis-server.ts'
import { assertSameRecord, mustPatch, newRecord, touchPatch } from '../support/store-helpers.ts'

/** How long `promise` took to settle, and how it settled. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now()
  try {
    await promise
    return { ms: Date.now() - start, error: undefined }
  } catch (error) {
    return { ms: Date.now() - start, error }
  }
}

describe('redis store when Redis is down', () => {
  /** Stops the server under a store, checks that calls fail fast, restarts it, checks recovery. */
  async function outage(
    t: TestContext,
    connect: (url: string) => Promise<RedisStoreClient>,
  ): Promise<void> {
    const server = await startRedis(t, { persistent: true })
    if (server === null) return
    const client = await connect(server.url)
    const store = createRedisStore(client, { timeout: 1 })
    const stored = newRecord({ subject: `user-${randomUUID()}` })
    await store.create(stored)

    await server.stop()
    const { ms, error } = await timed(store.get(stored.id))
    assert.ok(error instanceof Error, 'get rejects while Redis is down')
    assert.ok(ms < 1500, `get took ${ms} ms to fail (timeout: 1 s)`)
    const patch = touchPatch({ set: { 'd:after': 'true' } })
    const patched = await timed(store.patch(stored.id, patch))
    assert.ok(patched.error instanceof Error, 'patch rejects too')
    assert.ok(patched.ms < 1500, `patch took ${patched.ms} ms to fail`)
    assert.ok((await timed(store.replace(stored, 1))).error, 'replace rejects too')

    await server.start()
    await eventually(async () => (await store.get(stored.id)) !== null)
    assertSameRecord(await store.get(stored.id), stored)
    await mustPatch(store, stored.id, patch, 2)
    assert.equal((await store.get(stored.id))?.fields['d:after'], 'true')
  }

  it('node-redis: calls fail within the timeout, and work again once Redis is back', async (t) => {
    await outage(t, async (url) => {
      const client = await nodeRedis(url)
      t.after(() => client.destroy())
      return client
    })
  })

  it('ioredis: calls fail within the timeout, and work again once Redis is back', async (t) => {
    await outage(t, async (url) => {
      const client = await ioRedis(url)
      t.after(() => client.disconnect())
      return client
    })
  })

  it('times out a call to a Redis that stopped answering (CLIENT PAUSE)', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client, { timeout: 1 })
    const stored = newRecord()
    await store.create(stored)
    await redisCli(server.port, 'client', 'pause', '1500', 'ALL')
    const { ms, error } = await timed(store.patch(stored.id, touchPatch()))
    assert.match(String(error), /redis store: patch timed out after 1 s/)
    assert.ok(ms >= 900 && ms < 2000, `patch failed after ${ms} ms`)
    await eventually(async () => (await store.get(stored.id)) !== null)
  })

  it('times out even with a client that queues commands while disconnected', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    // node-redis defaults: the offline queue holds commands until the server is back.
    const client = createClient({ url: server.url })
    client.on('error', ignore)
    await client.connect()
    t.after(() => client.destroy())
    const store = createRedisStore(client, { timeout: 1 })
    await server.stop()
    const { ms, error } = await timed(store.get(randomUUID()))
    assert.match(String(error), /redis store: get timed out after 1 s/)
    assert.ok(ms < 2000, `get failed after ${ms} ms`)
  })
})

/** An app with `/none` (never touches the session), `/get` and `/set?key=…&value=…`. */
async function serve(t: TestContext, client: RedisStoreClient): Promise<string> {
  const store = createRedisStore(client, { timeout: 1 })
  const sessions = createSessions({ storage: createServerStorage({ store }) })
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/none') {
        res.end('no session needed')
        return
      }
      const session = await getSession(req)
      if (url.pathname === '/set') {
        session.set(url.searchParams.get('key') as string, url.searchParams.get('value'))
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(session.toJSON()))
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** GET `path` with an optional cookie, bounded to 5 s so a hang fails the test. */
async function get(base: string, path: string, cookie?: string) {
  const start = Date.now()
  const response = await fetch(`${base}${path}`, {
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(5000),
  })
  const body = await response.text()
  return {
    status: response.status,
    body,
    ms: Date.now() - start,
    setCookie: response.headers.getSetCookie(),
  }
}

/** Resolves once `check()` resolves true, or fails after `timeout` ms. */
async function eventually(check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** The stored session hashes' versions, read straight from the server. */
async function storedVersions(server: RedisServer): Promise<string[]> {
  const keys = (await redisCli(server.port, '--raw', 'keys', 'sessionware:{*')).trim().split('\n')
  return Promise.all(
    keys.map(async (key) => (await redisCli(server.port, '--raw', 'hget', key, 'version')).trim()),
  )
}

/** A session with two keys, created through the app; returns its cookie. */
async function login(base: string): Promise<string> {
  const first = await get(base, '/set?key=user&value=alice')
  assert.equal(first.status, 200)
  const cookie = (first.setCookie[0] ?? '').split(';')[0] as string
  assert.ok(cookie, 'the app set a session cookie')
  assert.equal((await get(base, '/set?key=theme&value=dark', cookie)).status, 200)
  assert.deepEqual(JSON.parse((await get(base, '/get', cookie)).body), {
    user: 'alice',
    theme: 'dark',
  })
  return cookie
}

/** While Redis is unusable: session routes answer 503 quickly and keep the cookie; /none works. */
async function assertDegraded(base: string, cookie: string, withinMs: number): Promise<void> {
  for (const path of ['/get', '/set?key=theme&value=light']) {
    const response = await get(base, path, cookie)
    assert.equal(response.status, 503, `${path} answers 503`)
    assert.ok(response.ms < withinMs, `${path} took ${response.ms} ms`)
    assert.deepEqual(response.setCookie, [], `${path} leaves the cookie alone`)
  }
  const none = await get(base, '/none', cookie)
  assert.equal(none.status, 200)
  assert.equal(none.body, 'no session needed')
}

/** After Redis is back: the same cookie finds its data unchanged, and writes work again. */
async function assertRecovered(base: string, cookie: string): Promise<void> {
  await eventually(async () => (await get(base, '/get', cookie)).status === 200)
  assert.deepEqual(JSON.parse((await get(base, '/get', cookie)).body), {
    user: 'alice',
    theme: 'dark',
  })
  assert.equal((await get(base, '/set?key=after&value=yes', cookie)).status, 200)
  assert.deepEqual(JSON.parse((await get(base, '/get', cookie)).body), {
    user: 'alice',
    theme: 'dark',
    after: 'yes',
  })
}

describe('an app on the redis store while Redis is down', () => {
  it('answers 503 while Redis is stopped and finds the same session after it restarts', async (t) => {
    const server = await startRedis(t, { persistent: true })
    if (server === null) return
    // Fail fast while disconnected instead of queueing (see test/support/redis-clients.ts).
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const base = await serve(t, client)
    const cookie = await login(base)
    assert.deepEqual(await storedVersions(server), ['2'])

    await server.stop()
    await assertDegraded(base, cookie, 2000)
    // A new visitor who writes cannot get a session either, and is told so.
    assert.equal((await get(base, '/set?key=user&value=mallory')).status, 503)

    await server.start()
    // Restarted from its append-only file: the record is there, never rewritten while down.
    assert.deepEqual(await storedVersions(server), ['2'])
    await assertRecovered(base, cookie)
    assert.deepEqual(await storedVersions(server), ['3'])
  })

  it('answers 503 within the store timeout while Redis stalls, then works again', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await ioRedis(server.url)
    t.after(() => client.disconnect())
    const base = await serve(t, client)
    const cookie = await login(base)

    // Connections stay open but nothing is answered for 3 s: only the store's timeout (1 s) helps.
    await redisCli(server.port, 'client', 'pause', '3000', 'ALL')
    await assertDegraded(base, cookie, 2000)
    await assertRecovered(base, cookie)
    assert.deepEqual(await storedVersions(server), ['3'])
  })
})
