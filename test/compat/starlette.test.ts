import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { starletteCompat } from '../../src/compat.ts'
import {
  COMPAT_DATA,
  nodeReads,
  nodeWrites,
  rawCookie,
  serveCompat,
  tamper,
} from '../support/compat-app.ts'
import { send } from '../support/http.ts'
import { requirePython, runPython } from '../support/python.ts'

const SECRET = 'starlette-compat-secret'

/**
 * A real Starlette app with `SessionMiddleware(secret_key, max_age)`, driven by Starlette's
 * TestClient: `put` stores data and answers the raw cookie value; `get` answers the session for a
 * cookie value; `expired` signs data as the middleware does, 2,000,000 s (over 14 days) in the past.
 */
const STARLETTE = `
import base64, json, sys, time, itsdangerous
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.sessions import SessionMiddleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

inp = json.load(sys.stdin)
async def put(request):
    for key, value in (await request.json()).items():
        request.session[key] = value
    return JSONResponse(dict(request.session))
async def get(request):
    return JSONResponse(dict(request.session))
app = Starlette(
    routes=[Route('/put', put, methods=['POST']), Route('/get', get)],
    middleware=[Middleware(SessionMiddleware, secret_key=inp['secret'], max_age=inp.get('max_age', 1209600))],
)
client = TestClient(app)
out = []
for op in inp['ops']:
    if op['op'] == 'put':
        response = client.post('/put', json=op['data'])
        cookie = response.headers['set-cookie']
        out.append(cookie.split(';')[0].split('=', 1)[1])
        client.cookies.clear()
    elif op['op'] == 'get':
        response = client.get('/get', headers={'cookie': 'session=' + op['cookie']})
        out.append(response.json())
    elif op['op'] == 'expired':
        signer = itsdangerous.TimestampSigner(inp['secret'])
        signer.get_timestamp = lambda: int(time.time()) - 2000000
        out.append(signer.sign(base64.b64encode(json.dumps(op['data']).encode())).decode())
print(json.dumps(out))
`

interface Op {
  op: 'put' | 'get' | 'expired'
  data?: object
  cookie?: string
}

function starlette<T>(ops: Op[], secret = SECRET, maxAge = 1209600): T[] {
  return runPython<T[]>(STARLETTE, { secret, max_age: maxAge, ops })
}

describe('Starlette SessionMiddleware compatibility (starletteCompat)', () => {
  it("writes Starlette's vector byte for byte, cookie attributes as Starlette sends them", async (t) => {
    const base = await serveCompat(t, {
      ...starletteCompat({ secret: 'secret', clock: () => 1_700_000_000_000 }),
    })
    const result = await send(`${base}/put`, {
      method: 'POST',
      body: JSON.stringify({ user: 'alice' }),
    })
    assert.equal(
      rawCookie(result, 'session'),
      'eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.XWOfJiyiEaGsEkpNfu08orwe8fA',
    )
    const header = result.rawSetCookies[0] as string
    assert.match(header, /; Max-Age=1209600;/)
    assert.match(header, /; Path=\//)
    assert.match(header, /; HttpOnly/)
    assert.match(header, /; SameSite=Lax/)
  })

  it('Starlette writes, sessionware reads the same data', async (t) => {
    if (!requirePython(t, 'starlette', 'httpx', 'itsdangerous')) return
    const [cookie] = starlette<string>([{ op: 'put', data: COMPAT_DATA }])
    const base = await serveCompat(t, starletteCompat({ secret: SECRET }))
    const view = await nodeReads(base, 'session', cookie as string)
    assert.equal(view.isNew, false)
    assert.deepEqual(view.data, COMPAT_DATA)
  })

  it('sessionware writes, Starlette reads the same data', async (t) => {
    if (!requirePython(t, 'starlette', 'httpx', 'itsdangerous')) return
    const base = await serveCompat(t, starletteCompat({ secret: SECRET }))
    const cookie = await nodeWrites(base, 'session', COMPAT_DATA)
    const [data] = starlette<object>([{ op: 'get', cookie }])
    assert.deepEqual(data, COMPAT_DATA)
  })

  it('both sides refuse a wrong key, a tampered value and an expired one', async (t) => {
    if (!requirePython(t, 'starlette', 'httpx', 'itsdangerous')) return
    const base = await serveCompat(t, starletteCompat({ secret: SECRET }))
    const ours = await nodeWrites(base, 'session', { user: 'alice' })
    const past = await serveCompat(
      t,
      starletteCompat({ secret: SECRET, clock: () => Date.now() - 2_000_000_000 }),
    )
    const oursExpired = await nodeWrites(past, 'session', { user: 'alice' })
    const [theirs, theirsExpired] = starlette<string>([
      { op: 'put', data: { user: 'alice' } },
      { op: 'expired', data: { user: 'alice' } },
    ])
    // Starlette refuses ours: wrong key, tampered, expired.
    const refused = starlette<object>(
      [
        { op: 'get', cookie: ours },
        { op: 'get', cookie: tamper(ours) },
        { op: 'get', cookie: oursExpired },
      ],
      'another-secret',
    )
    assert.deepEqual(refused[0], {})
    const [tampered, expired] = starlette<object>([
      { op: 'get', cookie: tamper(ours) },
      { op: 'get', cookie: oursExpired },
    ])
    assert.deepEqual(tampered, {})
    assert.deepEqual(expired, {})
    // sessionware refuses theirs the same three ways.
    const other = await serveCompat(t, starletteCompat({ secret: 'another-secret' }))
    assert.equal((await nodeReads(other, 'session', theirs as string)).isNew, true)
    assert.equal((await nodeReads(base, 'session', tamper(theirs as string))).isNew, true)
    assert.equal((await nodeReads(base, 'session', theirsExpired as string)).isNew, true)
    assert.equal((await nodeReads(base, 'session', theirs as string)).isNew, false)
  })

  it('keeps flash values in a visible __sessionware__ key that Starlette carries along', async (t) => {
    if (!requirePython(t, 'starlette', 'httpx', 'itsdangerous')) return
    const base = await serveCompat(t, starletteCompat({ secret: SECRET }))
    const flashed = await send(`${base}/flash-set`)
    const cookie = rawCookie(flashed, 'session')
    const [seen] = starlette<Record<string, unknown>>([{ op: 'get', cookie }])
    assert.deepEqual(seen, { __sessionware__: { f: { notice: 'saved ✓' } } })
    const flash = await send(`${base}/flash-get`, { headers: { cookie: `session=${cookie}` } })
    assert.deepEqual(JSON.parse(flash.body), { notice: 'saved ✓' })
  })
})
