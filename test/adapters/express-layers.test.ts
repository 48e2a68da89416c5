/**
 * Where Express moves a request between prototypes (a mounted sub-app swaps them on the way in
 * and out) or stacks two managers on one request, what the adapter gives the request must stay
 * with that request: `getSession`, `newSession`, `req.session`, each manager's own session and
 * cookie. Also the middleware without Express, on plain node:http.
 */
import assert from 'node:assert/strict'
import { createServer, IncomingMessage } from 'node:http'
import { describe, it } from 'node:test'
import type { ErrorRequestHandler } from 'express'
import { discardOnError, sessionMiddleware } from '../../src/adapters/express.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import {
  createCookieStorage,
  createServerStorage,
  createSessions,
  getSession,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { asyncHandler, EXPRESS_VERSIONS, serveExpress } from '../support/express-app.ts'
import { Client, json, serve } from '../support/http.ts'

const cookieSessions = (name: string) =>
  createSessions<{ n: number }>({
    storage: createCookieStorage({ codec: createPlainCodec() }),
    cookie: { name, secure: false },
  })

for (const version of EXPRESS_VERSIONS) {
  describe(`${version.name} adapter: what each request gets, across sub-apps and managers`, () => {
    it('a mounted sub-app reads and writes the session of the parent app, req.session included', async (t) => {
      const sessions = cookieSessions('session')
      const app = version.create()
      const sub = version.create()
      app.use(sessionMiddleware(sessions, { autoload: ['/sub/auto'] }))
      sub.get(
        '/write',
        asyncHandler(version, async (req, res) => {
          const session = await req.getSession<{ n: number }>()
          session.set('n', (session.get('n') ?? 0) + 1)
          res.json({ n: session.get('n'), same: (req.session as unknown) === session })
        }),
      )
      sub.get('/auto', (req, res) => {
        res.json({ n: (req.session as unknown as { get(key: 'n'): number }).get('n') })
      })
      app.use('/sub', sub)
      app.get('/read', (req, res) => res.json({ loaded: req.session !== undefined }))
      const client = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await client.get('/sub/write')), { n: 1, same: true })
      assert.deepEqual(json(await client.get('/sub/write')), { n: 2, same: true })
      assert.deepEqual(json(await client.get('/sub/auto')), { n: 2 })
      // A request whose session was never asked for has no req.session, as before.
      assert.deepEqual(json(await client.get('/read')), { loaded: false })
    })

    it('req.session can be assigned and read back, and belongs to its own request only', async (t) => {
      const sessions = cookieSessions('session')
      const app = version.create()
      app.use(sessionMiddleware(sessions))
      app.get('/assign', (req, res) => {
        const before = req.session
        ;(req as unknown as { session: unknown }).session = { mine: req.query.v }
        res.json({ before: before ?? null, after: req.session })
      })
      const base = await serveExpress(t, app)
      const answers = await Promise.all(
        Array.from({ length: 32 }, (_, i) => new Client(base).get(`/assign?v=${i}`)),
      )
      answers.forEach((answer, i) => {
        assert.deepEqual(json(answer), { before: null, after: { mine: String(i) } })
      })
    })

    it('two managers on one request: each keeps its own session and cookie', async (t) => {
      const outer = cookieSessions('outer')
      const inner = createSessions<{ n: number }>({
        storage: createServerStorage({ store: createMemoryStore() }),
        cookie: { name: 'inner', secure: false },
      })
      const app = version.create()
      app.use(sessionMiddleware(outer))
      app.use(sessionMiddleware(inner))
      app.get(
        '/both',
        asyncHandler(version, async (req, res) => {
          const a = await outer.getSession(req)
          const b = await inner.getSession(req)
          a.set('n', (a.get('n') ?? 0) + 1)
          b.set('n', (b.get('n') ?? 0) + 10)
          // getSession(req) is the innermost manager's, as the README says.
          res.json({
            a: a.get('n'),
            b: b.get('n'),
            innermost: ((await getSession(req)) as unknown) === b,
          })
        }),
      )
      const client = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await client.get('/both')), { a: 1, b: 10, innermost: true })
      assert.deepEqual(json(await client.get('/both')), { a: 2, b: 20, innermost: true })
      assert.ok(client.cookie('outer'))
      assert.ok(client.cookie('inner'))
    })

    it('two managers and a failing route: neither saves, the error middleware answers once', async (t) => {
      const store = createMemoryStore()
      const outer = cookieSessions('outer')
      const inner = createSessions<{ n: number }>({
        storage: createServerStorage({ store }),
        cookie: { name: 'inner', secure: false },
      })
      const app = version.create()
      app.use(sessionMiddleware(outer))
      app.use(sessionMiddleware(inner))
      let errors = 0
      app.get(
        '/fail',
        asyncHandler(version, async (req) => {
          ;(await outer.getSession(req)).set('n', 1)
          ;(await inner.getSession(req)).set('n', 1)
          throw new Error('route failed')
        }),
      )
      app.use(discardOnError())
      app.use(((error, _req, res, _next) => {
        errors++
        res.status(500).json({ error: (error as Error).message })
      }) as ErrorRequestHandler)
      const answer = await new Client(await serveExpress(t, app)).get('/fail')
      assert.equal(answer.status, 500)
      assert.deepEqual(json(answer), { error: 'route failed' })
      assert.equal(errors, 1)
      assert.equal(answer.setCookies.length, 0, 'no cookie from either manager')
      assert.equal(store.size, 0, 'nothing stored')
    })

    it('req.session is the session getSession(req) loaded, in the app and its sub-apps', async (t) => {
      const sessions = cookieSessions('session')
      const app = version.create()
      const sub = version.create()
      app.use(sessionMiddleware(sessions))
      const route = asyncHandler(version, async (req, res) => {
        const before = req.session
        const session = await getSession(req)
        res.json({
          before: before ?? null,
          same: (req.session as unknown) === session,
          // On the app's request prototype: an own property costs every Express request time.
          own: ['getSession', 'newSession', 'session'].filter((key) => Object.hasOwn(req, key)),
        })
      })
      app.get('/here', route)
      sub.get('/there', route)
      app.use('/sub', sub)
      const client = new Client(await serveExpress(t, app))
      const expected = { before: null, same: true, own: [] }
      assert.deepEqual(json(await client.get('/here')), expected)
      assert.deepEqual(json(await client.get('/sub/there')), expected)
    })

    it('holds the response through app.response: no own hooks or properties, the commit still awaited', async (t) => {
      const store = createMemoryStore()
      const sessions = createSessions<{ n: number }>({
        storage: createServerStorage({ store }),
        cookie: { secure: false },
      })
      const app = version.create()
      const sub = version.create()
      const hooks = ['writeHead', 'write', 'end', 'flushHeaders']
      const route = asyncHandler(version, async (req, res) => {
        const session = await req.getSession<{ n: number }>()
        session.set('n', (session.get('n') ?? 0) + 1)
        // Held through the prototype, the response gets nothing of its own from sessionware.
        const symbols = Object.getOwnPropertySymbols(res).map((symbol) =>
          String(symbol.description),
        )
        res.json({
          n: session.get('n'),
          own: hooks.filter((name) => Object.hasOwn(res, name)),
          ours: symbols.filter((name) => name.startsWith('sessionware')),
        })
      })
      app.use(sessionMiddleware(sessions))
      app.get('/top', route)
      sub.use(sessionMiddleware(sessions))
      sub.get('/in', route)
      app.use('/sub', sub)
      const client = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await client.get('/top')), { n: 1, own: [], ours: [] })
      assert.equal(store.size, 1, 'stored before the response')
      // Mounted in a sub-app, the middleware hooks the response itself: the response leaves the
      // sub-app's prototype again on its way out.
      assert.deepEqual(json(await client.get('/sub/in')), { n: 2, own: hooks, ours: [] })
    })

    it('an app that froze app.request and app.response still gets sessions', async (t) => {
      const sessions = cookieSessions('session')
      const app = version.create()
      Object.freeze(app.request)
      Object.freeze(app.response)
      app.use(sessionMiddleware(sessions))
      app.get(
        '/visit',
        asyncHandler(version, async (req, res) => {
          const session = await req.getSession<{ n: number }>()
          session.set('n', (session.get('n') ?? 0) + 1)
          res.json({ n: session.get('n'), same: (req.session as unknown) === session })
        }),
      )
      const client = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await client.get('/visit')), { n: 1, same: true })
      assert.deepEqual(json(await client.get('/visit')), { n: 2, same: true })
    })

    it('mounted in a sub-app only: the routes after the sub-app keep req.getSession', async (t) => {
      const sessions = cookieSessions('session')
      const app = version.create()
      const sub = version.create()
      sub.use(sessionMiddleware(sessions))
      sub.get('/in', (_req, _res, next) => next()) // leaves the sub-app again
      app.use('/sub', sub)
      app.get(
        '/sub/in',
        asyncHandler(version, async (req, res) => {
          const session = await req.getSession<{ n: number }>()
          session.set('n', (session.get('n') ?? 0) + 1)
          res.json({ n: session.get('n'), same: (req.session as unknown) === session })
        }),
      )
      const other = version.create()
      other.get('/', (req, res) => res.json({ getSession: typeof req.getSession }))
      const client = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await client.get('/sub/in')), { n: 1, same: true })
      assert.deepEqual(json(await client.get('/sub/in')), { n: 2, same: true })
      // Another app of the same process, without the middleware, gets nothing.
      const bare = new Client(await serveExpress(t, other))
      assert.deepEqual(json(await bare.get('/')), { getSession: 'undefined' })
    })
  })
}

describe('Express adapter middleware on plain node:http', () => {
  it('gives the request getSession and leaves IncomingMessage.prototype alone', async (t) => {
    const sessions = cookieSessions('session')
    const middleware = sessionMiddleware(sessions)
    const server = createServer((req, res) => {
      middleware(req, res, (error?: unknown) => {
        const r = req as IncomingMessage & { getSession(): Promise<{ get(k: 'n'): number }> }
        if (error) throw error
        r.getSession().then(
          (session) => {
            res.setHeader('content-type', 'application/json')
            res.end(JSON.stringify({ n: session.get('n') ?? null }))
          },
          (failure: unknown) => {
            res.statusCode = 500
            res.end(String(failure))
          },
        )
      })
    })
    const client = new Client(await serve(t, server.listeners('request')[0] as never))
    assert.deepEqual(json(await client.get('/')), { n: null })
    for (const name of ['getSession', 'newSession', 'session']) {
      assert.equal(Object.getOwnPropertyDescriptor(IncomingMessage.prototype, name), undefined)
    }
  })
})
