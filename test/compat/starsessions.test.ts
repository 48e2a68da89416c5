import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { starsessionsCompat } from '../../src/compat.ts'
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

const SECRET = 'starsessions-compat-secret'
const T = 1_700_000_000_250

/**
 * starsessions' `CookieStore` and `JsonSerializer`, built from the packages it uses (it is not in
 * Debian): `write` serializes the data with `__metadata__` appended and signs the standard base64
 * of it with itsdangerous' TimestampSigner (optionally `age` seconds in the past); `read` unsigns
 * with `max_age=lifetime` and pops `__metadata__`, answering `{data, metadata}` or `null` when
 * starsessions would start an empty session.
 */
const STARSESSIONS = `
import base64, json, sys, time, itsdangerous
inp = json.load(sys.stdin)
lifetime = inp['lifetime']
out = []
for op in inp['ops']:
    signer = itsdangerous.TimestampSigner(op.get('secret', inp['secret']))
    if op['op'] == 'write':
        now = time.time() - op.get('age', 0)
        signer.get_timestamp = lambda: int(now)
        data = dict(op['data'])
        data['__metadata__'] = {'lifetime': lifetime, 'created': now, 'last_access': now}
        out.append(signer.sign(base64.b64encode(json.dumps(data).encode())).decode())
    else:
        try:
            raw = signer.unsign(op['cookie'], max_age=lifetime or 31104000)
        except itsdangerous.BadSignature:
            out.append(None)
            continue
        data = json.loads(base64.b64decode(raw))
        metadata = data.pop('__metadata__')
        out.append({'data': data, 'metadata': metadata})
print(json.dumps(out))
`

interface Op {
  op: 'write' | 'read'
  data?: object
  cookie?: string
  age?: number
  secret?: string
}

interface Read {
  data: Record<string, unknown>
  metadata: { lifetime: number; created: number; last_access: number }
}

function starsessions<T>(ops: Op[], lifetime = 3600): T[] {
  return runPython<T[]>(STARSESSIONS, { secret: SECRET, lifetime, ops })
}

describe('starsessions compatibility (starsessionsCompat, CookieStore)', () => {
  it("writes starsessions' vectors byte for byte (lifetime 3600 and 0), cookie attributes to match", async (t) => {
    const clock = () => T
    const base = await serveCompat(
      t,
      starsessionsCompat({ secret: 'TOP SECRET', lifetime: 3600, clock }),
    )
    const result = await send(`${base}/put`, { method: 'POST', body: '{"user":"alice"}' })
    assert.equal(
      rawCookie(result, 'session'),
      'eyJ1c2VyIjogImFsaWNlIiwgIl9fbWV0YWRhdGFfXyI6IHsibGlmZXRpbWUiOiAzNjAwLCAiY3JlYXRlZCI6IDE3MDAwMDAwMDAuMjUsICJsYXN0X2FjY2VzcyI6IDE3MDAwMDAwMDAuMjV9fQ==.ZVPxAA.b-V2LUuyt7W4gbhAvabrcLqIIoM',
    )
    const header = result.rawSetCookies[0] as string
    for (const part of ['; Max-Age=3600', '; Path=/', '; HttpOnly', '; Secure', '; SameSite=Lax']) {
      assert.ok(header.includes(part), `${part} in ${header}`)
    }
    const zero = await serveCompat(t, starsessionsCompat({ secret: 'TOP SECRET', clock }))
    const session = await send(`${zero}/put`, { method: 'POST', body: '{"user":"alice"}' })
    assert.equal(
      rawCookie(session, 'session'),
      'eyJ1c2VyIjogImFsaWNlIiwgIl9fbWV0YWRhdGFfXyI6IHsibGlmZXRpbWUiOiAwLCAiY3JlYXRlZCI6IDE3MDAwMDAwMDAuMjUsICJsYXN0X2FjY2VzcyI6IDE3MDAwMDAwMDAuMjV9fQ==.ZVPxAA.gAiHqLDHaqJYgTfietTb4cl84Z0',
    )
    assert.doesNotMatch(
      session.rawSetCookies[0] as string,
      /Max-Age/,
      'lifetime 0: a browser-session cookie',
    )
  })

  it('starsessions writes, sessionware reads the same data, __metadata__ hidden', async (t) => {
    if (!requirePython(t, 'itsdangerous')) return
    const [cookie] = starsessions<string>([{ op: 'write', data: COMPAT_DATA }])
    const base = await serveCompat(t, starsessionsCompat({ secret: SECRET, lifetime: 3600 }))
    const view = await nodeReads(base, 'session', cookie as string)
    assert.equal(view.isNew, false)
    assert.deepEqual(view.data, COMPAT_DATA)
  })

  it('sessionware writes, starsessions reads the same data and metadata', async (t) => {
    if (!requirePython(t, 'itsdangerous')) return
    const base = await serveCompat(t, starsessionsCompat({ secret: SECRET, lifetime: 3600 }))
    const before = Date.now() / 1000
    const cookie = await nodeWrites(base, 'session', COMPAT_DATA)
    const [read] = starsessions<Read>([{ op: 'read', cookie }])
    assert.deepEqual(read?.data, COMPAT_DATA)
    assert.equal(read?.metadata.lifetime, 3600)
    assert.ok(Math.abs((read?.metadata.created ?? 0) - before) < 5)
  })

  it('both sides refuse a wrong key, a tampered value and an expired one', async (t) => {
    if (!requirePython(t, 'itsdangerous')) return
    const base = await serveCompat(t, starsessionsCompat({ secret: SECRET, lifetime: 3600 }))
    const ours = await nodeWrites(base, 'session', { user: 'alice' })
    const past = await serveCompat(
      t,
      starsessionsCompat({ secret: SECRET, lifetime: 3600, clock: () => Date.now() - 7_200_000 }),
    )
    const oursExpired = await nodeWrites(past, 'session', { user: 'alice' })
    const [theirs, theirsExpired, tampered, expired, wrongKey, fine] = starsessions<
      string | Read | null
    >([
      { op: 'write', data: { user: 'alice' } },
      { op: 'write', data: { user: 'alice' }, age: 7200 },
      { op: 'read', cookie: tamper(ours) },
      { op: 'read', cookie: oursExpired },
      { op: 'read', cookie: ours, secret: 'another-secret' },
      { op: 'read', cookie: ours },
    ])
    assert.equal(tampered, null)
    assert.equal(expired, null)
    assert.equal(wrongKey, null)
    assert.deepEqual((fine as Read).data, { user: 'alice' })
    const other = await serveCompat(
      t,
      starsessionsCompat({ secret: 'another-secret', lifetime: 3600 }),
    )
    assert.equal((await nodeReads(other, 'session', theirs as string)).isNew, true)
    assert.equal((await nodeReads(base, 'session', tamper(theirs as string))).isNew, true)
    assert.equal((await nodeReads(base, 'session', theirsExpired as string)).isNew, true)
    assert.equal((await nodeReads(base, 'session', theirs as string)).isNew, false)
  })

  it('enforces a non-rolling lifetime from creation on the server, where starsessions does not', async (t) => {
    if (!requirePython(t, 'itsdangerous')) return
    // Created 3000 s ago, last written 100 s ago: the signature is fresh, the lifetime (3600) is
    // not yet over.
    let now = Date.now()
    const base = await serveCompat(
      t,
      starsessionsCompat({ secret: SECRET, lifetime: 3600, clock: () => now }),
    )
    const cookie = await nodeWrites(base, 'session', { user: 'alice' })
    now += 3000_000
    const again = await send(`${base}/put`, {
      method: 'POST',
      body: '{"n":1}',
      headers: { cookie: `session=${cookie}` },
    })
    const rewritten = rawCookie(again, 'session')
    assert.match(
      again.rawSetCookies[0] as string,
      /Max-Age=600;/,
      'the cookie carries what is left',
    )
    now += 700_000 // 3700 s after creation: over, although the last write was 700 s ago
    assert.equal((await nodeReads(base, 'session', rewritten)).isNew, true)
  })
})
