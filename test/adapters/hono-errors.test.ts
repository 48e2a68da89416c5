import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { Hono } from 'hono'
import { HTTPException } from 'hono/http-exception'
import { sessionMiddleware } from '../../src/adapters/hono.ts'
import { SessionCookieTooLargeError, SessionStoreError } from '../../src/index.ts'
import { appWith, start } from '../support/hono-node.ts'
import { Client, json } from '../support/http.ts'

describe('Hono adapter: errors', () => {
  it('app.onError receives the typed SessionStoreError of a failed save, in place of the response', async (t) => {
    const { client, fixture } = await start(
      t,
      (sessions, fixture) => {
        const app = appWith(sessions, fixture)
        app.get('/inc', async (c) => {
          const session = await c.get('session')
          session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
          return c.json({ n: session.get('n') }, 200, { 'x-handler': 'yes' })
        })
        return app
      },
      'server',
    )
    assert.equal((await client.get('/inc')).headers['x-handler'], 'yes')
    fixture.store?.failing.add('patch')
    const result = await client.get('/inc')
    assert.equal(result.status, 503)
    assert.deepEqual(json(result), {
      error: 'session store failed to update: store down',
      code: 'ERR_SESSION_STORE',
    })
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers['x-handler'], undefined, 'nothing of the dropped response leaks')
    assert.ok(fixture.errors[0] instanceof SessionStoreError)
    assert.equal((fixture.errors[0] as SessionStoreError).operation, 'update')
  })

  it('app.onError receives the typed SessionCookieTooLargeError', async (t) => {
    const { client, fixture } = await start(t, (sessions, fixture) => {
      const app = appWith(sessions, fixture)
      app.get('/big', async (c) => {
        ;(await c.get('session')).set('big', 'x'.repeat(5000))
        return c.json({ ok: true })
      })
      return app
    })
    const result = await client.get('/big')
    assert.equal(result.status, 500)
    assert.equal(json(result).code, 'ERR_SESSION_COOKIE_TOO_LARGE')
    assert.ok(fixture.errors[0] instanceof SessionCookieTooLargeError)
    assert.deepEqual(result.rawSetCookies, [])
  })

  it('a handler that throws an HTTPException after a write commits nothing; Hono answers its status', async (t) => {
    const { client, fixture } = await start(
      t,
      (sessions) => {
        const app = new Hono()
        app.use(sessionMiddleware(sessions))
        app.get('/inc', async (c) => {
          const session = await c.get('session')
          session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
          if (c.req.query('deny') !== undefined) throw new HTTPException(403, { message: 'no' })
          return c.json(session.toJSON())
        })
        return app
      },
      'server',
    )
    assert.deepEqual(json(await client.get('/inc')), { n: 1 })
    const patches = fixture.store?.calls.patch
    const denied = await client.get('/inc?deny')
    assert.equal(denied.status, 403)
    assert.equal(denied.body, 'no')
    assert.deepEqual(denied.rawSetCookies, [])
    assert.equal(denied.headers.vary, 'Cookie', 'the session was read')
    assert.equal(fixture.store?.calls.patch, patches, 'nothing was written')
    assert.deepEqual(json(await client.get('/inc')), { n: 2 })
  })

  it('a handler that throws something other than an Error commits nothing; the server answers 500', async (t) => {
    const { client, fixture } = await start(
      t,
      (sessions) => {
        const app = new Hono()
        app.use(sessionMiddleware(sessions))
        app.get('/', async (c) => {
          ;(await c.get('session')).set('n', 1)
          throw 'not an Error'
        })
        return app
      },
      'server',
    )
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(fixture.store?.inner.size, 0)
  })

  it('a garbage cookie gives a fresh session, never an error', async (t) => {
    for (const kind of ['cookie', 'server'] as const) {
      const { client, fixture } = await start(
        t,
        (sessions, fixture) => {
          const app = appWith(sessions, fixture)
          app.get('/', async (c) => {
            const session = await c.get('session')
            return c.json({ isNew: session.isNew, data: session.toJSON() })
          })
          return app
        },
        kind,
      )
      for (const cookie of [
        'session=%%%garbage.not-a-token',
        `session=${'A'.repeat(5000)}`,
        'session="',
      ]) {
        const result = await client.get('/', { headers: { cookie } })
        assert.equal(result.status, 200, `${kind}: ${cookie.slice(0, 40)}`)
        assert.deepEqual(json(result), { isNew: true, data: {} })
      }
      assert.deepEqual(fixture.errors, [])
    }
  })
})

describe('Hono adapter: concurrency', () => {
  it('32 parallel requests on one session each keep their change', async (t) => {
    const { client, fixture } = await start(
      t,
      (sessions, fixture) => {
        const app = appWith(sessions, fixture)
        app.put('/key/:name', async (c) => {
          const session = await c.get('session')
          await new Promise((resolve) => setTimeout(resolve, Math.random() * 5))
          session.set(c.req.param('name'), true)
          return c.body(null, 204)
        })
        app.get('/', async (c) => c.json((await c.get('session')).toJSON()))
        return app
      },
      'server',
    )
    assert.equal((await client.request('/key/first', { method: 'PUT' })).status, 204)
    const cookie = client.cookieHeader
    assert.ok(cookie)
    const names = Array.from({ length: 32 }, (_, index) => `k${index}`)
    const results = await Promise.all(
      names.map((name) =>
        new Client(client.base).request(`/key/${name}`, { method: 'PUT', headers: { cookie } }),
      ),
    )
    assert.deepEqual(
      results.map((result) => result.status),
      names.map(() => 204),
    )
    const data = json<Record<string, unknown>>(await client.get('/'))
    assert.deepEqual(Object.keys(data).sort(), ['first', ...names].sort())
    assert.deepEqual(fixture.errors, [])
  })
})
