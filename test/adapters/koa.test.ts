import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import Koa from 'koa'
import { WebSocketServer } from 'ws'
import { sessionMiddleware } from '../../src/adapters/koa.ts'
import { withUpgradeSessions } from '../../src/adapters/node.ts'
import {
  getSession,
  SessionCookieTooLargeError,
  type SessionManager,
  SessionStoreError,
} from '../../src/index.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type Mount,
  type Routes,
  runAdapterSuite,
  type SessionView,
  type StorageKind,
  view,
  WS_PATH,
  wsGreeting,
} from '../support/adapter-suite.ts'
import { Client, errorCode, json, serve, setCookieOf } from '../support/http.ts'

/** Serves the framework-neutral routes as the last Koa middleware; `request` is the context. */
function koaRoutes(routes: Routes): Koa.Middleware {
  return async (ctx) => {
    const route = routes[ctx.path]
    if (route === undefined) return // Koa answers 404
    const result = await route({ request: ctx, url: new URL(ctx.url, 'http://app.invalid') })
    ctx.status = result.status ?? 200
    for (const [name, value] of Object.entries(result.headers ?? {})) ctx.set(name, value)
    const body = result.body
    if (typeof body === 'string') ctx.body = body
    else if (body !== undefined) {
      // Two chunks at once, then one per tick, as the node glue streams them.
      ctx.body = Readable.from(
        (async function* () {
          for (const [index, chunk] of body.entries()) {
            if (index > 1) await sleep(2)
            yield chunk
          }
        })(),
      )
    }
  }
}

const mountKoa: Mount = async (t, sessions, routes, { onError }) => {
  const app = new Koa()
  // The application's own error handling, above the session middleware.
  app.use(async (ctx, next) => {
    try {
      await next()
    } catch (error) {
      ctx.status = onError(error)
      const code = errorCode(error)
      if (code !== undefined) ctx.set('x-error-code', code)
      ctx.body = ''
    }
  })
  app.use(sessionMiddleware(sessions))
  app.use(koaRoutes(routes))
  const wss = new WebSocketServer({ noServer: true })
  t.after(() => wss.close())
  return serve(
    t,
    app.callback(),
    withUpgradeSessions(sessions, (req, socket, head) => {
      if (req.url !== WS_PATH) {
        socket.destroy()
        return
      }
      wss.handleUpgrade(req, socket, head, async (ws) => ws.send(await wsGreeting(req)))
    }),
  )
}

runAdapterSuite('Koa adapter', mountKoa, { upgrade: true })

/** A Koa app behind the session middleware, served on loopback. */
interface Started {
  readonly client: Client
  readonly fixture: Fixture
  /** Errors Koa emitted on `app.on('error')`. */
  readonly appErrors: unknown[]
}

interface StartOptions {
  readonly kind?: StorageKind
  readonly fixture?: FixtureOptions
  /** A middleware above the session middleware (error handling, logging). */
  readonly upstream?: Koa.Middleware
}

/** Serves `handler` below `sessionMiddleware` on a fresh fixture (cookie storage by default). */
async function start(
  t: TestContext,
  handler: Koa.Middleware,
  options: StartOptions = {},
): Promise<Started> {
  const fixture = createFixture(options.kind ?? 'cookie', options.fixture)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const app = new Koa()
  const appErrors: unknown[] = []
  app.on('error', (error: unknown) => appErrors.push(error))
  if (options.upstream) app.use(options.upstream)
  app.use(sessionMiddleware(fixture.sessions as SessionManager))
  app.use(handler)
  const base = await serve(t, app.callback())
  return { client: new Client(base), fixture, appErrors }
}

/** Increments `n` in the context's session. */
async function increment(ctx: Koa.Context): Promise<void> {
  const session = await ctx.getSession()
  session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
}

/** The session's `n`, as the next request sees it. */
async function storedN(client: Client): Promise<unknown> {
  const result = await client.get('/')
  return json<SessionView>(result).data.n
}

/** Answers the session as {@link SessionView} on every path but those `handler` takes. */
function orView(handler: Koa.Middleware): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/') ctx.body = view(await ctx.getSession())
    else await handler(ctx, next)
  }
}

describe('Koa adapter: access from ctx', () => {
  it('gives the same session to ctx.getSession(), getSession(ctx) and getSession(ctx.req)', async (t) => {
    const { client } = await start(t, async (ctx) => {
      const [a, b, c] = await Promise.all([ctx.getSession(), getSession(ctx), getSession(ctx.req)])
      ctx.body = { same: a === b && b === c }
    })
    assert.deepEqual(json(await client.get('/')), { same: true })
  })

  it('ctx.newSession() starts empty with a new id and drops the old record', async (t) => {
    const { client } = await start(
      t,
      orView(async (ctx) => {
        if (ctx.path === '/inc') {
          await increment(ctx)
          ctx.body = 'ok'
          return
        }
        const session = await ctx.newSession()
        session.set('user', 'ann')
        ctx.body = view(session)
      }),
      { kind: 'server' },
    )
    assert.equal((await client.get('/inc')).status, 200)
    const oldId = client.cookie('session') as string
    const login = json<SessionView>(await client.get('/login'))
    assert.deepEqual(login.data, { user: 'ann' })
    assert.notEqual(login.id, oldId)
    assert.deepEqual(json<SessionView>(await client.get('/')).data, { user: 'ann' })
    const replay = await new Client(client.base).get('/', {
      headers: { cookie: `session=${oldId}` },
    })
    assert.equal(json<SessionView>(replay).isNew, true)
  })

  it('leaves a request that never asks for its session untouched: no cookie, no Vary, no hooks', async (t) => {
    const hooked: boolean[] = []
    const { client, fixture } = await start(t, async (ctx) => {
      ctx.res.on('finish', () => hooked.push(Object.hasOwn(ctx.res, 'end')))
      ctx.body = 'plain'
    })
    const result = await client.get('/', { headers: { cookie: 'session=whatever' } })
    assert.equal(result.body, 'plain')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers.vary, undefined)
    assert.deepEqual(hooked, [false])
    assert.equal(fixture.codec?.calls.decode, 0, 'the cookie was not even decoded')
  })
})

describe('Koa adapter: responses', () => {
  it('adds the Set-Cookie to ctx.redirect()', async (t) => {
    const { client } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        ctx.redirect('/next')
      }),
    )
    const result = await client.get('/go')
    assert.equal(result.status, 302)
    assert.equal(result.headers.location, '/next')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(await storedN(client), 1)
  })

  it('adds the Set-Cookie and Vary: Cookie to a JSON body', async (t) => {
    const { client } = await start(t, async (ctx) => {
      await increment(ctx)
      ctx.body = { ok: true, n: (await ctx.getSession()).get('n') }
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.match(result.headers['content-type'] ?? '', /^application\/json/)
    assert.deepEqual(json(result), { ok: true, n: 1 })
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(result.headers.vary, 'Cookie')
  })

  it('adds the Set-Cookie to a Buffer body', async (t) => {
    const { client } = await start(t, async (ctx) => {
      await increment(ctx)
      ctx.body = Buffer.from('bytes')
    })
    const result = await client.get('/')
    assert.equal(result.body, 'bytes')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('streams a Readable body complete after a slow store write, with the Set-Cookie', async (t) => {
    const chunks = Array.from({ length: 50 }, (_, i) => `chunk-${i};`)
    const { client, fixture } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        ctx.body = Readable.from(chunks)
      }),
      { kind: 'server' },
    )
    fixture.store?.delays.set('create', 30)
    const result = await client.get('/stream')
    assert.equal(result.status, 200)
    assert.equal(result.body, chunks.join(''))
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(await storedN(client), 1)
  })

  it('adds the Set-Cookie to a 204 without a body', async (t) => {
    const { client } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        ctx.status = 204
      }),
    )
    const result = await client.get('/empty')
    assert.equal(result.status, 204)
    assert.equal(result.body, '')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it("keeps the application's own cookie next to the session cookie", async (t) => {
    const { client } = await start(t, async (ctx) => {
      await increment(ctx)
      ctx.cookies.set('app', '1', { signed: false })
      ctx.body = 'ok'
    })
    const result = await client.get('/')
    assert.deepEqual(result.setCookies.map((cookie) => cookie.name).sort(), ['app', 'session'])
  })

  it('shows the Set-Cookie and Vary to the middleware above it', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      {
        upstream: async (ctx, next) => {
          await next()
          seen.push(ctx.response.get('Vary'), ctx.response.headers['set-cookie'])
        },
      },
    )
    const result = await client.get('/')
    assert.equal(seen[0], 'Cookie')
    assert.deepEqual(seen[1], result.rawSetCookies)
    assert.equal(result.rawSetCookies.length, 1)
  })

  it('commits a session first asked for above the middleware, after it returned', async (t) => {
    const { client } = await start(
      t,
      async (ctx) => {
        ctx.body = 'ok'
      },
      {
        kind: 'server',
        upstream: async (ctx, next) => {
          await next()
          if (ctx.path === '/late') await increment(ctx)
          else ctx.body = view(await ctx.getSession())
        },
      },
    )
    const result = await client.get('/late')
    assert.equal(result.body, 'ok')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(result.headers.vary, 'Cookie')
    assert.equal(await storedN(client), 1)
  })

  it('refuses a write above the middleware once it committed (ERR_SESSION_COMMITTED)', async (t) => {
    const { client } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      {
        upstream: async (ctx, next) => {
          await next()
          const session = await ctx.getSession()
          try {
            session.set('late', true)
            ctx.set('x-late', 'allowed')
          } catch (error) {
            ctx.set('x-late', errorCode(error) ?? String(error))
          }
        },
      },
    )
    const result = await client.get('/')
    assert.equal(result.headers['x-late'], 'ERR_SESSION_COMMITTED')
    assert.ok(setCookieOf(result, 'session')?.value, 'the committed change is still sent')
  })

  it('holds a response written to ctx.res directly (ctx.respond = false) until the commit', async (t) => {
    const { client, fixture } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        ctx.respond = false
        ctx.res.writeHead(200, { 'content-type': 'text/plain' })
        ctx.res.end('raw')
      }),
      { kind: 'server' },
    )
    fixture.store?.delays.set('create', 30)
    const result = await client.get('/raw')
    assert.equal(result.body, 'raw')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(result.headers.vary, 'Cookie')
    assert.equal(await storedN(client), 1)
  })

  it('hands a commit error of a raw response (ctx.respond = false) to Koa as a 503', async (t) => {
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.respond = false
        ctx.res.end('raw')
      },
      { kind: 'server' },
    )
    fixture.store?.failing.add('create')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.deepEqual(result.rawSetCookies, [])
    assert.doesNotMatch(result.body, /raw/)
    assert.equal(appErrors.length, 1)
    assert.ok(appErrors[0] instanceof SessionStoreError)
  })
})

describe('Koa adapter: errors', () => {
  /** An error handler above the session middleware that records what it caught. */
  function recorder(caught: unknown[]): Koa.Middleware {
    return async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        caught.push(error)
        const { status, code } = error as { status?: number; code?: string }
        ctx.status = status ?? 500
        ctx.body = { error: 'caught', code }
      }
    }
  }

  it('throws a store failure on save to the handler above as SessionStoreError with status 503', async (t) => {
    const caught: unknown[] = []
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server', upstream: recorder(caught) },
    )
    assert.equal((await client.get('/')).status, 200)
    fixture.store?.failing.add('patch')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.deepEqual(json(result), { error: 'caught', code: 'ERR_SESSION_STORE' })
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers.vary, 'Cookie', 'the session was read')
    assert.equal(caught.length, 1)
    const error = caught[0] as SessionStoreError & { status: number; expose?: boolean }
    assert.ok(error instanceof SessionStoreError)
    assert.equal(error.operation, 'update')
    assert.equal(error.status, 503)
    assert.equal(error.expose, undefined, 'the message stays private')
    assert.deepEqual(appErrors, [])
  })

  it('throws a session too large for a cookie to the handler above as SessionCookieTooLargeError', async (t) => {
    const caught: unknown[] = []
    const { client } = await start(
      t,
      async (ctx) => {
        ;(await ctx.getSession()).set('big', 'x'.repeat(5000))
        ctx.body = 'ok'
      },
      { upstream: recorder(caught) },
    )
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.ok(caught[0] instanceof SessionCookieTooLargeError)
    assert.equal((caught[0] as { status?: number }).status, undefined)
  })

  it("without an error handler, Koa's own answers a store failure 503 and emits it on app 'error'", async (t) => {
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server' },
    )
    fixture.store?.failing.add('create')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.equal(result.body, 'Service Unavailable')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(appErrors.length, 1)
    assert.ok(appErrors[0] instanceof SessionStoreError)
    assert.equal((appErrors[0] as SessionStoreError).operation, 'create')
  })

  it("without an error handler, a store failure on load is a 503 on app 'error' too", async (t) => {
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server' },
    )
    assert.equal((await client.get('/')).status, 200)
    fixture.store?.failing.add('get')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.equal((appErrors[0] as SessionStoreError).operation, 'load')
  })

  it("without an error handler, Koa's own answers a session too large for a cookie 500", async (t) => {
    const { client, appErrors } = await start(t, async (ctx) => {
      ;(await ctx.getSession()).set('big', 'x'.repeat(5000))
      ctx.body = 'ok'
    })
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'Internal Server Error')
    assert.deepEqual(result.rawSetCookies, [])
    assert.ok(appErrors[0] instanceof SessionCookieTooLargeError)
  })

  it('commits nothing for a middleware that throws after a write (ctx.throw)', async (t) => {
    for (const kind of ['cookie', 'server'] as const) {
      const { client, fixture, appErrors } = await start(
        t,
        orView(async (ctx) => {
          await increment(ctx)
          if (ctx.path === '/throw') ctx.throw(400, 'bad input')
          ctx.body = 'ok'
        }),
        { kind },
      )
      assert.equal((await client.get('/inc')).status, 200)
      const before = fixture.store ? fixture.store.total() : fixture.codec?.calls.encode
      const result = await client.get('/throw')
      assert.equal(result.status, 400, kind)
      assert.equal(result.body, 'bad input')
      assert.deepEqual(result.rawSetCookies, [], kind)
      const after = fixture.store
        ? fixture.store.total() - 1 // the load
        : fixture.codec?.calls.encode
      assert.equal(after, before, `${kind}: nothing was written`)
      assert.equal(await storedN(client), 1, kind)
      assert.equal((appErrors[0] as { status: number }).status, 400)
    }
  })

  it('commits nothing for a middleware that throws, and lets the handler above read but not write', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        throw new Error('half done')
      }),
      {
        upstream: async (ctx, next) => {
          try {
            await next()
          } catch (error) {
            const session = await ctx.getSession()
            seen.push((error as Error).message, session.get('n'))
            try {
              session.set('n', 99)
            } catch (writeError) {
              seen.push(errorCode(writeError))
            }
            ctx.status = 500
            ctx.body = 'handled'
          }
        },
      },
    )
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'handled')
    assert.deepEqual(result.rawSetCookies, [])
    assert.deepEqual(seen, ['half done', 1, 'ERR_SESSION_COMMITTED'])
    assert.equal(await storedN(client), undefined, 'the new visitor has no session yet')
  })
})

describe('Koa adapter: concurrency and hostile cookies', () => {
  it('keeps all 32 keys of 32 parallel requests on one session (server storage)', async (t) => {
    const { client } = await start(
      t,
      orView(async (ctx) => {
        const session = await ctx.getSession()
        await sleep(20) // every writer loads the same version before any writes
        session.set(ctx.path.slice(1), true)
        ctx.body = 'ok'
      }),
      { kind: 'server' },
    )
    assert.equal((await client.get('/start')).status, 200)
    const keys = Array.from({ length: 32 }, (_, i) => `k${i}`)
    const results = await Promise.all(keys.map((key) => client.get(`/${key}`)))
    assert.deepEqual(
      results.map((result) => result.status),
      keys.map(() => 200),
    )
    const data = json<SessionView>(await client.get('/')).data
    for (const key of ['start', ...keys]) assert.equal(data[key], true, `key ${key} lost`)
  })

  it('gives a fresh session, never an error, for garbage cookies', async (t) => {
    for (const kind of ['cookie', 'server'] as const) {
      const { client, fixture } = await start(
        t,
        async (ctx) => {
          ctx.body = view(await ctx.getSession())
        },
        { kind },
      )
      const fixed = [
        'session=',
        'session=%%%garbage',
        'session="unterminated',
        `session=${'A'.repeat(10_000)}`,
        'session=a.b.c.d; session=e',
        '=; ;;; session',
        'session=\u00ff\u00fe',
      ]
      const random = fc.sample(fc.stringMatching(/^[\x20-\x7e]{0,300}$/), { numRuns: 40, seed: 7 })
      for (const cookie of [...fixed, ...random.map((value) => `session=${value}`)]) {
        const result = await client.get('/', { headers: { cookie } })
        assert.equal(result.status, 200, `${kind}: ${cookie}`)
        assert.equal(json<SessionView>(result).isNew, true, `${kind}: ${cookie}`)
      }
      assert.ok(fixture.reasons.length > 0, `${kind}: invalid cookies were reported`)
    }
  })
})
