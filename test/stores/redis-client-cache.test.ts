/*
 * The Redis store on node-redis with client-side caching (RESP3 `CLIENT TRACKING`, node-redis's
 * `clientSideCache` option), over real HTTP: two instances of one app, each with its own caching
 * client, on one redis-server.
 *
 * What the README promises for this setup: a read of a session may come from the client's cache,
 * but a change or a sign-out made through another instance is seen by the next request once
 * Redis's invalidation message has reached the client (on loopback, before the other instance has
 * answered); and once Redis is gone, requests that need their session answer 503 instead of being
 * served from the cache (node-redis empties it when the connection drops).
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createClient } from 'redis'
import { withSessions } from '../../src/adapters/node.ts'
import { createServerStorage, createSessions, getSession } from '../../src/index.ts'
import { createRedisStore } from '../../src/stores/redis.ts'
import { send, serve } from '../support/http.ts'
import { ignore, reconnect } from '../support/redis-clients.ts'
import { startRedis } from '../support/redis-server.ts'
import { eventually } from '../support/store-helpers.ts'

/** A node-redis client with client-side caching, set up as the store's TSDoc advises. */
async function cachingClient(t: TestContext, url: string) {
  const client = createClient({
    url,
    RESP: 3,
    clientSideCache: { maxEntries: 1000 },
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnect },
  })
  client.on('error', ignore)
  await client.connect()
  t.after(() => client.destroy())
  return client
}

type CachingClient = Awaited<ReturnType<typeof cachingClient>>

/** An app with `/get`, `/set?key=…&value=…` and `/logout` on the client's store; its base URL. */
function app(t: TestContext, client: CachingClient): Promise<string> {
  const store = createRedisStore(client, { timeout: 1 })
  const sessions = createSessions({ storage: createServerStorage({ store }) })
  return serve(
    t,
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const session = await getSession(req)
      if (url.pathname === '/set') {
        session.set(url.searchParams.get('key') as string, url.searchParams.get('value'))
      } else if (url.pathname === '/logout') {
        session.invalidate()
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(session.toJSON()))
    }),
  )
}

/** GET `path` with an optional cookie. */
const get = (base: string, path: string, cookie?: string) =>
  send(`${base}${path}`, { headers: cookie ? { cookie } : {} })

/** The first Set-Cookie's `name=value`. */
const cookieOf = (result: { rawSetCookies: string[] }): string =>
  (result.rawSetCookies[0] ?? '').split(';')[0] as string

/** The session's data as `base` answers it for `cookie` (asserting a 200). */
async function data(base: string, cookie: string): Promise<unknown> {
  const response = await get(base, '/get', cookie)
  assert.equal(response.status, 200, response.body)
  return JSON.parse(response.body)
}

describe('the redis store on node-redis with client-side caching', () => {
  it('serves reads from the cache, and sees changes and sign-outs made on another instance', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const clientA = await cachingClient(t, server.url)
    const a = await app(t, clientA)
    const b = await app(t, await cachingClient(t, server.url))

    const cookie = cookieOf(await get(a, '/set?key=user&value=alice'))
    assert.ok(cookie, 'instance A set a session cookie')
    assert.deepEqual(await data(a, cookie), { user: 'alice' })
    const hits = clientA.clientSideCache?.stats().hitCount ?? 0
    assert.deepEqual(await data(a, cookie), { user: 'alice' })
    assert.ok(
      (clientA.clientSideCache?.stats().hitCount ?? 0) > hits,
      'the second read came from the cache',
    )

    // A change through B: A's cached copy is dropped by Redis's invalidation message.
    assert.equal((await get(b, '/set?key=theme&value=dark', cookie)).status, 200)
    await eventually(
      async () => JSON.stringify(await data(a, cookie)) === '{"user":"alice","theme":"dark"}',
    )

    // Signed out through B: A no longer finds the session (a fresh, empty one instead).
    assert.equal((await get(b, '/logout', cookie)).status, 200)
    await eventually(async () => JSON.stringify(await data(a, cookie)) === '{}')
  })

  it('answers 503 once Redis is gone, instead of serving the cached session', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await cachingClient(t, server.url)
    const base = await app(t, client)
    const cookie = cookieOf(await get(base, '/set?key=user&value=alice'))
    assert.deepEqual(await data(base, cookie), { user: 'alice' })
    assert.deepEqual(await data(base, cookie), { user: 'alice' })
    assert.ok((client.clientSideCache?.size() ?? 0) > 0, 'the session is in the cache')

    await server.stop()
    // node-redis empties its cache when it sees the connection drop; from then on, 503.
    await eventually(async () => (await get(base, '/get', cookie)).status === 503)
    assert.equal(client.clientSideCache?.size(), 0)
    for (let i = 0; i < 5; i++) {
      const response = await get(base, '/get', cookie)
      assert.equal(response.status, 503)
      assert.doesNotMatch(response.body, /alice/)
    }
  })
})
