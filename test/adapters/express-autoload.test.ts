import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { ErrorRequestHandler } from 'express'
import { autoloadSession, sessionMiddleware } from '../../src/adapters/express.ts'
import { SessionConfigError, SessionStoreError } from '../../src/index.ts'
import { accesses } from '../support/adapter-checks.ts'
import { createFixture, type Fixture } from '../support/adapter-suite.ts'
import {
  asyncHandler,
  EXPRESS_VERSIONS,
  type ExpressVersion,
  eager,
  serveExpress,
  startExpress,
} from '../support/express-app.ts'
import { Client, json } from '../support/http.ts'

/** Whether `req.session` was set when the route ran. */
function loaded(req: object): boolean {
  return eager(req) !== undefined
}

/** Store reads so far. */
const reads = (fixture: Fixture): number => fixture.store?.calls.get ?? 0

/** An app with `autoload` whose `/login` (lazy) stores n = 1, logged in through `client`. */
async function loggedIn(
  t: TestContext,
  version: ExpressVersion,
  autoload: Parameters<typeof sessionMiddleware>[1],
  build: Parameters<typeof startExpress>[2],
): Promise<{ client: Client; fixture: Fixture }> {
  const started = await startExpress(
    t,
    version,
    (app, fixture) => {
      app.post(
        '/login',
        asyncHandler(version, async (req, res) => {
          ;(await req.newSession()).set('n', 1)
          res.end()
        }),
      )
      build(app, fixture)
    },
    { adapter: autoload },
  )
  assert.equal((await started.client.request('/login', { method: 'POST' })).status, 200)
  return started
}

for (const version of EXPRESS_VERSIONS) {
  describe(`${version.name} adapter: eager req.session`, () => {
    it('is loaded for the autoload paths and their subpaths, in any case, and nowhere else', async (t) => {
      const seen: Record<string, boolean> = {}
      const { client, fixture } = await loggedIn(t, version, { autoload: ['/account'] }, (app) => {
        app.get(/.*/, (req, res) => {
          seen[req.path] = loaded(req)
          res.json({ n: loaded(req) ? (eager(req).get('n') ?? null) : 'not loaded' })
        })
      })
      for (const path of ['/account', '/account/', '/account/settings', '/ACCOUNT/x']) {
        const before = reads(fixture)
        assert.deepEqual(json(await client.get(path)), { n: 1 }, path)
        assert.equal(reads(fixture), before + 1, `${path}: one store read`)
      }
      for (const path of ['/accounts', '/other', '/', '/x/account']) {
        const before = accesses(fixture)
        const result = await client.get(path)
        assert.deepEqual(json(result), { n: 'not loaded' }, path)
        assert.equal(accesses(fixture), before, `${path}: no storage access`)
        assert.equal(result.headers.vary, undefined, `${path}: no Vary`)
      }
      assert.equal(seen['/account/settings'], true)
      assert.equal(seen['/accounts'], false)
    })

    it('costs a store read on every matching request, even one that never uses the session', async (t) => {
      const { client, fixture } = await loggedIn(t, version, { autoload: true }, (app) => {
        app.get('/plain', (_req, res) => {
          res.send('no session here')
        })
      })
      const before = reads(fixture)
      const writes = fixture.store?.calls.patch
      for (let i = 0; i < 10; i++) {
        const result = await client.get('/plain')
        assert.equal(result.body, 'no session here')
        assert.deepEqual(result.rawSetCookies, [])
        assert.equal(result.headers.vary, 'Cookie', 'the session was read, so the response varies')
      }
      assert.equal(reads(fixture) - before, 10, 'one store read per request')
      assert.equal(fixture.store?.calls.patch, writes, 'and no write')
    })

    it('matches RegExp patterns against the path below the mount point', async (t) => {
      const { client, fixture } = await loggedIn(
        t,
        version,
        { autoload: [/^\/api\/v\d+\/me$/g] },
        (app) => {
          app.get(/.*/, (req, res) => {
            res.json({ loaded: loaded(req) })
          })
        },
      )
      // The g flag is dropped: a stateful RegExp would match every other request only.
      for (let i = 0; i < 3; i++) {
        assert.deepEqual(json(await client.get('/api/v2/me')), { loaded: true })
      }
      const before = accesses(fixture)
      assert.deepEqual(json(await client.get('/api/v2/me/x')), { loaded: false })
      assert.equal(accesses(fixture), before)
    })

    it('lets a synchronous route write req.session, committed before the response leaves', async (t) => {
      const { client, fixture } = await loggedIn(t, version, { autoload: '/count' }, (app) => {
        app.post('/count', (req, res) => {
          const session = eager(req)
          session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
          res.redirect(303, '/count')
        })
        app.get('/count', (req, res) => {
          res.json({ n: eager(req).get('n') })
        })
      })
      fixture.store?.delays.set('patch', 20)
      const result = await client.request('/count', { method: 'POST' })
      assert.equal(result.status, 303)
      assert.ok(result.headers['set-cookie'], 'a write refreshes the cookie Max-Age')
      assert.deepEqual(json(await client.get('/count')), { n: 2 })
    })

    it('autoloadSession() on a router loads for that router only', async (t) => {
      const { client, fixture } = await loggedIn(t, version, {}, (app) => {
        const admin = version.router()
        admin.use(autoloadSession())
        admin.get('/me', (req, res) => {
          res.json({ n: eager(req).get('n') })
        })
        app.use('/admin', admin)
        app.get('/public', (req, res) => {
          res.json({ loaded: loaded(req) })
        })
      })
      assert.deepEqual(json(await client.get('/admin/me')), { n: 1 })
      const before = accesses(fixture)
      assert.deepEqual(json(await client.get('/public')), { loaded: false })
      assert.equal(accesses(fixture), before)
    })

    it('autoloadSession() on one route, and sessionMiddleware autoload below a mount path', async (t) => {
      const { client } = await loggedIn(t, version, {}, (app) => {
        app.get('/me', autoloadSession(), (req, res) => {
          res.json({ n: eager(req).get('n') })
        })
      })
      assert.deepEqual(json(await client.get('/me')), { n: 1 })

      // Patterns are relative to where the middleware is mounted, as Express paths are.
      const fixture = createFixture('cookie')
      const app = version.create()
      app.use('/app', sessionMiddleware(fixture.sessions, { autoload: '/me' }))
      app.get(['/app/me', '/me'], (req, res) => {
        res.json({ loaded: loaded(req) })
      })
      const mounted = new Client(await serveExpress(t, app))
      assert.deepEqual(json(await mounted.get('/app/me')), { loaded: true })
      assert.deepEqual(json(await mounted.get('/me')), { loaded: false })
    })

    it('autoloadSession() without sessionMiddleware hands SessionNotAttachedError to the error middleware', async (t) => {
      const app = version.create()
      app.get('/me', autoloadSession(), (_req, res) => {
        res.send('unreachable')
      })
      app.use(((error, _req, res, _next) => {
        res.status(500).json({ code: (error as { code?: string }).code })
      }) satisfies ErrorRequestHandler)
      const result = await new Client(await serveExpress(t, app)).get('/me')
      assert.equal(result.status, 500)
      assert.deepEqual(json(result), { code: 'ERR_SESSION_NOT_ATTACHED' })
    })

    it('a load error of autoloadSession() reaches the error middleware as SessionStoreError', async (t) => {
      let ran = false
      const { client, fixture } = await loggedIn(t, version, {}, (app) => {
        app.get('/me', autoloadSession(), (_req, res) => {
          ran = true
          res.end()
        })
      })
      fixture.store?.failing.add('get')
      const result = await client.get('/me')
      assert.equal(result.status, 503)
      assert.equal(ran, false)
      assert.ok(fixture.errors[0] instanceof SessionStoreError)
    })

    it('req.getSession() and req.newSession() put the session on req.session', async (t) => {
      const { client } = await loggedIn(t, version, {}, (app) => {
        app.get(
          '/accessors',
          asyncHandler(version, async (req, res) => {
            const before = loaded(req)
            const session = await req.getSession()
            const same = eager(req) === session
            const fresh = await req.newSession()
            fresh.set('user', 'ann')
            res.json({ before, same, replaced: eager(req) === fresh, data: eager(req).toJSON() })
          }),
        )
        app.get('/get', (req, res, next) => {
          req.getSession().then((session) => res.json(session.toJSON()), next)
        })
      })
      assert.deepEqual(json(await client.get('/accessors')), {
        before: false,
        same: true,
        replaced: true,
        data: { user: 'ann' },
      })
      assert.deepEqual(json(await client.get('/get')), { user: 'ann' })
    })

    it('keeps every change of 32 parallel requests on one session (server storage)', async (t) => {
      const { client, fixture } = await loggedIn(t, version, { autoload: '/put' }, (app) => {
        app.post('/put/:key', (req, res) => {
          eager(req).set(req.params.key as string, true)
          res.json({ ok: true })
        })
        app.get(
          '/keys',
          asyncHandler(version, async (req, res) => {
            res.json(Object.keys((await req.getSession()).toJSON()).sort())
          }),
        )
      })
      fixture.store?.delays.set('patch', 5)
      const keys = Array.from({ length: 32 }, (_, i) => `k${String(i).padStart(2, '0')}`)
      const results = await Promise.all(
        keys.map((key) => client.request(`/put/${key}`, { method: 'POST' })),
      )
      for (const result of results) assert.equal(result.status, 200, result.body)
      assert.deepEqual(json(await client.get('/keys')), [...keys, 'n'].sort())
      assert.equal(fixture.store?.calls.patch, 32, 'one patch per request')
    })
  })
}

describe('Express adapter: autoload patterns', () => {
  it('refuses a pattern that is neither a path starting with / nor a RegExp', () => {
    const { sessions } = createFixture('cookie')
    for (const bad of ['account', '', 42, null]) {
      assert.throws(
        () => sessionMiddleware(sessions, { autoload: bad as never }),
        SessionConfigError,
        String(bad),
      )
    }
    assert.doesNotThrow(() => sessionMiddleware(sessions, { autoload: ['/', /x/i] }))
  })
})
