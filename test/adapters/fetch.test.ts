import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/fetch.ts'
import { getSession, newSession } from '../../src/index.ts'
import {
  createFixture,
  type Fixture,
  fetchHandler,
  type Mount,
  runAdapterSuite,
} from '../support/adapter-suite.ts'
import {
  Client,
  type FetchListener,
  json,
  sendResponse,
  serve,
  serveFetch,
  setCookieOf,
  toRequest,
} from '../support/http.ts'

const mountFetch: Mount = (t, sessions, routes, { onError }) =>
  serveFetch(t, withSessions(sessions, fetchHandler(routes)), { onError })

runAdapterSuite('Fetch adapter', mountFetch)

/** A fixture (cookie storage) and a client for `listener`, served over real HTTP. */
async function start(
  t: TestContext,
  listener: (fixture: Fixture) => FetchListener,
): Promise<{ client: Client; fixture: Fixture }> {
  const fixture = createFixture('cookie')
  const base = await serveFetch(t, listener(fixture), { onError: fixture.onError })
  return { client: new Client(base), fixture }
}

async function write(request: Request): Promise<void> {
  const session = await getSession(request)
  session.set('n', 1)
}

describe('Fetch adapter: responses', () => {
  it('adds the Set-Cookie to a Response.redirect() despite its immutable headers', async (t) => {
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        return Response.redirect('http://127.0.0.1/next', 303)
      }),
    )
    const result = await client.get('/')
    assert.equal(result.status, 303)
    assert.equal(result.headers.location, 'http://127.0.0.1/next')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('keeps a Set-Cookie of the application next to the session cookie', async (t) => {
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        return new Response('ok', { headers: { 'set-cookie': 'app=1; Path=/' } })
      }),
    )
    const result = await client.get('/')
    assert.deepEqual(result.setCookies.map((cookie) => cookie.name).sort(), ['app', 'session'])
  })

  it('returns the handler’s own Response when the session was never asked for', async (t) => {
    const made: Response[] = []
    const returned: Response[] = []
    const { client } = await start(t, ({ sessions }) => {
      const wrapped = withSessions(sessions, async () => {
        const response = new Response('plain')
        made.push(response)
        return response
      })
      return async (request) => {
        const response = await wrapped(request)
        returned.push(response)
        return response
      }
    })
    const result = await client.get('/')
    assert.equal(result.body, 'plain')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(returned[0], made[0])
  })

  it('rejects with the handler’s error', async (t) => {
    const { client, fixture } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        throw new TypeError('handler broke')
      }),
    )
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.equal(fixture.errors.length, 1)
    assert.ok(fixture.errors[0] instanceof TypeError)
    assert.equal((fixture.errors[0] as Error).message, 'handler broke')
  })

  it('passes extra handler arguments through', async (t) => {
    const fixture = createFixture('cookie')
    type Env = { name: string }
    type Ctx = { waitUntil: (promise: Promise<unknown>) => void }
    const seen: unknown[][] = []
    const wrapped = withSessions<Record<string, unknown>, Record<string, unknown>, [Env, Ctx]>(
      fixture.sessions,
      async (request, env, ctx) => {
        seen.push([env, ctx])
        await write(request)
        return new Response(env.name)
      },
    )
    const env: Env = { name: 'prod' }
    const ctx: Ctx = { waitUntil: () => {} }
    const base = await serve(t, (req, res) => {
      wrapped(toRequest(req), env, ctx)
        .then((response) => sendResponse(req, res, response))
        .catch(() => res.destroy())
    })
    const result = await new Client(base).get('/')
    assert.equal(result.status, 200)
    assert.equal(result.body, 'prod')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.equal(seen.length, 1)
    assert.equal(seen[0]?.[0], env)
    assert.equal(seen[0]?.[1], ctx)
  })

  it('never modifies a shared module-level Response, and never gives its cookie to another visitor', async (t) => {
    const shared = new Response(null, { status: 204 })
    const { client, fixture } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        if (new URL(request.url).pathname === '/login') {
          const session = await newSession(request)
          session.set('user', 'ann')
        }
        return shared
      }),
    )
    const login = await client.get('/login')
    assert.equal(login.status, 204)
    assert.ok(setCookieOf(login, 'session')?.value, 'the first visitor gets a cookie')
    const other = await new Client(client.base).get('/')
    assert.equal(other.status, 204)
    assert.deepEqual(other.rawSetCookies, [], 'the anonymous visitor gets none')
    assert.deepEqual(shared.headers.getSetCookie(), [])
    assert.equal(shared.headers.get('vary'), null)
    assert.deepEqual([...shared.headers], [])
    assert.equal(fixture.errors.length, 0)
  })

  it('adds the cookie and Vary: Cookie to the handler’s own Response, keeping all of it', async (t) => {
    const made: Response[] = []
    const returned: Response[] = []
    const { client } = await start(t, ({ sessions }) => {
      const wrapped = withSessions(sessions, async (request) => {
        await write(request)
        const response = new Response('body', {
          status: 201,
          statusText: 'Made',
          headers: { 'set-cookie': 'app=1', vary: 'Accept-Encoding', 'x-app': 'yes' },
        })
        made.push(response)
        return response
      })
      return async (request) => {
        const response = await wrapped(request)
        returned.push(response)
        return response
      }
    })
    const result = await client.get('/')
    assert.equal(result.status, 201)
    assert.equal(result.body, 'body')
    assert.equal(result.headers['x-app'], 'yes')
    assert.equal(result.headers.vary, 'Accept-Encoding, Cookie')
    assert.deepEqual(
      result.setCookies.map((cookie) => cookie.name),
      ['app', 'session'],
    )
    assert.equal(returned[0], made[0], 'no copy of the response')
    assert.equal(returned[0]?.statusText, 'Made')
  })

  it('puts the cookie on a copy of a fetch() result, whose headers are immutable', async (t) => {
    const upstream = await serve(t, (_req, res) => {
      res.setHeader('x-upstream', 'yes')
      res.setHeader('set-cookie', 'up=1; Path=/')
      res.end('from upstream')
    })
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        return fetch(upstream)
      }),
    )
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.equal(result.body, 'from upstream')
    assert.equal(result.headers['x-upstream'], 'yes')
    assert.equal(result.headers.vary, 'Cookie')
    assert.deepEqual(result.setCookies.map((cookie) => cookie.name).sort(), ['session', 'up'])
  })

  it('puts the cookie on a copy of a frozen Response', async (t) => {
    // Deno's Response records state on the object when it is read or served: a frozen one cannot
    // be copied, and Deno.serve fails on it, with or without a session.
    if ('Deno' in globalThis) return t.skip('Deno cannot send a frozen Response')
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        return Object.freeze(new Response('frozen', { status: 202 }))
      }),
    )
    const result = await client.get('/')
    assert.equal(result.status, 202)
    assert.equal(result.body, 'frozen')
    assert.equal(result.headers.vary, 'Cookie')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('a Response object returned again gives each visitor their own cookie only, and none without a session', async (t) => {
    // A null body: such a Response can be sent any number of times, on every runtime.
    const shared = new Response(null, {
      status: 200,
      headers: { 'set-cookie': 'app=1; Path=/', vary: 'Accept', 'x-page': 'shared' },
    })
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        const path = new URL(request.url).pathname
        if (path === '/who') return Response.json((await getSession(request)).get('user') ?? null)
        if (path !== '/plain') {
          const session = await newSession(request)
          session.set('user', path.slice(1))
        }
        return shared
      }),
    )
    const ann = await client.get('/ann')
    const bobClient = new Client(client.base)
    const bob = await bobClient.get('/bob')
    const anonymous = await new Client(client.base).get('/plain')
    const again = await client.get('/ann')
    assert.equal(json(await client.get('/who')), 'ann')
    assert.equal(json(await bobClient.get('/who')), 'bob')
    for (const result of [ann, bob, anonymous, again]) {
      assert.equal(result.status, 200)
      assert.equal(result.headers['x-page'], 'shared')
    }
    const sessionCookies = (result: { rawSetCookies: string[] }): string[] =>
      result.rawSetCookies.filter((cookie) => cookie.startsWith('session='))
    assert.equal(sessionCookies(ann).length, 1)
    assert.equal(sessionCookies(bob).length, 1, 'bob gets his cookie only')
    assert.notEqual(sessionCookies(bob)[0], sessionCookies(ann)[0])
    assert.equal(sessionCookies(again).length, 1)
    assert.notEqual(sessionCookies(again)[0], sessionCookies(bob)[0])
    assert.deepEqual(
      anonymous.rawSetCookies,
      ['app=1; Path=/'],
      'no session cookie without a session',
    )
    assert.equal(anonymous.headers.vary, 'Accept')
    for (const result of [ann, bob, again]) {
      assert.equal(result.headers.vary, 'Accept, Cookie')
      assert.ok(result.rawSetCookies.includes('app=1; Path=/'))
    }
  })

  it('two wrappers with two managers on one request: both cookies reach the visitor', async (t) => {
    const prefs = createFixture('cookie', { cookie: { name: 'prefs' } })
    const { client } = await start(t, ({ sessions }) =>
      withSessions(
        prefs.sessions,
        withSessions(sessions, async (request) => {
          const path = new URL(request.url).pathname
          await write(request) // the inner manager's session
          if (path === '/both') (await prefs.sessions.getSession(request)).set('theme', 'dark')
          return new Response('ok')
        }),
      ),
    )
    for (const path of ['/inner', '/both', '/inner']) {
      const result = await new Client(client.base).get(path)
      assert.equal(result.body, 'ok')
      assert.ok(setCookieOf(result, 'session')?.value, `${path}: the inner session's cookie`)
      assert.equal(setCookieOf(result, 'prefs') !== undefined, path === '/both', path)
      assert.equal(result.headers.vary, 'Cookie')
    }
  })

  it('commits nothing for a handler that throws after a write, and rethrows', async (t) => {
    const { client, fixture } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        await write(request)
        if (new URL(request.url).pathname === '/throw') {
          const session = await getSession(request)
          session.set('n', 2)
          throw new Error('half done')
        }
        return new Response('ok')
      }),
    )
    assert.equal((await client.get('/')).status, 200)
    const encodes = fixture.codec?.calls.encode
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal((fixture.errors[0] as Error).message, 'half done')
    assert.equal(fixture.codec?.calls.encode, encodes, 'nothing was encoded')
  })

  it('adds Vary: Cookie when the session was only read, and none when it was never asked for', async (t) => {
    const { client } = await start(t, ({ sessions }) =>
      withSessions(sessions, async (request) => {
        if (new URL(request.url).pathname === '/read') await getSession(request)
        return new Response('ok')
      }),
    )
    const read = await client.get('/read')
    assert.equal(read.headers.vary, 'Cookie')
    assert.deepEqual(read.rawSetCookies, [])
    const none = await client.get('/none')
    assert.equal(none.headers.vary, undefined)
  })
})
