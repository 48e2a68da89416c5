/*
 * Redis going away under a running app: requests that need the session answer 503 quickly, the
 * others are unaffected, nothing crashes, and once Redis is back the same cookie finds the same
 * session, neither emptied nor overwritten meanwhile, without restarting the app.
 *
 * The server runs with an append-only file (`appendfsync always`) in a temporary directory, so a
 * real stop (SIGTERM, connections refused) and restart keeps the data, as a production Redis with
 * persistence would. A second test stalls Redis instead (CLIENT PAUSE: connections stay open, no
 * answers), which only the store's own timeout can bound.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { Redis } from 'ioredis'
import { createClient } from 'redis'
import { withSessions } from '../../src/adapters/node.ts'
import { createSessions, getSession, serverStorage } from '../../src/index.ts'
import { createRedisStore, type RedisStoreClient } from '../../src/stores/redis.ts'
import { type RedisServer, redisCli, startRedis } from '../support/redis-server.ts'

const ignore = (): void => {}
const reconnect = (retries: number): number => Math.min((retries + 1) * 100, 1000)

/** An app with `/none` (never touches the session), `/get` and `/set?key=…&value=…`. */
async function serve(t: TestContext, client: RedisStoreClient): Promise<string> {
  const store = createRedisStore(client, { timeout: 1 })
  const sessions = createSessions({ storage: serverStorage({ store }) })
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
    // Fail fast while disconnected instead of queueing (see test/stores/redis.test.ts).
    const client = createClient({
      url: server.url,
      disableOfflineQueue: true,
      socket: { reconnectStrategy: reconnect },
    })
    client.on('error', ignore)
    await client.connect()
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
    const client = new Redis(server.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: reconnect,
      lazyConnect: true,
    })
    client.on('error', ignore)
    await client.connect()
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
