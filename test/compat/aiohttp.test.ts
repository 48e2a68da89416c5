import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { type AiohttpCompatOptions, aiohttpCompat } from '../../src/compat.ts'
import {
  COMPAT_DATA,
  nodeReads,
  nodeWrites,
  rawCookie,
  serveCompat,
  tamper,
} from '../support/compat-app.ts'
import { send } from '../support/http.ts'
import { withNodeEnv } from '../support/node-env.ts'
import { requirePython, runPython } from '../support/python.ts'

const NAME = 'AIOHTTP_SESSION'
const MAX_AGE = 3600

/**
 * A real aiohttp app with aiohttp-session's cookie storages behind `session_middleware`, served by
 * aiohttp's TestServer on 127.0.0.1 and driven by its client (no cookie jar): `put` stores data
 * and answers the raw cookie value, `get` answers `{new, data}` for a cookie value, `expired`
 * encrypts a session as EncryptedCookieStorage does, 2 × max_age in the past.
 */
const AIOHTTP = `
import asyncio, json, sys, time
import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer
from aiohttp_session import SimpleCookieStorage, get_session, session_middleware
from aiohttp_session.cookie_storage import EncryptedCookieStorage
from aiohttp_session.nacl_storage import NaClCookieStorage
from cryptography.fernet import Fernet

inp = json.load(sys.stdin)
kind, key, max_age = inp['storage'], inp['key'], inp['max_age']
if kind == 'fernet':
    storage = EncryptedCookieStorage(key, max_age=max_age)
elif kind == 'nacl':
    storage = NaClCookieStorage(bytes.fromhex(key), max_age=max_age)
else:
    storage = SimpleCookieStorage(max_age=max_age)

async def put(request):
    session = await get_session(request)
    for k, v in (await request.json()).items():
        session[k] = v
    return web.json_response(dict(session))
async def get(request):
    session = await get_session(request)
    return web.json_response({'new': session.new, 'data': dict(session)})

async def main():
    app = web.Application(middlewares=[session_middleware(storage)])
    app.router.add_post('/put', put)
    app.router.add_get('/get', get)
    out = []
    async with TestClient(TestServer(app, host='127.0.0.1'), cookie_jar=aiohttp.DummyCookieJar()) as client:
        for op in inp['ops']:
            if op['op'] == 'put':
                response = await client.post('/put', json=op['data'])
                header = response.headers['Set-Cookie']
                out.append(header.split(';')[0].split('=', 1)[1])
            elif op['op'] == 'get':
                response = await client.get('/get', headers={'Cookie': '${NAME}=' + op['cookie']})
                out.append(await response.json())
            elif op['op'] == 'expired':
                past = int(time.time()) - 2 * max_age
                payload = json.dumps({'created': past, 'session': op['data']}).encode()
                out.append('"' + Fernet(key).encrypt_at_time(payload, past).decode() + '"')
    print(json.dumps(out))
asyncio.run(main())
`

interface Op {
  op: 'put' | 'get' | 'expired'
  data?: object
  cookie?: string
}

interface PythonView {
  new: boolean
  data: Record<string, unknown>
}

type Storage = 'fernet' | 'nacl' | 'simple'

function aiohttp<T>(storage: Storage, key: string, ops: Op[]): T[] {
  return runPython<T[]>(AIOHTTP, { storage, key, max_age: MAX_AGE, ops })
}

const fernetKey = (): string => randomBytes(32).toString('base64url') + '='
const naclKey = (): string => randomBytes(32).toString('hex')

function options(storage: Storage, key: string, clock?: () => number): AiohttpCompatOptions {
  return storage === 'simple'
    ? { storage, maxAge: MAX_AGE, clock }
    : { storage, key, maxAge: MAX_AGE, clock }
}

describe('aiohttp-session compatibility (aiohttpCompat)', () => {
  for (const storage of ['fernet', 'nacl', 'simple'] as const) {
    const newKey = storage === 'nacl' ? naclKey : fernetKey
    describe(`${storage} cookie storage`, () => {
      it('aiohttp writes, sessionware reads the same data', async (t) => {
        if (!requirePython(t, 'aiohttp', 'aiohttp_session', 'cryptography', 'nacl')) return
        const key = newKey()
        const [cookie] = aiohttp<string>(storage, key, [{ op: 'put', data: COMPAT_DATA }])
        const base = await serveCompat(t, aiohttpCompat(options(storage, key)))
        const view = await nodeReads(base, NAME, cookie as string)
        assert.equal(view.isNew, false)
        assert.deepEqual(view.data, COMPAT_DATA)
      })

      it('sessionware writes, aiohttp reads the same data', async (t) => {
        if (!requirePython(t, 'aiohttp', 'aiohttp_session', 'cryptography', 'nacl')) return
        const key = newKey()
        const base = await serveCompat(t, aiohttpCompat(options(storage, key)))
        const cookie = await nodeWrites(base, NAME, COMPAT_DATA)
        const [view] = aiohttp<PythonView>(storage, key, [{ op: 'get', cookie }])
        assert.equal(view?.new, false)
        assert.deepEqual(view?.data, COMPAT_DATA)
      })
    })
  }

  it('writes a Python-quoted cookie with Max-Age, as aiohttp does', async (t) => {
    const base = await serveCompat(t, aiohttpCompat({ storage: 'simple', maxAge: MAX_AGE }))
    const result = await send(`${base}/put`, { method: 'POST', body: '{"user":"alice","n":1}' })
    const value = rawCookie(result, NAME)
    assert.match(
      value,
      /^"\{\\"created\\": \d+\\054 \\"session\\": \{\\"user\\": \\"alice\\"\\054 \\"n\\": 1\}\}"$/,
    )
    assert.match(result.rawSetCookies[0] as string, /; Max-Age=3600;/)
  })

  it('refuses the simple storage in production, as the codec does', () => {
    withNodeEnv('production', () => {
      assert.throws(() => aiohttpCompat({ storage: 'simple' }), { code: 'ERR_SESSION_CONFIG' })
    })
  })

  it('both sides refuse a wrong key, a tampered value and an expired one (fernet)', async (t) => {
    if (!requirePython(t, 'aiohttp', 'aiohttp_session', 'cryptography', 'nacl')) return
    const key = fernetKey()
    const base = await serveCompat(t, aiohttpCompat(options('fernet', key)))
    const ours = await nodeWrites(base, NAME, { user: 'alice' })
    const past = await serveCompat(
      t,
      aiohttpCompat(options('fernet', key, () => Date.now() - 2 * MAX_AGE * 1000)),
    )
    const oursExpired = await nodeWrites(past, NAME, { user: 'alice' })
    const [theirs, theirsExpired, ...python] = aiohttp<string | PythonView>('fernet', key, [
      { op: 'put', data: { user: 'alice' } },
      { op: 'expired', data: { user: 'alice' } },
      { op: 'get', cookie: tamper(ours) },
      { op: 'get', cookie: oursExpired },
      { op: 'get', cookie: ours },
    ])
    assert.deepEqual(python[0], { new: true, data: {} }, 'aiohttp refuses a tampered value')
    assert.deepEqual(python[1], { new: true, data: {} }, 'aiohttp refuses an expired value')
    assert.deepEqual(python[2], { new: false, data: { user: 'alice' } })
    const [wrongKey] = aiohttp<PythonView>('fernet', fernetKey(), [{ op: 'get', cookie: ours }])
    assert.deepEqual(wrongKey, { new: true, data: {} }, 'aiohttp refuses another key')

    const other = await serveCompat(t, aiohttpCompat(options('fernet', fernetKey())))
    assert.equal((await nodeReads(other, NAME, theirs as string)).isNew, true)
    assert.equal((await nodeReads(base, NAME, tamper(theirs as string))).isNew, true)
    assert.equal((await nodeReads(base, NAME, theirsExpired as string)).isNew, true)
    assert.equal((await nodeReads(base, NAME, theirs as string)).isNew, false)
  })
})
