/**
 * Server storage over the memory store, over real HTTP through the node:http adapter: server
 * storage reads the memory store's records synchronously (no promise, no copy) and applies a
 * change synchronously (the commit returns its cookies at once), and both must answer exactly as
 * `get` and `patch` would, while a store whose `get` or `patch` was replaced or wrapped is always
 * called through them.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import { attachRequest } from '../../src/adapters/kit.ts'
import { withSessions } from '../../src/adapters/node.ts'
import type { InvalidCookieReason } from '../../src/errors.ts'
import {
  createServerStorage,
  createSessions,
  getSession,
  newSession,
  type SessionStore,
} from '../../src/index.ts'
import { createMemoryStore, type MemoryStore } from '../../src/stores/memory.ts'
import { Client, json, serve } from '../support/http.ts'

type Data = { n?: number; list?: number[] }

/** Serves a counter over `store`: `/write` increments n, `/read` answers the session. */
async function counter(
  t: TestContext,
  store: SessionStore,
  options: { renewalInterval?: number; invalid?: InvalidCookieReason[] } = {},
): Promise<Client> {
  const sessions = createSessions<Data>({
    storage: createServerStorage({ store }),
    renewalInterval: options.renewalInterval ?? null,
    renewalGrace: options.renewalInterval,
    onInvalidCookie: (reason) => options.invalid?.push(reason),
  })
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const session = req.url === '/login' ? await newSession<Data>(req) : await getSession<Data>(req)
    if (req.url === '/write' || req.url === '/login') {
      session.set('n', (session.get('n') ?? 0) + 1)
      session.set('list', [1, 2, 3])
    }
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ n: session.get('n') ?? null, handle: session.handle }))
  }
  return new Client(await serve(t, withSessions(sessions, handler)))
}

function memory(t: TestContext): MemoryStore {
  const store = createMemoryStore()
  t.after(() => store.close())
  return store
}

describe('server storage over the memory store', () => {
  it('reads back what was written, request after request', async (t) => {
    const client = await counter(t, memory(t))
    for (let i = 1; i <= 3; i++) assert.equal(json(await client.get('/write')).n, i)
    assert.equal(json(await client.get('/read')).n, 3)
  })

  it('reads the record the store holds now, after a patch made outside the request', async (t) => {
    const store = memory(t)
    const client = await counter(t, store)
    const { handle } = json<{ handle: string }>(await client.get('/write'))
    const now = Date.now()
    const patched = await store.patch(handle, {
      set: { 'd:n': '41' },
      unset: [],
      lastActiveAt: now,
      expiresAt: now + 60_000,
    })
    assert.equal(patched.ok, true)
    assert.equal(json(await client.get('/read')).n, 41)
  })

  it('reports a malformed stored field as malformed and starts a fresh session', async (t) => {
    const store = memory(t)
    const invalid: InvalidCookieReason[] = []
    const client = await counter(t, store, { invalid })
    const { handle } = json<{ handle: string }>(await client.get('/write'))
    const now = Date.now()
    await store.patch(handle, {
      set: { 'd:n': '{not json' },
      unset: [],
      lastActiveAt: now,
      expiresAt: now + 60_000,
    })
    const fresh = json<{ n: number | null; handle: string }>(await client.get('/read'))
    assert.equal(fresh.n, null)
    assert.notEqual(fresh.handle, handle)
    assert.deepEqual(invalid, ['malformed'])
  })

  it('gives each request its own copy of a stored value', async (t) => {
    const store = memory(t)
    const sessions = createSessions<Data>({ storage: createServerStorage({ store }) })
    const client = new Client(
      await serve(
        t,
        withSessions(sessions, async (req, res) => {
          const session = await getSession<Data>(req)
          if (req.url === '/write') session.set('list', [1])
          else session.get('list')?.push(99) // changed in place, never marked: not saved
          res.end(JSON.stringify(session.get('list') ?? null))
        }),
      ),
    )
    await client.get('/write')
    assert.deepEqual(JSON.parse((await client.get('/read')).body), [1, 99])
    assert.deepEqual(JSON.parse((await client.get('/read')).body), [1, 99])
  })

  it('follows a renewed id within its grace window', async (t) => {
    const store = memory(t)
    let now = Date.now()
    const sessions = createSessions<Data>({
      storage: createServerStorage({ store }),
      renewalInterval: 60,
      renewalGrace: 30,
      clock: () => now,
    })
    const client = new Client(
      await serve(
        t,
        withSessions(sessions, async (req, res) => {
          const session = await getSession<Data>(req)
          if (req.url === '/write') session.set('n', (session.get('n') ?? 0) + 1)
          res.end(JSON.stringify(session.get('n') ?? null))
        }),
      ),
    )
    await client.get('/write')
    const old = client.cookieHeader as string
    now += 61_000
    const renewed = await client.get('/read')
    assert.equal(renewed.setCookies.length, 1, 'the renewal sends the new id')
    assert.notEqual(client.cookieHeader, old)
    // A request still carrying the old id reads the renewed session through the pointer.
    assert.equal((await client.get('/read', { headers: { cookie: old } })).body, '1')
  })

  it('reads through a get that replaced the store’s own', async (t) => {
    const store = memory(t)
    const client = await counter(t, store)
    await client.get('/write')
    store.get = () => Promise.reject(new Error('store down'))
    const result = await client.get('/read')
    assert.equal(result.status, 503)
  })

  it('reads through the get of a wrapper made by spreading the store', async (t) => {
    const store = memory(t)
    let reads = 0
    const wrapped: SessionStore = {
      ...store,
      get: (id) => {
        reads++
        return store.get(id)
      },
    }
    const client = await counter(t, wrapped)
    await client.get('/write')
    assert.equal(json(await client.get('/read')).n, 1)
    assert.equal(reads, 1)
  })

  it('commits a change at once: no promise, the store holds it before the commit returns', async (t) => {
    const store = memory(t)
    const sessions = createSessions<Data>({ storage: createServerStorage({ store }) })
    const transport = () => ({ encrypted: false, host: '127.0.0.1' })
    const first = {}
    const created = attachRequest(sessions, first, { cookieHeader: undefined, transport })
    ;(await getSession<Data>(first)).set('n', 1)
    const [setCookie] = await created.commit() // a new record: created asynchronously
    const cookie = (setCookie as string).split(';')[0] as string
    const handle = (await getSession<Data>(first)).handle as string
    for (const n of [2, 3]) {
      const request = {}
      const attached = attachRequest(sessions, request, { cookieHeader: cookie, transport })
      ;(await getSession<Data>(request)).set('n', n)
      const result = attached.commit()
      assert.ok(Array.isArray(result), 'a patch of the memory store needs no promise')
      assert.equal((await store.get(handle))?.fields['d:n'], String(n))
    }
  })

  it('patches through a patch that replaced the store’s own', async (t) => {
    const store = memory(t)
    const client = await counter(t, store)
    await client.get('/write')
    store.patch = () => Promise.reject(new Error('store down'))
    assert.equal((await client.get('/write')).status, 503)
    delete (store as Partial<MemoryStore>).patch
    assert.equal(json(await client.get('/read')).n, 1, 'the failed write changed nothing')
  })

  it('patches through the patch of a wrapper made by spreading the store', async (t) => {
    const store = memory(t)
    let patches = 0
    const wrapped: SessionStore = {
      ...store,
      patch: (id, patch) => {
        patches++
        return store.patch(id, patch)
      },
    }
    const client = await counter(t, wrapped)
    await client.get('/write')
    assert.equal(json(await client.get('/write')).n, 2)
    assert.equal(json(await client.get('/read')).n, 2)
    assert.equal(patches, 1)
  })
})
