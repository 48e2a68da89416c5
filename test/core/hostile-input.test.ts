import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import {
  appRoutes,
  createFixture,
  type Fixture,
  type FixtureOptions,
  KEY_A,
  KEY_B,
  nodeHandler,
  type SessionView,
  type StorageKind,
  T0,
} from '../support/adapter-suite.ts'
import { Client, type HttpResult, json, serve, setCookieOf } from '../support/http.ts'

/** Serves the suite's app with the node adapter for a fresh fixture. */
async function start(
  t: TestContext,
  kind: StorageKind,
  options: FixtureOptions = {},
): Promise<{ fixture: Fixture; client: Client }> {
  const fixture = createFixture(kind, options)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const base = await serve(t, withSessions(fixture.sessions, nodeHandler(appRoutes)))
  return { fixture, client: new Client(base) }
}

/** The JSON text of a cookie-storage envelope created and last active at T0, with `data` verbatim. */
function envelope(data: string): string {
  const seconds = T0 / 1000
  return `{"c":${seconds},"a":${seconds},"d":${data}}`
}

function view(result: HttpResult): SessionView {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
  return json<SessionView>(result)
}

function assertFresh(result: HttpResult): void {
  const session = view(result)
  assert.equal(session.isNew, true)
  assert.deepEqual(session.data, {})
}

/** Changes one base64url digit in the middle of `value` (keeps it canonical base64url). */
function flipDigit(value: string, index: number): string {
  const digit = value[index]
  return value.slice(0, index) + (digit === 'A' ? 'B' : 'A') + value.slice(index + 1)
}

const WELL_FORMED_UNKNOWN_ID = 'AbCdEfGhIjKlMnOpQrStUvWxYz012345'

describe('hostile cookies with cookie storage (sealed codec)', () => {
  it('gives a fresh session and reports tampered for a changed sealed cookie', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    assert.equal((await client.get('/inc')).status, 200)
    const value = client.cookie('session') as string
    const tampered = flipDigit(value, 12)
    assert.notEqual(tampered, value)
    const result = await client.get('/get', { headers: { cookie: `session=${tampered}` } })
    assertFresh(result)
    assert.deepEqual(fixture.reasons, ['tampered'])
  })

  it('reports unknown-key for a cookie sealed with a key the manager does not have', async (t) => {
    const { fixture, client } = await start(t, 'cookie', {
      codec: createSealedCodec({ keys: [KEY_B] }),
    })
    const foreign = createSealedCodec({ keys: [KEY_A] }).encode(envelope('{"n":5}'))
    assertFresh(await client.get('/get', { headers: { cookie: `session=${foreign}` } }))
    assert.deepEqual(fixture.reasons, ['unknown-key'])
  })

  it('reports malformed for a cookie that is not base64url', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    assertFresh(await client.get('/get', { headers: { cookie: 'session=AAAAAA.!!!!$$$$' } }))
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('reports malformed for a plain-codec payload that is not JSON', async (t) => {
    const codec = createPlainCodec()
    const { fixture, client } = await start(t, 'cookie', { codec })
    const value = codec.encode('{"c":1,"a":1,"d":{')
    assertFresh(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('reports malformed for a signed payload that is not JSON', async (t) => {
    const codec = createSignedCodec({ keys: [KEY_A] })
    const { fixture, client } = await start(t, 'cookie', { codec })
    const value = codec.encode('not json at all')
    assertFresh(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('reports malformed for a signed JSON payload of the wrong shape', async (t) => {
    const codec = createSignedCodec({ keys: [KEY_A] })
    const { fixture, client } = await start(t, 'cookie', { codec })
    const value = codec.encode('{"c":"yesterday","a":1,"d":[]}')
    assertFresh(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('lets __proto__ keys pollute nothing, keeps constructor and prototype as data, and keeps the session usable', async (t) => {
    const codec = createPlainCodec()
    const { fixture, client } = await start(t, 'cookie', { codec })
    const prototypeKeys = Reflect.ownKeys(Object.prototype)
    const value = codec.encode(
      envelope(
        '{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},' +
          '"prototype":{"y":1},"n":1,"nested":{"__proto__":{"deep":true},"ok":1}}',
      ),
    )
    const result = await client.get('/inc', { headers: { cookie: `session=${value}` } })
    const session = view(result)
    assert.equal(session.isNew, false)
    const kept = {
      constructor: { prototype: { x: 1 } },
      prototype: { y: 1 },
      n: 2,
      nested: { ok: 1 },
    }
    assert.deepEqual(session.data, kept)
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(({} as Record<string, unknown>).deep, undefined)
    assert.equal(({} as Record<string, unknown>).x, undefined)
    assert.deepEqual(Reflect.ownKeys(Object.prototype), prototypeKeys)
    assert.deepEqual(fixture.reasons, [])
    // The re-issued cookie carries the cleaned data.
    assert.deepEqual(view(await client.get('/get')).data, kept)
  })

  it('lets a \\u-escaped __proto__ key in a signed payload pollute nothing', async (t) => {
    const codec = createSignedCodec({ keys: [KEY_A] })
    const { fixture, client } = await start(t, 'cookie', { codec })
    const prototypeKeys = Reflect.ownKeys(Object.prototype)
    const value = codec.encode(
      envelope(
        '{"\\u005f\\u005fproto__":{"polluted":true},"c\\u006fnstructor":{"pr\\u006ftotype":{"x":1}},"n":1}',
      ),
    )
    const session = view(await client.get('/inc', { headers: { cookie: `session=${value}` } }))
    assert.equal(session.isNew, false)
    assert.deepEqual(session.data, { constructor: { prototype: { x: 1 } }, n: 2 })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(({} as Record<string, unknown>).x, undefined)
    assert.deepEqual(Reflect.ownKeys(Object.prototype), prototypeKeys)
    assert.deepEqual(fixture.reasons, [])
  })

  it('lets a __proto__ key at the top of the envelope pollute nothing', async (t) => {
    const codec = createPlainCodec()
    const { client } = await start(t, 'cookie', { codec })
    const seconds = T0 / 1000
    const value = codec.encode(
      `{"__proto__":{"polluted":true},"c":${seconds},"a":${seconds},"d":{"n":1}}`,
    )
    const session = view(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.deepEqual(session.data, { n: 1 })
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
  })

  it('gives a fresh session for a 10 KB Cookie header of many cookies', async (t) => {
    const { client } = await start(t, 'cookie')
    const many = Array.from({ length: 200 }, (_, i) => `c${i}=${'v'.repeat(45)}`).join('; ')
    assert.ok(many.length > 10_000)
    assertFresh(await client.get('/get', { headers: { cookie: many } }))
  })

  it('finds the session cookie at the end of a 10 KB Cookie header', async (t) => {
    const { client } = await start(t, 'cookie')
    assert.equal((await client.get('/inc')).status, 200)
    const many = Array.from({ length: 200 }, (_, i) => `c${i}=${'v'.repeat(45)}`).join('; ')
    const cookie = `${many}; session=${client.cookie('session')}`
    assert.deepEqual(view(await client.get('/get', { headers: { cookie } })).data, { n: 1 })
  })

  it('gives a fresh session and reports malformed for a 10 KB session value', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    const value = `${'A'.repeat(6)}.${'A'.repeat(10_240)}`
    assertFresh(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('takes the first of duplicate session cookies', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    assert.equal((await client.get('/inc')).status, 200)
    const good = client.cookie('session') as string
    const result = await client.get('/get', {
      headers: { cookie: `session=${good}; session=AAAAAA.garbage` },
    })
    assert.deepEqual(view(result).data, { n: 1 })
    assert.deepEqual(fixture.reasons, [])
  })

  it('answers 200 with a fresh session when the first duplicate session cookie is garbage', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    assert.equal((await client.get('/inc')).status, 200)
    const good = client.cookie('session') as string
    const result = await client.get('/get', {
      headers: { cookie: `session=AAAAAA.garbage; session=${good}` },
    })
    assertFresh(result)
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('accepts a double-quoted cookie value', async (t) => {
    const { fixture, client } = await start(t, 'cookie')
    assert.equal((await client.get('/inc')).status, 200)
    const quoted = `session="${client.cookie('session')}"`
    assert.deepEqual(view(await client.get('/get', { headers: { cookie: quoted } })).data, {
      n: 1,
    })
    assert.deepEqual(fixture.reasons, [])
  })
})

describe('hostile cookies with server storage (memory store)', () => {
  it('never adopts an unknown well-formed id and reports unknown-id', async (t) => {
    const { fixture, client } = await start(t, 'server')
    const cookie = `session=${WELL_FORMED_UNKNOWN_ID}`
    const result = await client.get('/inc', { headers: { cookie } })
    const session = view(result)
    assert.equal(session.isNew, true)
    assert.deepEqual(session.data, { n: 1 })
    const issued = setCookieOf(result, 'session')?.value
    assert.ok(issued, 'a new id is issued')
    assert.notEqual(issued, WELL_FORMED_UNKNOWN_ID)
    assert.equal(session.id, issued)
    assert.deepEqual(fixture.reasons, ['unknown-id'])
    // The forged id still names nothing.
    assertFresh(await client.get('/get', { headers: { cookie } }))
    assert.deepEqual(fixture.reasons, ['unknown-id', 'unknown-id'])
  })

  it('never asks the store about an id with invalid characters', async (t) => {
    const { fixture, client } = await start(t, 'server')
    const cookie = "session=AAAAAAAAAAAAAAAAAAAAAAAA'OR'1'='1"
    assertFresh(await client.get('/get', { headers: { cookie } }))
    const result = await client.get('/inc', { headers: { cookie } })
    assert.equal(view(result).isNew, true)
    assert.equal(fixture.store?.calls.get, 0)
    assert.equal(fixture.store?.calls.delete, 0)
    assert.deepEqual(fixture.reasons, ['malformed', 'malformed'])
  })

  it('never asks the store about a 10 KB id', async (t) => {
    const { fixture, client } = await start(t, 'server')
    const cookie = `session=${'A'.repeat(10_240)}`
    assertFresh(await client.get('/get', { headers: { cookie } }))
    assert.equal(fixture.store?.calls.get, 0)
    assert.deepEqual(fixture.reasons, ['malformed'])
  })

  it('takes the first of duplicate session cookies', async (t) => {
    const { fixture, client } = await start(t, 'server')
    assert.equal((await client.get('/inc')).status, 200)
    const good = client.cookie('session') as string
    const result = await client.get('/get', {
      headers: { cookie: `session=${good}; session=${WELL_FORMED_UNKNOWN_ID}` },
    })
    assert.deepEqual(view(result).data, { n: 1 })
    assert.equal(fixture.store?.calls.get, 1)
  })

  it('accepts a double-quoted id', async (t) => {
    const { client } = await start(t, 'server')
    assert.equal((await client.get('/inc')).status, 200)
    const quoted = `session="${client.cookie('session')}"`
    assert.deepEqual(view(await client.get('/get', { headers: { cookie: quoted } })).data, {
      n: 1,
    })
  })
})

describe('key rotation (sealed codec)', () => {
  /** A cookie written by a manager that has only KEY_A, holding n = 1. */
  async function oldCookie(t: TestContext): Promise<string> {
    const { client } = await start(t, 'cookie', { codec: createSealedCodec({ keys: [KEY_A] }) })
    assert.equal((await client.get('/inc')).status, 200)
    return client.cookie('session') as string
  }

  it('reads a cookie sealed with the old key', async (t) => {
    const value = await oldCookie(t)
    const { fixture, client } = await start(t, 'cookie', {
      codec: createSealedCodec({ keys: [KEY_B, KEY_A] }),
    })
    const session = view(await client.get('/get', { headers: { cookie: `session=${value}` } }))
    assert.equal(session.isNew, false)
    assert.deepEqual(session.data, { n: 1 })
    assert.deepEqual(fixture.reasons, [])
  })

  it('re-issues a cookie sealed with the old key with the new key, even on a read-only request', async (t) => {
    const value = await oldCookie(t)
    const { client } = await start(t, 'cookie', {
      codec: createSealedCodec({ keys: [KEY_B, KEY_A] }),
    })
    const result = await client.get('/get', { headers: { cookie: `session=${value}` } })
    const reissued = setCookieOf(result, 'session')?.value
    assert.ok(reissued, 'the cookie is re-issued')
    assert.notEqual(reissued, value)
    const opened = createSealedCodec({ keys: [KEY_B] }).decode(reissued)
    assert.equal(opened.rotated, false)
    assert.deepEqual(JSON.parse(opened.payload).d, { n: 1 })
  })

  it('lets a manager with only the new key read the re-issued cookie', async (t) => {
    const value = await oldCookie(t)
    const rotating = await start(t, 'cookie', {
      codec: createSealedCodec({ keys: [KEY_B, KEY_A] }),
    })
    const result = await rotating.client.get('/get', { headers: { cookie: `session=${value}` } })
    const reissued = setCookieOf(result, 'session')?.value as string
    const { fixture, client } = await start(t, 'cookie', {
      codec: createSealedCodec({ keys: [KEY_B] }),
    })
    const after = await client.get('/get', { headers: { cookie: `session=${reissued}` } })
    assert.deepEqual(view(after).data, { n: 1 })
    assert.deepEqual(after.rawSetCookies, [], 'a current cookie is not re-issued')
    assert.deepEqual(fixture.reasons, [])
  })
})
