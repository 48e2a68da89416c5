/*
 * Loading a session from the Redis store over HTTP, with both clients: a renewed session's old id
 * follows the pointer and its write lands on the new record, a wrapper that replaces `get` (a
 * spread copy, or `get` reassigned on the store itself) is always called, a record whose fields do
 * not decode gives a fresh session, and a failure while opening the loaded session reaches the
 * handler.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import type { SessionStore } from '../../src/core/types.ts'
import { createServerStorage, createSessions, getSession } from '../../src/index.ts'
import { createRedisStore, type RedisStoreClient } from '../../src/stores/redis.ts'
import { ioRedis, nodeRedis } from '../support/redis-clients.ts'
import { redisCli, sharedRedis } from '../support/redis-server.ts'

interface Served {
  /** GET `path` with `cookie`: the status, the body and the cookie set, if any. */
  call(path: string, cookie?: string): Promise<{ status: number; body: string; cookie?: string }>
  /** Moves the sessions' clock on. */
  advance(seconds: number): void
}

interface ServeOptions {
  /** The store the sessions use, made from the Redis one (default: itself). */
  wrap?: (store: SessionStore) => SessionStore
  /** The session ids, as `generateId` (default: sessionware's). */
  generateId?: () => string
}

/**
 * A node:http app on a Redis store with renewal every 60 s (30 s of grace). Routes: `/` answers
 * `{ isNew, data }`, `?set=key` sets a key first. A failed `getSession` answers 500 with the
 * error's message.
 */
async function serve(
  t: TestContext,
  client: RedisStoreClient,
  keyPrefix: string,
  options: ServeOptions = {},
): Promise<Served> {
  let now = Date.now()
  const redis = createRedisStore(client, { keyPrefix, timeout: 1 })
  const sessions = createSessions({
    storage: createServerStorage({
      store: options.wrap?.(redis) ?? redis,
      ...(options.generateId ? { generateId: options.generateId } : {}),
    }),
    renewalInterval: 60,
    renewalGrace: 30,
    idleTimeout: 3600,
    clock: () => now,
  })
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      let session: Awaited<ReturnType<typeof getSession>>
      try {
        session = await getSession(req)
      } catch (error) {
        res.statusCode = 500
        res.end((error as Error).message)
        return
      }
      const key = url.searchParams.get('set')
      if (key) session.set(key, true)
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({ isNew: session.isNew, data: session.toJSON(), handle: session.handle }),
      )
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    async call(path, cookie) {
      const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} })
      const set = response.headers.getSetCookie()[0]
      const body = await response.text()
      return { status: response.status, body, ...(set ? { cookie: set.split(';')[0] } : {}) }
    },
    advance(seconds) {
      now += seconds * 1000
    },
  }
}

/** A fresh key prefix, so tests on the shared server never see each other's sessions. */
const freshPrefix = (): string => `load${randomBytes(4).toString('hex')}:`

/** The body of `/`, without the handle. */
const parsed = (body: string): { isNew: boolean; data: Record<string, unknown> } => {
  const { isNew, data } = JSON.parse(body)
  return { isNew, data }
}

const clients: Array<[string, (url: string, t: TestContext) => Promise<RedisStoreClient>]> = [
  [
    'node-redis',
    async (url, t) => {
      const client = await nodeRedis(url)
      t.after(() => client.destroy())
      return client
    },
  ],
  [
    'ioredis',
    async (url, t) => {
      const client = await ioRedis(url)
      t.after(() => client.disconnect())
      return client
    },
  ],
]

describe('loading a session from the redis store', () => {
  for (const [name, connect] of clients) {
    it(`${name}: reads a renewed session through its old id, and writes land on the new record`, async (t) => {
      const server = await sharedRedis(t)
      if (server === null) return
      const app = await serve(t, await connect(server.url, t), freshPrefix())
      const first = await app.call('/?set=a')
      const old = first.cookie as string
      assert.ok(old, 'the first write set a cookie')
      app.advance(61)
      const renewed = await app.call('/', old)
      const current = renewed.cookie as string
      assert.ok(current && current !== old, 'the renewal sent a new id')
      // The old id loads through the pointer: its write goes onto the renewed record, no cookie.
      const through = await app.call('/?set=b', old)
      assert.equal(through.status, 200)
      assert.deepEqual(parsed(through.body), { isNew: false, data: { a: true, b: true } })
      assert.equal(through.cookie, undefined)
      assert.deepEqual(parsed((await app.call('/', current)).body).data, { a: true, b: true })
    })

    it(`${name}: gives a fresh session for a record whose fields do not decode, never a 500`, async (t) => {
      const server = await sharedRedis(t)
      if (server === null) return
      const keyPrefix = freshPrefix()
      const app = await serve(t, await connect(server.url, t), keyPrefix)
      const first = await app.call('/?set=a')
      const cookie = first.cookie as string
      const { handle } = JSON.parse(first.body)
      await redisCli(server.port, 'hset', `${keyPrefix}{${handle}}`, '.d:a', '{not json')
      const result = await app.call('/', cookie)
      assert.equal(result.status, 200)
      assert.deepEqual(parsed(result.body), { isNew: true, data: {} })
    })

    it(`${name}: hands a failure while opening the loaded session to the handler, then serves on`, async (t) => {
      const server = await sharedRedis(t)
      if (server === null) return
      let failing = false
      const app = await serve(t, await connect(server.url, t), freshPrefix(), {
        generateId: () => {
          if (failing) throw new Error('no id today')
          return randomBytes(24).toString('base64url')
        },
      })
      const cookie = (await app.call('/?set=a')).cookie as string
      // An id the store does not know: the load finds nothing and the new session needs an id.
      failing = true
      const unknown = await app.call('/', `session=${randomBytes(24).toString('base64url')}`)
      assert.equal(unknown.status, 500)
      assert.equal(unknown.body, 'no id today')
      assert.equal(unknown.cookie, undefined)
      // A known session still loads (it needs no new id), and all works again afterwards.
      assert.deepEqual(parsed((await app.call('/', cookie)).body).data, { a: true })
      failing = false
      assert.deepEqual(parsed((await app.call('/?set=b', cookie)).body).data, { a: true, b: true })
    })
  }

  it('calls the get of a wrapper made by spreading the store, on every load', async (t) => {
    const server = await sharedRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    let gets = 0
    const app = await serve(t, client, freshPrefix(), {
      wrap: (store) => ({
        ...store,
        get: (id) => {
          gets++
          return store.get(id)
        },
      }),
    })
    const cookie = (await app.call('/?set=a')).cookie as string
    assert.equal(gets, 0, 'a request without a cookie reads nothing')
    await Promise.all(Array.from({ length: 32 }, () => app.call('/', cookie)))
    assert.equal(gets, 32)
    assert.deepEqual(parsed((await app.call('/', cookie)).body).data, { a: true })
  })

  it('calls a get reassigned on the store itself, and answers 500 when it fails', async (t) => {
    const server = await sharedRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    let store: SessionStore | undefined
    const app = await serve(t, client, freshPrefix(), {
      wrap: (redis) => {
        store = redis
        return redis
      },
    })
    const cookie = (await app.call('/?set=a')).cookie as string
    const own = (store as SessionStore).get
    ;(store as SessionStore).get = () => Promise.reject(new Error('instrumented get failed'))
    const failed = await app.call('/', cookie)
    assert.equal(failed.status, 500)
    assert.match(failed.body, /load/)
    ;(store as SessionStore).get = own
    assert.deepEqual(parsed((await app.call('/', cookie)).body).data, { a: true })
  })
})
