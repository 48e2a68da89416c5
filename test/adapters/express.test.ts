import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { ErrorRequestHandler } from 'express'
import { discardOnError, sessionMiddleware } from '../../src/adapters/express.ts'
import { SessionCookieTooLargeError, SessionStoreError } from '../../src/index.ts'
import { createFixture, runAdapterSuite } from '../support/adapter-suite.ts'
import {
  asyncHandler,
  cookieOf,
  EXPRESS_VERSIONS,
  eager,
  mountExpress,
  serveExpress,
  startExpress,
} from '../support/express-app.ts'
import { Client, json } from '../support/http.ts'

for (const version of EXPRESS_VERSIONS) {
  runAdapterSuite(`${version.name} adapter`, mountExpress(version), { upgrade: true })
}

/** The app's own error middleware: picks the status by error type and answers JSON. */
function chooseStatus(seen: unknown[]): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    seen.push(error)
    const status =
      error instanceof SessionStoreError
        ? 503
        : error instanceof SessionCookieTooLargeError
          ? 413
          : 500
    res
      .status(status)
      .json({ error: (error as Error).message, code: (error as { code?: string }).code })
  }
}

for (const version of EXPRESS_VERSIONS) {
  describe(`${version.name} adapter: errors go to the app's error middleware`, () => {
    it('a store failure on an eager load arrives as SessionStoreError; the route never runs', async (t) => {
      const seen: unknown[] = []
      let ran = false
      const { client, fixture } = await startExpress(
        t,
        version,
        (app) => {
          app.get('/set', (req, res) => {
            eager(req).set('n', 1)
            res.end()
          })
          app.get('/account', (req, res) => {
            ran = true
            res.json({ n: eager(req).get('n') ?? null })
          })
        },
        { adapter: { autoload: ['/account', '/set'] }, onError: chooseStatus(seen) },
      )
      assert.ok(cookieOf(await client.get('/set')))
      fixture.store?.failing.add('get')
      const result = await client.get('/account')
      assert.equal(result.status, 503)
      assert.equal(json(result).code, 'ERR_SESSION_STORE')
      assert.equal(ran, false)
      assert.ok(seen[0] instanceof SessionStoreError)
      assert.equal(seen[0].operation, 'load')
    })

    it('a store failure on the commit arrives as SessionStoreError before anything is sent', async (t) => {
      const seen: unknown[] = []
      const { client, fixture } = await startExpress(
        t,
        version,
        (app) => {
          app.get(
            '/inc',
            asyncHandler(version, async (req, res) => {
              const session = await req.getSession()
              session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
              res.set('x-route', 'inc').json({ n: session.get('n') })
            }),
          )
        },
        { onError: chooseStatus(seen) },
      )
      assert.equal((await client.get('/inc')).status, 200)
      fixture.store?.failing.add('patch')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(json(result).code, 'ERR_SESSION_STORE')
      assert.deepEqual(result.rawSetCookies, [])
      assert.equal(
        result.headers['x-route'],
        'inc',
        'headers the route set stay; its body does not',
      )
      assert.equal(seen.length, 1)
      assert.ok(seen[0] instanceof SessionStoreError)
      assert.equal(seen[0].operation, 'update')
      fixture.store?.failing.clear()
      assert.deepEqual(json(await client.get('/inc')), { n: 2 })
    })

    it("without an error middleware of the app, Express's own answers 503 for a store failure", async (t) => {
      const fixture = createFixture('server')
      t.after(() => fixture.store?.inner.close())
      const app = version.create()
      app.set('env', 'test') // Express's own handler then does not log the error
      app.use(sessionMiddleware(fixture.sessions))
      app.get(
        '/inc',
        asyncHandler(version, async (req, res) => {
          ;(await req.getSession()).set('n', 1)
          res.send('stored')
        }),
      )
      app.use(discardOnError())
      const client = new Client(await serveExpress(t, app))
      fixture.store?.failing.add('create')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.deepEqual(result.rawSetCookies, [])
      assert.doesNotMatch(result.body, /stored/)
    })

    it("a commit error in a router goes to that router's error middleware first", async (t) => {
      const seen: string[] = []
      const { client, fixture } = await startExpress(
        t,
        version,
        (app) => {
          const api = version.router()
          api.get(
            '/inc',
            asyncHandler(version, async (req, res) => {
              ;(await req.getSession()).set('n', 1)
              res.json({ ok: true })
            }),
          )
          api.use(((error, _req, res, _next) => {
            seen.push('router')
            res.status(502).json({ where: 'router', code: error.code })
          }) satisfies ErrorRequestHandler)
          app.use('/api', api)
        },
        {
          onError: (_error, _req, res, _next) => {
            seen.push('app')
            res.status(500).end()
          },
        },
      )
      fixture.store?.failing.add('create')
      const result = await client.get('/api/inc')
      assert.equal(result.status, 502)
      assert.deepEqual(json(result), { where: 'router', code: 'ERR_SESSION_STORE' })
      assert.deepEqual(seen, ['router'])
      assert.deepEqual(result.rawSetCookies, [])
    })

    it('a session too large for its cookie arrives as SessionCookieTooLargeError', async (t) => {
      const seen: unknown[] = []
      const { client } = await startExpress(
        t,
        version,
        (app) => {
          app.get(
            '/big',
            asyncHandler(version, async (req, res) => {
              ;(await req.getSession()).set('big', 'x'.repeat(5000))
              res.send('stored')
            }),
          )
        },
        { kind: 'cookie', onError: chooseStatus(seen) },
      )
      const result = await client.get('/big')
      assert.equal(result.status, 413)
      assert.doesNotMatch(result.body, /stored/)
      assert.deepEqual(result.rawSetCookies, [])
      assert.ok(seen[0] instanceof SessionCookieTooLargeError)
    })

    it('a route that throws synchronously after writing req.session commits nothing', async (t) => {
      const seen: unknown[] = []
      const { client, fixture } = await startExpress(
        t,
        version,
        (app) => {
          app.get('/set', (req, res) => {
            eager(req).set('n', 1)
            res.json({ ok: true })
          })
          app.get('/throw', (req) => {
            eager(req).set('n', 99)
            throw new Error('sync boom')
          })
          app.get('/get', (req, res) => {
            res.json({ n: eager(req).get('n') ?? null })
          })
        },
        { adapter: { autoload: true }, onError: chooseStatus(seen) },
      )
      assert.ok(cookieOf(await client.get('/set')))
      const writes = fixture.store?.calls.patch
      const result = await client.get('/throw')
      assert.equal(result.status, 500)
      assert.deepEqual(result.rawSetCookies, [])
      assert.equal((seen[0] as Error).message, 'sync boom')
      assert.equal(fixture.store?.calls.patch, writes, 'nothing was written')
      assert.deepEqual(json(await client.get('/get')), { n: 1 })
    })

    it(
      'an async route that rejects after a write commits nothing (Express 5 catches it)',
      version.catchesRejections ? {} : { skip: 'Express 4 leaves a rejected handler unhandled' },
      async (t) => {
        const seen: unknown[] = []
        const { client, fixture } = await startExpress(
          t,
          version,
          (app) => {
            app.get('/throw', async (req) => {
              const session = await req.newSession()
              session.set('user', 'mallory')
              throw new Error('async boom')
            })
          },
          { onError: chooseStatus(seen) },
        )
        const result = await client.get('/throw')
        assert.equal(result.status, 500)
        assert.deepEqual(result.rawSetCookies, [])
        assert.equal((seen[0] as Error).message, 'async boom')
        assert.equal(fixture.store?.inner.size, 0)
      },
    )

    it('an error after the response started reaches the error middleware once the commit is done', async (t) => {
      const seen: unknown[] = []
      let headersSentThen: boolean | undefined
      const { client, fixture } = await startExpress(
        t,
        version,
        (app) => {
          app.get('/late', (req, res) => {
            eager(req).set('n', 1)
            res.write('partial')
            throw new Error('late boom')
          })
        },
        {
          adapter: { autoload: true },
          onError: (error, _req, res, _next) => {
            seen.push(error)
            headersSentThen = res.headersSent
            res.end()
          },
        },
      )
      fixture.store?.delays.set('create', 20)
      const result = await client.get('/late')
      assert.equal(result.status, 200)
      assert.equal(result.body, 'partial')
      assert.ok(cookieOf(result), 'the commit the response started completed')
      assert.equal((seen[0] as Error).message, 'late boom')
      assert.equal(headersSentThen, true)
    })
  })
}
