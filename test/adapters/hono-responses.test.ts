/**
 * The Hono adapter and the handler's `Response` on @hono/node-server, over real HTTP: the session's
 * headers go into the response itself (no copy), a copy only where the response cannot or must
 * not be changed (immutable headers, a redirect, an object returned again), and no visitor ever
 * gets another's cookie from a `Response` object the application returns more than once.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Hono } from 'hono'
import { sessionMiddleware } from '../../src/adapters/hono.ts'
import { newSession } from '../../src/index.ts'
import { createFixture } from '../support/adapter-fixture.ts'
import { appWith, start } from '../support/hono-node.ts'
import { Client, type HttpResult, json, serve, setCookieOf } from '../support/http.ts'

/** The session cookies a response set (raw Set-Cookie values). */
const sessionCookies = (result: HttpResult): string[] =>
  result.rawSetCookies.filter((cookie) => cookie.startsWith('session='))

describe('Hono adapter: the handler’s Response', () => {
  it('c.json: the cookie and Vary: Cookie go into the handler’s own Response', async (t) => {
    const made: Response[] = []
    const sent: Response[] = []
    const { client } = await start(t, (sessions) => {
      const app = new Hono()
      app.use(async (c, next) => {
        await next()
        sent.push(c.res)
      })
      app.use(sessionMiddleware(sessions))
      app.get('/', async (c) => {
        ;(await c.get('session')).set('n', 1)
        c.header('Vary', 'Accept')
        const response = c.json({ ok: true })
        made.push(response)
        return response
      })
      return app
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.deepEqual(json(result), { ok: true })
    assert.match(String(result.headers['content-type']), /^application\/json/)
    assert.equal(result.headers.vary, 'Accept, Cookie')
    assert.equal(sessionCookies(result).length, 1)
    assert.ok(made[0] !== undefined && sent[0] === made[0], 'the same Response object')
  })

  it('Response.redirect() (immutable headers on Node.js) still gets its cookie', async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.post('/login', async (c) => {
        ;(await newSession(c)).set('user', 'ann')
        return Response.redirect('http://127.0.0.1/home', 302)
      })
      app.get('/who', async (c) => c.json((await c.get('session')).get('user') ?? null))
      return app
    })
    const login = await client.request('/login', { method: 'POST' })
    assert.equal(login.status, 302)
    assert.equal(login.headers.location, 'http://127.0.0.1/home')
    assert.equal(login.headers.vary, 'Cookie')
    assert.ok(setCookieOf(login, 'session')?.value)
    assert.equal(json(await client.get('/who')), 'ann')
  })

  it('a fetch() result, whose headers are immutable, gets the cookie on a copy', async (t) => {
    const upstream = await serve(t, (_req, res) => {
      res.setHeader('set-cookie', 'up=1; Path=/')
      res.end('from upstream')
    })
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/', async (c) => {
        ;(await c.get('session')).set('n', 1)
        return fetch(upstream)
      })
      return app
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.equal(result.body, 'from upstream')
    assert.equal(result.headers.vary, 'Cookie')
    assert.deepEqual(result.setCookies.map((cookie) => cookie.name).sort(), ['session', 'up'])
  })

  it('a Response cached by the handler and returned to a second visitor carries that visitor’s cookie only', async (t) => {
    let cached: Response | undefined
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/login/:user', async (c) => {
        ;(await newSession(c)).set('user', c.req.param('user'))
        cached ??= c.json({ page: 'welcome' }) // one object, kept: a body @hono/node-server holds
        return cached
      })
      app.get('/who', async (c) => c.json((await c.get('session')).get('user') ?? null))
      return app
    })
    const ann = await client.get('/login/ann')
    const bobClient = new Client(client.base)
    const bob = await bobClient.get('/login/bob')
    for (const result of [ann, bob]) {
      assert.equal(result.status, 200)
      assert.deepEqual(json(result), { page: 'welcome' })
      assert.equal(result.headers.vary, 'Cookie')
      assert.equal(sessionCookies(result).length, 1)
    }
    assert.notEqual(sessionCookies(bob)[0], sessionCookies(ann)[0])
    assert.equal(json(await client.get('/who')), 'ann')
    assert.equal(json(await bobClient.get('/who')), 'bob')
  })

  it('a Response object returned on every request: each visitor gets their own cookie, a request without a session none', async (t) => {
    // A null body: @hono/node-server can send this one object any number of times.
    let shared: Response | undefined
    const page = (): Response =>
      (shared ??= new Response(null, {
        status: 200,
        headers: { 'set-cookie': 'app=1; Path=/', vary: 'Accept', 'x-page': 'shared' },
      }))
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/login/:user', async (c) => {
        ;(await newSession(c)).set('user', c.req.param('user'))
        return page()
      })
      app.get('/plain', () => page())
      app.get('/who', async (c) => c.json((await c.get('session')).get('user') ?? null))
      return app
    })
    const ann = await client.get('/login/ann')
    const bobClient = new Client(client.base)
    const bob = await bobClient.get('/login/bob')
    const anonymous = await new Client(client.base).get('/plain')
    const again = await client.get('/login/ann')
    for (const result of [ann, bob, anonymous, again]) {
      assert.equal(result.status, 200)
      assert.equal(result.headers['x-page'], 'shared')
    }
    assert.deepEqual(anonymous.rawSetCookies, ['app=1; Path=/'], 'no session cookie')
    assert.equal(anonymous.headers.vary, 'Accept')
    for (const result of [ann, bob, again]) {
      assert.equal(sessionCookies(result).length, 1)
      assert.ok(result.rawSetCookies.includes('app=1; Path=/'))
      assert.equal(result.headers.vary, 'Accept, Cookie')
    }
    assert.notEqual(sessionCookies(bob)[0], sessionCookies(ann)[0])
    assert.notEqual(sessionCookies(again)[0], sessionCookies(bob)[0])
    assert.equal(json(await client.get('/who')), 'ann')
    assert.equal(json(await bobClient.get('/who')), 'bob')
  })
  it('two middlewares with two managers: both cookies reach the visitor, whichever read its session', async (t) => {
    const prefs = createFixture('cookie', { cookie: { name: 'prefs' } })
    const { client } = await start(t, (sessions) => {
      const app = new Hono()
      app.use(sessionMiddleware(prefs.sessions))
      app.use(sessionMiddleware(sessions))
      app.get('/:what', async (c) => {
        ;(await c.get('session')).set('n', 1) // the inner manager's session
        if (c.req.param('what') === 'both')
          (await prefs.sessions.getSession(c)).set('theme', 'dark')
        return c.text('ok')
      })
      return app
    })
    for (const path of ['/inner', '/both', '/inner']) {
      const result = await new Client(client.base).get(path)
      assert.equal(result.body, 'ok')
      assert.ok(setCookieOf(result, 'session')?.value, `${path}: the inner session's cookie`)
      assert.equal(setCookieOf(result, 'prefs') !== undefined, path === '/both', path)
      assert.equal(result.headers.vary, 'Cookie')
    }
  })
})
