import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { asgiFernetKey, asgiSessionsCompat } from '../../src/compat.ts'
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

const SECRET = 'SECRET-TESTS'

/**
 * asgi-sessions' three session types, built from the packages it uses (it is not in Debian):
 * `write` encodes the data as its `Session` does (compact JSON, then PyJWT HS256, Fernet with the
 * key derived from the secret, or url-safe base64); `read` decodes, answering `{}` where
 * asgi-sessions starts an empty session.
 */
const ASGI = `
import base64, json, sys, jwt
from cryptography.fernet import Fernet, InvalidToken
inp = json.load(sys.stdin)
def fernet(secret):
    if len(secret) != 32:
        secret = secret[:32]
        secret += '=' * (32 - len(secret) % 32)
    return Fernet(base64.urlsafe_b64encode(secret.encode()))
def dumps(data):
    return json.dumps(data, ensure_ascii=False, separators=(',', ':'))
out = []
for op in inp['ops']:
    kind, secret = op['type'], op.get('secret', inp['secret'])
    if op['op'] == 'write':
        if kind == 'jwt':
            out.append(jwt.encode(op['data'], secret, algorithm='HS256'))
        elif kind == 'fernet':
            out.append(fernet(secret).encrypt(dumps(op['data']).encode()).decode())
        else:
            out.append(base64.urlsafe_b64encode(dumps(op['data']).encode()).decode())
    else:
        try:
            if kind == 'jwt':
                out.append(jwt.decode(op['cookie'], secret, algorithms=['HS256']))
            elif kind == 'fernet':
                out.append(json.loads(fernet(secret).decrypt(op['cookie'].encode())))
            else:
                out.append(json.loads(base64.urlsafe_b64decode(op['cookie'])))
        except (jwt.DecodeError, InvalidToken, ValueError):
            out.append({})
print(json.dumps(out))
`

type Type = 'jwt' | 'fernet' | 'base64'

interface Op {
  op: 'write' | 'read'
  type: Type
  data?: object
  cookie?: string
  secret?: string
}

function asgi<T>(ops: Op[]): T[] {
  return runPython<T[]>(ASGI, { secret: SECRET, ops })
}

describe('asgi-sessions compatibility (asgiSessionsCompat)', () => {
  it("writes asgi-sessions' jwt and base64 vectors byte for byte, and derives its Fernet key", async (t) => {
    const jwtBase = await serveCompat(t, asgiSessionsCompat({ type: 'jwt', secret: SECRET }))
    const jwt = await send(`${jwtBase}/put`, { method: 'POST', body: '{"user":"alice","n":1}' })
    assert.equal(
      rawCookie(jwt, 'session'),
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ.xQj7uXM8e1hzo2CCLVJDuLNlvPd8Eia_Io9PA_q-kdg',
    )
    assert.match(jwt.rawSetCookies[0] as string, /; Max-Age=1209600;/)
    const b64Base = await serveCompat(t, asgiSessionsCompat({ type: 'base64' }))
    const b64 = await send(`${b64Base}/put`, { method: 'POST', body: '{"user":"alice","n":1}' })
    assert.equal(rawCookie(b64, 'session'), 'eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ==')
    assert.equal(asgiFernetKey(SECRET), 'U0VDUkVULVRFU1RTPT09PT09PT09PT09PT09PT09PT0=')
    assert.throws(() => asgiFernetKey('x'.repeat(33)), { code: 'ERR_SESSION_CONFIG' })
  })

  for (const type of ['jwt', 'fernet', 'base64'] as const) {
    it(`${type}: Python writes → sessionware reads, and sessionware writes → Python reads`, async (t) => {
      if (!requirePython(t, 'jwt', 'cryptography')) return
      const [theirs] = asgi<string>([{ op: 'write', type, data: COMPAT_DATA }])
      const base = await serveCompat(t, asgiSessionsCompat({ type, secret: SECRET }))
      const view = await nodeReads(base, 'session', theirs as string)
      assert.equal(view.isNew, false)
      assert.deepEqual(view.data, COMPAT_DATA)
      const ours = await nodeWrites(base, 'session', COMPAT_DATA)
      const [read] = asgi<object>([{ op: 'read', type, cookie: ours }])
      assert.deepEqual(read, COMPAT_DATA)
    })
  }

  for (const type of ['jwt', 'fernet'] as const) {
    it(`${type}: both sides refuse a wrong key and a tampered value`, async (t) => {
      if (!requirePython(t, 'jwt', 'cryptography')) return
      const base = await serveCompat(t, asgiSessionsCompat({ type, secret: SECRET }))
      const ours = await nodeWrites(base, 'session', { user: 'alice' })
      const [theirs, tampered, wrongKey] = asgi<string | object>([
        { op: 'write', type, data: { user: 'alice' } },
        { op: 'read', type, cookie: tamper(ours) },
        { op: 'read', type, cookie: ours, secret: 'another-secret' },
      ])
      assert.deepEqual(tampered, {})
      assert.deepEqual(wrongKey, {})
      const other = await serveCompat(t, asgiSessionsCompat({ type, secret: 'another-secret' }))
      assert.equal((await nodeReads(other, 'session', theirs as string)).isNew, true)
      assert.equal((await nodeReads(base, 'session', tamper(theirs as string))).isNew, true)
      assert.equal((await nodeReads(base, 'session', theirs as string)).isNew, false)
    })
  }

  it('refuses the base64 type in production and a missing secret', () => {
    withNodeEnv('production', () => {
      assert.throws(() => asgiSessionsCompat({ type: 'base64' }), { code: 'ERR_SESSION_CONFIG' })
    })
    assert.throws(() => asgiSessionsCompat({ type: 'jwt' }), { code: 'ERR_SESSION_CONFIG' })
  })
})
