/**
 * Where two features meet, over real loopback HTTP with the node adapter: a session replaced by
 * newSession, a login whose create fails, maxAge bounds, flash after the commit, per-session
 * "remember me", update/pop/isEmpty, owner-checked revocation.
 */
import assert from 'node:assert/strict'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import {
  createCookieStorage,
  createServerStorage,
  createSessions,
  getSession,
  isSessionError,
  newSession,
  type Serializer,
  type SessionManager,
  type SessionStore,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

type Route = (req: IncomingMessage, res: ServerResponse) => Promise<unknown>

/** Serves `routes` (JSON answers) with `sessions`; a route's SessionError answers 409 with its code. */
async function serve(t: TestContext, sessions: SessionManager, routes: Record<string, Route>) {
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const route = routes[new URL(req.url ?? '/', 'http://x').pathname]
      if (route === undefined) {
        res.statusCode = 404
        res.end()
        return
      }
      let body: unknown
      try {
        body = await route(req, res)
      } catch (error) {
        if (!isSessionError(error)) throw error
        res.statusCode = 409
        body = { error: error.code }
      }
      if (!res.writableEnded) {
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify(body ?? null))
      }
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return async (path: string, cookie?: string) => {
    const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} })
    const setCookie = response.headers.getSetCookie()[0]
    const text = await response.text()
    const json = response.headers.get('content-type')?.startsWith('application/json')
    return {
      status: response.status,
      body: json ? JSON.parse(text) : text,
      setCookie,
      cookie: setCookie && !/^session=;/.test(setCookie) ? setCookie.split(';')[0] : cookie,
    }
  }
}

const data = async (req: IncomingMessage) => (await getSession(req)).toJSON()

describe('features that meet', () => {
  it('a Session replaced by newSession refuses writes instead of losing them', async (t) => {
    const sessions = createSessions({
      storage: createServerStorage({ store: createMemoryStore() }),
    })
    const call = await serve(t, sessions, {
      '/login': async (req) => {
        const before = await getSession(req)
        const after = await newSession(req)
        after.set('user', 'ann')
        assert.throws(() => before.set('cart', 'lost'), { code: 'ERR_SESSION_REPLACED' })
        assert.throws(() => before.invalidate(), { code: 'ERR_SESSION_REPLACED' })
        assert.equal(await getSession(req), after, 'getSession now gives the new session')
        return { ok: true }
      },
      '/get': data,
    })
    const login = await call('/login')
    assert.equal(login.status, 200, JSON.stringify(login.body))
    assert.deepEqual((await call('/get', login.cookie)).body, { user: 'ann' })
  })

  it('a login whose create fails leaves the previous session alive', async (t) => {
    const memory = createMemoryStore()
    let failCreate = false
    const store: SessionStore = {
      ...memory,
      create: (record) =>
        failCreate ? Promise.reject(new Error('disk full')) : memory.create(record),
    }
    const sessions = createSessions({ storage: createServerStorage({ store }) })
    const call = await serve(t, sessions, {
      '/set': async (req) => (await getSession(req)).set('user', 'ann').toJSON(),
      '/login': async (req) => (await newSession(req)).set('user', 'bob').toJSON(),
      '/get': data,
    })
    const first = await call('/set')
    failCreate = true
    const login = await call('/login', first.cookie)
    assert.equal(login.status, 503, 'the store error reaches the error path')
    assert.equal(login.setCookie, undefined)
    failCreate = false
    assert.deepEqual((await call('/get', first.cookie)).body, { user: 'ann' }, 'still logged in')
  })

  it('refuses a maxAge that is not a finite positive number of seconds', async (t) => {
    const sessions = createSessions({
      storage: createServerStorage({ store: createMemoryStore() }),
    })
    const call = await serve(t, sessions, {
      '/max': async (req) => {
        const session = await getSession(req)
        const value = Number(new URL(req.url ?? '', 'http://x').searchParams.get('s'))
        session.maxAge = value
        return { maxAge: session.maxAge }
      },
      '/get': async (req) => ({ maxAge: (await getSession(req)).maxAge ?? null }),
    })
    for (const bad of ['Infinity', '-1', '0', 'NaN', '1e300']) {
      assert.deepEqual((await call(`/max?s=${bad}`)).body, { error: 'ERR_SESSION_CONFIG' }, bad)
    }
    const ok = await call('/max?s=600')
    assert.deepEqual(ok.body, { maxAge: 600 })
    assert.match(ok.setCookie ?? '', /Max-Age=600/)
    assert.deepEqual((await call('/get', ok.cookie)).body, { maxAge: 600 }, 'read back intact')
  })

  it('getFlash after the commit refuses instead of showing the flash again', async (t) => {
    const sessions = createSessions({
      storage: createServerStorage({ store: createMemoryStore() }),
    })
    const call = await serve(t, sessions, {
      '/flash': async (req) => {
        ;(await getSession(req)).flash('notice', 'saved')
        return {}
      },
      '/late': async (req, res) => {
        const session = await getSession(req)
        res.setHeader('content-type', 'application/json')
        res.write('{"late":') // the headers leave: the session is committed
        await new Promise((resolve) => setImmediate(resolve))
        let late: string
        try {
          late = String(session.getFlash('notice'))
        } catch (error) {
          late = (error as { code: string }).code
        }
        res.end(`${JSON.stringify(late)}}`)
      },
      '/read': async (req) => ({ notice: (await getSession(req)).getFlash('notice') ?? null }),
    })
    const { cookie } = await call('/flash')
    assert.deepEqual((await call('/late', cookie)).body, { late: 'ERR_SESSION_COMMITTED' })
    assert.deepEqual((await call('/read', cookie)).body, { notice: 'saved' }, 'still there once')
    assert.deepEqual((await call('/read', cookie)).body, { notice: null }, 'and only once')
  })

  for (const kind of ['server', 'cookie'] as const) {
    it(`remembers per session whether its cookie is persistent (${kind} storage)`, async (t) => {
      const storage =
        kind === 'server'
          ? createServerStorage({ store: createMemoryStore() })
          : createCookieStorage({ codec: createSealedCodec({ keys: ['k'.repeat(32)] }) })
      const sessions = createSessions({ storage, touchAfter: 0 })
      const call = await serve(t, sessions, {
        '/login': async (req) => {
          const remember = new URL(req.url ?? '', 'http://x').searchParams.get('remember') === '1'
          const session = await newSession(req)
          session.persistent = remember
          session.set('user', 'ann')
          return { persistent: session.persistent }
        },
        '/inc': async (req) => {
          const session = await getSession(req)
          session.set('n', ((session.get('n') as number) ?? 0) + 1)
          return { persistent: session.persistent }
        },
      })
      const short = await call('/login?remember=0')
      assert.deepEqual(short.body, { persistent: false })
      assert.doesNotMatch(short.setCookie ?? '', /Max-Age|Expires/i, 'a browser-session cookie')
      const later = await call('/inc', short.cookie)
      assert.deepEqual(later.body, { persistent: false }, 'the choice is stored with the session')
      if (later.setCookie) assert.doesNotMatch(later.setCookie, /Max-Age/i)
      const long = await call('/login?remember=1')
      assert.match(long.setCookie ?? '', /Max-Age=1209600/)
      const again = await call('/inc', long.cookie)
      assert.deepEqual(again.body, { persistent: true })
      assert.match(again.setCookie ?? '', /Max-Age=/, 'a persistent cookie slides')
    })
  }

  it('update, pop and isEmpty save what they change', async (t) => {
    const sessions = createSessions({
      storage: createServerStorage({ store: createMemoryStore() }),
    })
    const call = await serve(t, sessions, {
      '/update': async (req) => {
        const session = await getSession(req)
        const wasEmpty = session.isEmpty
        session.update({ a: 1, b: 'two', c: [3] })
        return { wasEmpty, isEmpty: session.isEmpty }
      },
      '/pop': async (req) => {
        const session = await getSession(req)
        return { popped: session.pop('b') ?? null, missing: session.pop('zzz') ?? null }
      },
      '/unset': async (req) =>
        (await getSession(req)).update({ a: undefined, c: undefined }).toJSON(),
      '/get': async (req) => ({ data: await data(req), isEmpty: (await getSession(req)).isEmpty }),
    })
    const first = await call('/update')
    assert.deepEqual(first.body, { wasEmpty: true, isEmpty: false })
    assert.deepEqual((await call('/pop', first.cookie)).body, { popped: 'two', missing: null })
    assert.deepEqual((await call('/get', first.cookie)).body, {
      data: { a: 1, c: [3] },
      isEmpty: false,
    })
    await call('/unset', first.cookie)
    assert.deepEqual((await call('/get', first.cookie)).body, { data: {}, isEmpty: true })
  })

  it('revokeSession checks the owner; adminRevokeSession does not', async (t) => {
    const sessions = createSessions({
      storage: createServerStorage({ store: createMemoryStore() }),
    })
    const call = await serve(t, sessions, {
      '/as': async (req) => {
        const session = await getSession(req)
        session.setSubject(new URL(req.url ?? '', 'http://x').searchParams.get('user'))
        return { handle: session.handle }
      },
      '/get': async (req) => ({ isNew: (await getSession(req)).isNew }),
    })
    const ann = await call('/as?user=ann')
    const bob = await call('/as?user=bob')
    assert.equal(await sessions.revokeSession(ann.body.handle, 'bob'), false, "bob can't end ann's")
    assert.deepEqual((await call('/get', ann.cookie)).body, { isNew: false })
    await assert.rejects(sessions.revokeSession(ann.body.handle, undefined as never), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.equal(await sessions.revokeSession(ann.body.handle, 'ann'), true)
    assert.deepEqual((await call('/get', ann.cookie)).body, { isNew: true })
    assert.equal(await sessions.adminRevokeSession(bob.body.handle), true)
    assert.equal(await sessions.adminRevokeSession(bob.body.handle), false)
    assert.deepEqual((await call('/get', bob.cookie)).body, { isNew: true })
  })

  it('a custom serializer encodes every stored value on its own and reads it back', async (t) => {
    // Dates and bigints survive: each value is tagged JSON.
    let calls = 0
    const tagged: Serializer = {
      stringify(value) {
        calls++
        return JSON.stringify(value, (_key, v) => (typeof v === 'bigint' ? { $big: String(v) } : v))
      },
      parse(text) {
        return JSON.parse(text, (_key, v) =>
          v !== null && typeof v === 'object' && typeof v.$big === 'string' ? BigInt(v.$big) : v,
        )
      },
    }
    const store = createMemoryStore()
    const sessions = createSessions({ storage: createServerStorage({ store, serializer: tagged }) })
    const call = await serve(t, sessions, {
      '/set': async (req) => {
        const session = await getSession(req)
        session.update({ big: 2n ** 70n, name: 'ann' })
        session.flash('note', 5n)
        return { handle: session.handle }
      },
      '/more': async (req) => {
        ;(await getSession(req)).set('n', 1)
        return {}
      },
      '/get': async (req) => {
        const session = await getSession(req)
        return {
          big: String(session.get('big')),
          isBig: typeof session.get('big') === 'bigint',
          note: String(session.getFlash('note')),
        }
      },
    })
    const first = await call('/set')
    assert.equal(calls, 3, 'one stringify per value (two data values, one flash value)')
    const record = await store.get(first.body.handle)
    assert.equal(record?.fields['d:big'], '{"$big":"1180591620717411303424"}')
    assert.equal(record?.fields['f:note'], '{"$big":"5"}')
    calls = 0
    await call('/more', first.cookie)
    assert.equal(calls, 1, 'a write encodes only the value it changed')
    assert.deepEqual((await call('/get', first.cookie)).body, {
      big: '1180591620717411303424',
      isBig: true,
      note: '5',
    })
  })
})
