import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import Koa from 'koa'
import { WebSocketServer } from 'ws'
import { sessionMiddleware } from '../../src/adapters/koa.ts'
import { withUpgradeSessions } from '../../src/adapters/node.ts'
import { getSession, SessionStoreError } from '../../src/index.ts'
import {
  type Mount,
  type Routes,
  runAdapterSuite,
  type SessionView,
  view,
  WS_PATH,
  wsGreeting,
} from '../support/adapter-suite.ts'
import { Client, errorCode, json, serve, setCookieOf } from '../support/http.ts'
import { increment, orView, start, storedN } from '../support/koa-start.ts'

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

  it("merges Vary: Cookie into the application's Vary, once", async (t) => {
    const { client } = await start(t, async (ctx) => {
      await increment(ctx)
      ctx.vary(ctx.path === '/twice' ? 'cookie' : 'Accept-Encoding')
      ctx.body = 'ok'
    })
    assert.equal((await client.get('/')).headers.vary, 'Accept-Encoding, Cookie')
    assert.equal((await client.get('/twice')).headers.vary, 'cookie')
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
