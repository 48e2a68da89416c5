import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import {
  type AttachedRequest,
  aliasRequest,
  attachRequest,
  fetchTransport,
  finishRequest,
  holdNodeResponse,
  type NodeResponseHold,
  nodeTransport,
  type RequestTransport,
  reportRequestError,
  varyOnCookie,
  withSessionCookies,
} from '../../src/adapters/kit.ts'
import { getSession, type SessionManager } from '../../src/index.ts'
import { createFixture, type Fixture, type StorageKind } from '../support/adapter-suite.ts'
import { Client, errorCode, serve, serveFetch, setCookieOf } from '../support/http.ts'
import { captureConsoleError } from '../support/node-start.ts'

/** A framework's own context object, as Koa's `ctx` or Hono's `c`. */
interface Context {
  readonly req: IncomingMessage
  readonly res: ServerResponse
}

/**
 * A node:http "framework adapter" written with the kit alone, as the README shows it: the handler
 * gets a context object, and `getSession(ctx)` works.
 */
function nodeAdapter(
  sessions: SessionManager,
  handler: (ctx: Context) => Promise<void>,
  errors: unknown[],
): (req: IncomingMessage, res: ServerResponse) => void {
  const onError = (error: unknown, _req: IncomingMessage, res: ServerResponse): void => {
    errors.push(error)
    if (res.headersSent) res.destroy()
    else {
      res.statusCode = errorCode(error) === 'ERR_SESSION_STORE' ? 503 : 500
      res.end()
    }
  }
  return (req, res) => {
    let hold: NodeResponseHold | undefined
    attachRequest(sessions, req, {
      cookieHeader: req.headers.cookie,
      transport: () => nodeTransport(req),
      onActivate: (attached) => {
        hold = holdNodeResponse(req, res, attached, onError)
      },
    })
    const ctx: Context = { req, res }
    aliasRequest(ctx, req)
    handler(ctx).catch((error: unknown) => {
      if (hold === undefined) onError(error, req, res)
      else hold.fail(error)
    })
  }
}

/** The Fetch-style middleware of the kit's module documentation, as written there. */
function sessionMiddleware(sessions: SessionManager) {
  return async (request: Request, next: () => Promise<Response>): Promise<Response> => {
    const attached = attachRequest(sessions, request, {
      cookieHeader: request.headers.get('cookie'),
      transport: () => fetchTransport(request),
    })
    let response: Response
    try {
      response = await next()
    } catch (error) {
      finishRequest(attached, true) // nothing is saved
      throw error
    }
    if (!attached.active) return response
    return withSessionCookies(response, await finishRequest(attached, false), true)
  }
}

function fixtureFor(t: TestContext, kind: StorageKind): Fixture {
  const fixture = createFixture(kind)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  return fixture
}

describe('adapter kit: attachRequest, aliasRequest, holdNodeResponse', () => {
  for (const kind of ['cookie', 'server'] as const) {
    it(`gives a context object the request's session and commits before the headers (${kind})`, async (t) => {
      const fixture = fixtureFor(t, kind)
      const errors: unknown[] = []
      const base = await serve(
        t,
        nodeAdapter(
          fixture.sessions,
          async (ctx) => {
            const [fromCtx, fromReq] = await Promise.all([getSession(ctx), getSession(ctx.req)])
            fromCtx.set('n', ((fromCtx.get('n') as number | undefined) ?? 0) + 1)
            ctx.res.end(JSON.stringify({ same: fromCtx === fromReq, n: fromReq.get('n') }))
          },
          errors,
        ),
      )
      const client = new Client(base)
      const first = await client.get('/')
      assert.deepEqual(JSON.parse(first.body), { same: true, n: 1 })
      assert.ok(setCookieOf(first, 'session')?.value)
      assert.equal(first.headers.vary, 'Cookie')
      assert.deepEqual(JSON.parse((await client.get('/')).body), { same: true, n: 2 })
      assert.deepEqual(errors, [])
    })
  }

  it('discards the session of a handler that fails before its response started', async (t) => {
    const fixture = fixtureFor(t, 'server')
    const errors: unknown[] = []
    const base = await serve(
      t,
      nodeAdapter(
        fixture.sessions,
        async (ctx) => {
          const session = await getSession(ctx)
          session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
          if (ctx.req.url === '/fail') throw new Error('half done')
          ctx.res.end(String(session.get('n')))
        },
        errors,
      ),
    )
    const client = new Client(base)
    assert.equal((await client.get('/')).body, '1')
    const writes = fixture.store?.total()
    const failed = await client.get('/fail')
    assert.equal(failed.status, 500)
    assert.deepEqual(failed.rawSetCookies, [])
    assert.equal(fixture.store?.total(), (writes ?? 0) + 1, 'one load, no write')
    assert.equal((await client.get('/')).body, '2')
    assert.equal((errors[0] as Error).message, 'half done')
  })

  it('hooks nothing and makes the session read-only when the headers were already sent', async (t) => {
    const fixture = fixtureFor(t, 'cookie')
    let sent: { errors: number; code: string | undefined } | undefined
    const base = await serve(t, (req, res) => {
      const errors: unknown[] = []
      const attached = attachRequest(fixture.sessions, req, {
        cookieHeader: req.headers.cookie,
        transport: () => nodeTransport(req),
      })
      res.flushHeaders()
      const hold = holdNodeResponse(req, res, attached, (error) => errors.push(error))
      const respond = async (): Promise<void> => {
        let code: string | undefined
        try {
          ;(await getSession(req)).set('n', 1)
        } catch (error) {
          code = errorCode(error)
        }
        hold.fail(new Error('reported as is'))
        sent = { errors: errors.length, code }
        res.end('ok')
      }
      void respond()
    })
    const result = await new Client(base).get('/')
    assert.equal(result.body, 'ok')
    assert.deepEqual(result.rawSetCookies, [])
    assert.deepEqual(sent, { errors: 1, code: 'ERR_SESSION_COMMITTED' })
  })

  it('attaches lazily: inactive until asked, onActivate once, an empty synchronous commit', () => {
    const fixture = createFixture('cookie')
    const request = {}
    const seen: AttachedRequest[] = []
    const attached = attachRequest(fixture.sessions, request, {
      cookieHeader: undefined,
      transport: () => ({ encrypted: false, host: 'localhost' }),
      onActivate: (handle) => seen.push(handle),
    })
    assert.equal(attached.active, false)
    assert.deepEqual(attached.commit(), [])
    const first = getSession(request)
    assert.equal(attached.active, true)
    assert.equal(getSession(request), first)
    assert.deepEqual(seen, [attached])
  })

  it('refuses to alias a request that was never attached', () => {
    assert.throws(() => aliasRequest({}, {}), { code: 'ERR_SESSION_NOT_ATTACHED' })
  })
})

describe('adapter kit: transports', () => {
  it('describes a node:http request: plain HTTP, Host, the peer address, X-Forwarded-Proto, User-Agent', async (t) => {
    const seen: RequestTransport[] = []
    const base = await serve(t, (req, res) => {
      seen.push(nodeTransport(req))
      res.end()
    })
    await new Client(base).get('/', { headers: { 'x-forwarded-proto': ['http', 'https'] } })
    await new Client(base).get('/', {
      headers: { host: 'app.example', 'user-agent': 'curl/8.5.0' },
    })
    assert.deepEqual(seen, [
      {
        encrypted: false,
        host: new URL(base).host,
        remoteAddress: '127.0.0.1',
        forwardedProto: 'http, https',
        userAgent: undefined,
      },
      {
        encrypted: false,
        host: 'app.example',
        remoteAddress: '127.0.0.1',
        forwardedProto: undefined,
        userAgent: 'curl/8.5.0',
      },
    ])
  })

  it('describes a Fetch request from its URL, without a peer address', () => {
    const tls = new Request('https://app.example:8443/a?b#c', {
      headers: { 'x-forwarded-proto': 'https', 'user-agent': 'curl/8.5.0' },
    })
    assert.deepEqual(fetchTransport(tls), {
      encrypted: true,
      host: 'app.example:8443',
      forwardedProto: 'https',
      userAgent: 'curl/8.5.0',
    })
    const plain: RequestTransport = fetchTransport(new Request('http://127.0.0.1:3000/'))
    assert.equal(plain.remoteAddress, undefined)
    assert.deepEqual(plain, {
      encrypted: false,
      host: '127.0.0.1:3000',
      forwardedProto: null,
      userAgent: null,
    })
  })
})

describe('adapter kit: the Fetch side and the error policy', () => {
  it('serves the documented middleware: commits after the handler, nothing after a failure', async (t) => {
    const fixture = fixtureFor(t, 'server')
    const middleware = sessionMiddleware(fixture.sessions)
    const base = await serveFetch(
      t,
      (request) =>
        middleware(request, async () => {
          const path = new URL(request.url).pathname
          if (path === '/none') return new Response('none')
          const session = await getSession(request)
          session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
          if (path === '/fail') throw new Error('half done')
          return new Response(String(session.get('n')))
        }),
      { onError: fixture.onError },
    )
    const client = new Client(base)
    const first = await client.get('/')
    assert.equal(first.body, '1')
    assert.ok(setCookieOf(first, 'session')?.value)
    assert.equal(first.headers.vary, 'Cookie')
    const failed = await client.get('/fail')
    assert.equal(failed.status, 500)
    assert.deepEqual(failed.rawSetCookies, [])
    assert.equal((await client.get('/')).body, '2', 'the failed request saved nothing')
    const none = await client.get('/none')
    assert.equal(none.headers.vary, undefined)
    assert.equal((fixture.errors[0] as Error).message, 'half done')
  })

  it('finishRequest: discarding returns no cookie and refuses later writes; committing returns the cookie', async () => {
    const fixture = createFixture('cookie')
    const transport = (): RequestTransport => ({ encrypted: true, host: 'app.example' })
    const failed = {}
    const a = attachRequest(fixture.sessions, failed, { cookieHeader: null, transport })
    const session = await getSession(failed)
    session.set('n', 1)
    assert.deepEqual(finishRequest(a, true), [])
    assert.throws(() => session.set('n', 2), { code: 'ERR_SESSION_COMMITTED' })
    assert.equal(fixture.codec?.calls.encode, 0)
    const ok = {}
    const b = attachRequest(fixture.sessions, ok, { cookieHeader: null, transport })
    ;(await getSession(ok)).set('n', 1)
    const cookies = await finishRequest(b, false)
    assert.equal(cookies.length, 1)
    assert.match(cookies[0] ?? '', /^session=.+; Secure/)
  })

  it('withSessionCookies: always a new Response, the given one untouched', async () => {
    const original = new Response('payload', {
      status: 201,
      statusText: 'Made',
      headers: { 'set-cookie': 'app=1', 'x-app': 'yes' },
    })
    const copy = withSessionCookies(original, ['session=a', 'other=b'], true)
    assert.notEqual(copy, original)
    assert.equal(copy.status, 201)
    assert.equal(copy.statusText, 'Made')
    assert.equal(copy.headers.get('x-app'), 'yes')
    assert.deepEqual(copy.headers.getSetCookie(), ['app=1', 'session=a', 'other=b'])
    assert.equal(copy.headers.get('vary'), 'Cookie')
    assert.equal(await copy.text(), 'payload')
    assert.deepEqual(original.headers.getSetCookie(), ['app=1'])
    assert.equal(original.headers.get('vary'), null)
    const empty = new Response(null, { status: 204 })
    const plain = withSessionCookies(empty, [], false)
    assert.notEqual(plain, empty)
    assert.deepEqual([...plain.headers], [])
  })

  it('withSessionCookies: copes with immutable headers and leaves Response.error() alone', () => {
    const redirect = Response.redirect('http://127.0.0.1/next', 303)
    const copy = withSessionCookies(redirect, ['session=a'], true)
    assert.equal(copy.status, 303)
    assert.equal(copy.headers.get('location'), 'http://127.0.0.1/next')
    assert.deepEqual(copy.headers.getSetCookie(), ['session=a'])
    const failure = Response.error()
    assert.equal(withSessionCookies(failure, ['session=a'], true), failure)
  })

  it('varyOnCookie: adds Cookie once, keeps *', () => {
    assert.equal(varyOnCookie(undefined), 'Cookie')
    assert.equal(varyOnCookie(null), 'Cookie')
    assert.equal(varyOnCookie(' '), 'Cookie')
    assert.equal(varyOnCookie('Accept-Encoding'), 'Accept-Encoding, Cookie')
    assert.equal(varyOnCookie(['Origin', 'Accept']), 'Origin, Accept, Cookie')
    assert.equal(varyOnCookie('Origin,COOKIE'), 'Origin,COOKIE')
    assert.equal(varyOnCookie('*'), '*')
    assert.equal(varyOnCookie('Origin, *'), 'Origin, *')
    assert.equal(varyOnCookie('Cookies'), 'Cookies, Cookie')
  })

  it('reportRequestError writes the error to console.error, once', (t) => {
    const calls = captureConsoleError(t)
    const error = new Error('reported')
    reportRequestError(error)
    assert.equal(calls.length, 1)
    assert.ok(calls[0]?.includes(error))
  })
})
