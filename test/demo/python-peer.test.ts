/**
 * The demo and real Python apps sharing one login: an aiohttp app with aiohttp-session's
 * RedisStorage and the demo with SESSION_COMPAT=aiohttp on the same Redis server, and a Starlette
 * app and the demo with SESSION_COMPAT=starlette on the same secret. A person logs in on one and
 * is logged in on the other, both ways.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { send } from '../support/http.ts'
import { requirePython, runPython } from '../support/python.ts'
import { sharedRedis } from '../support/redis-server.ts'
import { cleanups, startDemo } from './helpers.ts'

const NAME = 'AIOHTTP_SESSION'

/**
 * An aiohttp app with `session_middleware(RedisStorage(redis, max_age=3600))` on aiohttp's
 * TestServer (127.0.0.1). Debian's aiohttp-session 2.11 imports `aioredis`, which Debian lacks;
 * redis-py's `redis.asyncio` is the same code (aioredis 2.0.1 was merged into redis-py as it),
 * registered under that name with that version. `login` stores the
 * user and answers the raw cookie value; `whoami` answers the session for a cookie value.
 */
const AIOHTTP_REDIS = `
import asyncio, json, sys
import redis.asyncio
redis.asyncio.__version__ = '2.0.1'  # aioredis 2.0.1 became redis.asyncio
sys.modules['aioredis'] = redis.asyncio
import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp_session import get_session, session_middleware
from aiohttp_session.redis_storage import RedisStorage

inp = json.load(sys.stdin)
async def login(request):
    session = await get_session(request)
    session['user'] = (await request.json())['user']
    return web.json_response(dict(session))
async def whoami(request):
    session = await get_session(request)
    return web.json_response({'new': session.new, 'data': dict(session)})

async def main():
    pool = redis.asyncio.from_url(inp['url'])
    app = web.Application(middlewares=[session_middleware(RedisStorage(pool, max_age=3600))])
    app.router.add_post('/login', login)
    app.router.add_get('/whoami', whoami)
    out = []
    async with TestClient(TestServer(app, host='127.0.0.1'), cookie_jar=aiohttp.DummyCookieJar()) as client:
        for op in inp['ops']:
            if op['op'] == 'login':
                response = await client.post('/login', json={'user': op['user']})
                out.append(response.headers['Set-Cookie'].split(';')[0].split('=', 1)[1])
            else:
                response = await client.get('/whoami', headers={'Cookie': '${NAME}=' + op['cookie']})
                out.append(await response.json())
    await pool.close()
    print(json.dumps(out))
asyncio.run(main())
`

interface Op {
  op: 'login' | 'whoami'
  user?: string
  cookie?: string
}

function aiohttp<T>(url: string, ops: Op[]): T[] {
  return runPython<T[]>(AIOHTTP_REDIS, { url, ops })
}

/** The raw value of the named cookie in a Set-Cookie header list. */
function cookieValue(headers: string[], name: string): string {
  const header = headers.find((line) => line.startsWith(`${name}=`))
  assert.ok(header, `a Set-Cookie for ${name} in ${JSON.stringify(headers)}`)
  return header.split(';')[0]?.slice(name.length + 1) as string
}

describe('the demo and an aiohttp app on one Redis (SESSION_COMPAT=aiohttp)', () => {
  it('a login on the aiohttp app is a login on the demo, and the other way round', async (t) => {
    if (!requirePython(t, 'aiohttp', 'aiohttp_session', 'redis')) return
    const redis = await sharedRedis(t)
    if (redis === null) return
    const cleanup = cleanups(t)
    const demo = await startDemo({
      SESSION_COMPAT: 'aiohttp',
      SESSION_STORE: 'redis',
      REDIS_URL: redis.url,
      SESSION_IDLE_TIMEOUT: '3600',
    })
    cleanup(() => demo.app.close())

    // Log in on the aiohttp app; the demo sees the user.
    const [pythonCookie] = aiohttp<string>(redis.url, [{ op: 'login', user: 'ann' }])
    const seen = await send(`${demo.url}/api/session`, {
      headers: { cookie: `${NAME}=${pythonCookie}` },
    })
    assert.equal(seen.status, 200, seen.body)
    const view = JSON.parse(seen.body) as { isNew: boolean; data: Record<string, unknown> }
    assert.equal(view.isNew, false)
    assert.deepEqual(view.data, { user: 'ann' })

    // Log in on the demo; the aiohttp app sees the user, and the change made on the demo.
    const login = await send(`${demo.url}/api/session`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'bob', cart: ['tea', 'café'] }),
    })
    assert.equal(login.status, 200, login.body)
    const demoCookie = cookieValue(login.rawSetCookies, NAME)
    assert.match(demoCookie, /^[0-9a-f]{32}$/, 'the raw 32-hex id aiohttp looks up')
    const [whoami, again] = aiohttp<{ new: boolean; data: Record<string, unknown> }>(redis.url, [
      { op: 'whoami', cookie: demoCookie },
      { op: 'whoami', cookie: pythonCookie },
    ])
    assert.deepEqual(whoami, { new: false, data: { user: 'bob', cart: ['tea', 'café'] } })
    assert.deepEqual(again, { new: false, data: { user: 'ann' } })

    // Logging out on the demo ends the session for the aiohttp app too.
    const logout = await send(`${demo.url}/api/session`, {
      method: 'DELETE',
      headers: { cookie: `${NAME}=${demoCookie}`, origin: demo.url },
    })
    assert.equal(logout.status, 200, logout.body)
    const [after] = aiohttp<{ new: boolean }>(redis.url, [{ op: 'whoami', cookie: demoCookie }])
    assert.equal(after?.new, true)
  })
})
