import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { upgradeWebSocket } from '@hono/node-server'
import { Hono } from 'hono'
import { setCookie } from 'hono/cookie'
import { etag } from 'hono/etag'
import { streamText } from 'hono/streaming'
import { sessionMiddleware } from '../../src/adapters/hono.ts'
import { getSession, newSession } from '../../src/index.ts'
import { type Mount, runAdapterSuite } from '../support/adapter-suite.ts'
import { honoApp } from '../support/hono-app.ts'
import { appWith, listen, start } from '../support/hono-node.ts'
import { json, setCookieOf } from '../support/http.ts'

const mountHono: Mount = (t, sessions, routes, { onError }) =>
  listen(t, honoApp(sessions, routes, { onError, upgradeWebSocket }))

runAdapterSuite('Hono adapter (node-server)', mountHono, { upgrade: true })

describe('Hono adapter: responses', () => {
  it('c.redirect(303) after newSession and a flash carries the cookie; the next page shows the flash once', async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.post('/login', async (c) => {
        const session = await newSession(c)
        session.set('user', 'ada')
        session.flash('notice', 'Welcome, ada')
        return c.redirect('/', 303)
      })
      app.get('/', async (c) => {
        const session = await c.get('session')
        return c.json({
          user: session.get('user') ?? null,
          notice: session.getFlash('notice') ?? null,
        })
      })
      return app
    })
    const login = await client.request('/login', { method: 'POST' })
    assert.equal(login.status, 303)
    assert.equal(login.headers.location, '/')
    assert.ok(setCookieOf(login, 'session')?.value)
    assert.equal(login.headers.vary, 'Cookie')
    assert.deepEqual(json(await client.get('/')), { user: 'ada', notice: 'Welcome, ada' })
    assert.deepEqual(json(await client.get('/')), { user: 'ada', notice: null })
  })

  it('c.json keeps its content type and gets the cookie and Vary: Cookie', async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/', async (c) => {
        const session = await c.var.session
        session.set('visits', ((session.get('visits') as number | undefined) ?? 0) + 1)
        return c.json({ visits: session.get('visits') }, 201)
      })
      return app
    })
    const first = await client.get('/')
    assert.equal(first.status, 201)
    assert.match(String(first.headers['content-type']), /^application\/json/)
    assert.equal(first.headers.vary, 'Cookie')
    assert.deepEqual(json(first), { visits: 1 })
    assert.deepEqual(json(await client.get('/')), { visits: 2 })
  })

  it("keeps the application's own cookie (setCookie) and Vary next to the session's", async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/', async (c) => {
        ;(await getSession(c)).set('n', 1)
        setCookie(c, 'app', '1', { path: '/' })
        c.header('Vary', 'Accept-Encoding')
        return c.text('ok')
      })
      return app
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.deepEqual(result.setCookies.map((cookie) => cookie.name).sort(), ['app', 'session'])
    assert.equal(result.headers.vary, 'Accept-Encoding, Cookie')
  })

  it('streamText: writes made before the stream are sent; a write inside it after an await throws ERR_SESSION_COMMITTED', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/stream', async (c) => {
        const session = await c.get('session')
        session.set('before', 1)
        return streamText(
          c,
          async (out) => {
            await out.write('a;')
            await out.sleep(5)
            await out.write('b;')
            session.set('inside', 1) // the headers are out: refused
            await out.write('unreachable')
          },
          async (error, out) => {
            seen.push(error)
            await out.write('refused')
          },
        )
      })
      app.get('/get', async (c) => c.json((await c.get('session')).toJSON()))
      return app
    })
    const result = await client.get('/stream')
    assert.equal(result.status, 200)
    assert.equal(result.body, 'a;b;refused')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(result.headers.vary, 'Cookie')
    assert.equal((seen[0] as { code?: string }).code, 'ERR_SESSION_COMMITTED')
    assert.deepEqual(json(await client.get('/get')), { before: 1 })
  })

  it('a session first asked for inside a stream callback is read-only (its writes throw, never lost silently)', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/late', (c) =>
        streamText(
          c,
          async (out) => {
            await out.write('x')
            const session = await c.get('session')
            session.set('late', 1)
          },
          async (error) => {
            seen.push(error)
          },
        ),
      )
      return app
    })
    const result = await client.get('/late')
    assert.equal(result.body, 'x')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal((seen[0] as { code?: string }).code, 'ERR_SESSION_COMMITTED')
  })

  it('c.body with a ReadableStream delivers every chunk with the cookie', async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/', async (c) => {
        ;(await getSession(c.req.raw)).set('n', 1)
        const chunks = ['one;', 'two;', 'three']
        const body = new ReadableStream<Uint8Array>({
          pull(controller) {
            const chunk = chunks.shift()
            if (chunk === undefined) controller.close()
            else controller.enqueue(new TextEncoder().encode(chunk))
          },
        })
        return c.body(body)
      })
      return app
    })
    const result = await client.get('/')
    assert.equal(result.body, 'one;two;three')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('c.get, c.var, getSession(c) and getSession(c.req.raw) give one session, loaded once', async (t) => {
    const { client, fixture } = await start(
      t,
      (sessions, fixture) => {
        const app = appWith(sessions, fixture)
        app.get('/inc', async (c) => {
          const session = await c.get('session')
          session.set('n', 1)
          return c.text('ok')
        })
        app.get('/', async (c) => {
          const all = await Promise.all([
            c.get('session'),
            c.var.session,
            getSession(c),
            getSession(c.req.raw),
          ])
          await c.get('session')
          return c.json({ same: all.every((session) => session === all[0]), n: all[0].get('n') })
        })
        return app
      },
      'server',
    )
    assert.equal((await client.get('/inc')).status, 200)
    const before = fixture.store?.calls.get ?? 0
    assert.deepEqual(json(await client.get('/')), { same: true, n: 1 })
    assert.equal((fixture.store?.calls.get ?? 0) - before, 1, 'one store read')
  })

  it('a request that never awaits c.get("session") touches no storage, sends no Vary and keeps its Response', async (t) => {
    const made: Response[] = []
    let returned: Response | undefined
    const { client, fixture } = await start(
      t,
      (sessions) => {
        const app = new Hono()
        app.use(async (c, next) => {
          await next()
          returned = c.res
        })
        app.use(sessionMiddleware(sessions))
        app.get('/', (c) => {
          void c.get('session') // the variable exists; not awaited, it loads nothing
          const response = new Response('plain')
          made.push(response)
          return response
        })
        return app
      },
      'server',
    )
    const result = await client.get('/', { headers: { cookie: 'session=anything' } })
    assert.equal(result.body, 'plain')
    assert.equal(result.headers.vary, undefined)
    assert.equal(fixture.store?.total(), 0)
    assert.ok(made[0] !== undefined && returned === made[0], 'the same Response object')
  })
  it('registered before etag(), a 304 Not Modified still carries the session cookie', async (t) => {
    const { client } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.use(etag())
      app.get('/', async (c) => {
        const session = await c.get('session')
        session.set('visits', ((session.get('visits') as number | undefined) ?? 0) + 1)
        return c.text('the same page')
      })
      app.get('/visits', async (c) => c.json((await c.get('session')).get('visits')))
      return app
    })
    const first = await client.get('/')
    const tag = first.headers.etag
    assert.ok(tag)
    const again = await client.get('/', { headers: { 'if-none-match': tag } })
    assert.equal(again.status, 304)
    assert.ok(setCookieOf(again, 'session')?.value, 'the changed session still reaches the client')
    assert.equal(again.headers.vary, 'Cookie')
    assert.equal(json(await client.get('/visits')), 2)
  })
})
