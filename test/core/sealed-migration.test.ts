import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createSealedCodec, type SealedCodecOptions } from '../../src/codecs/sealed.ts'
import {
  appRoutes,
  createFixture,
  type Fixture,
  KEY_A,
  KEY_B,
  nodeHandler,
  type SessionView,
} from '../support/adapter-suite.ts'
import { Client, type HttpResult, json, serve, setCookieOf } from '../support/http.ts'

/** Serves the suite's app with cookie storage and a sealed codec of `options`. */
async function start(
  t: TestContext,
  options: Partial<SealedCodecOptions> = {},
): Promise<{ fixture: Fixture; client: Client }> {
  const codec = createSealedCodec({ keys: [KEY_A], ...options })
  const fixture = createFixture('cookie', { codec })
  const base = await serve(t, withSessions(fixture.sessions, nodeHandler(appRoutes)))
  return { fixture, client: new Client(base) }
}

function view(result: HttpResult): SessionView {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
  return json<SessionView>(result)
}

/** A cookie holding n = 1, written by a server sealing with `cipher`. */
async function cookieFrom(t: TestContext, cipher: SealedCodecOptions['cipher']): Promise<string> {
  const { client } = await start(t, { cipher })
  assert.equal((await client.get('/inc')).status, 200)
  return client.cookie('session') as string
}

describe('sealed cookie formats over HTTP', () => {
  it('an upgraded server reads an AES-256-GCM cookie and re-issues it as XChaCha20-Poly1305', async (t) => {
    const old = await cookieFrom(t, 'aes-256-gcm')
    assert.equal(old[6], '.')
    const { client, fixture } = await start(t)
    const result = await client.get('/get', { headers: { cookie: `session=${old}` } })
    assert.deepEqual(view(result).data, { n: 1 })
    const reissued = setCookieOf(result, 'session')?.value as string
    assert.equal(reissued[6], '~', 'a read-only request re-issues the cookie in the new format')
    const again = await client.get('/get', { headers: { cookie: `session=${reissued}` } })
    assert.deepEqual(view(again).data, { n: 1 })
    assert.deepEqual(again.rawSetCookies, [], 'a cookie in the written format is not re-issued')
    assert.deepEqual(fixture.reasons, [])
  })

  it("a server rolled back to cipher: 'aes-256-gcm' reads the new cookies and re-issues them", async (t) => {
    const current = await cookieFrom(t, undefined)
    assert.equal(current[6], '~')
    const { client } = await start(t, { cipher: 'aes-256-gcm' })
    const result = await client.get('/inc', { headers: { cookie: `session=${current}` } })
    assert.deepEqual(view(result).data, { n: 2 })
    assert.equal(setCookieOf(result, 'session')?.value?.[6], '.')
  })

  it('keeps every write of 32 parallel requests on old cookies (no request fails)', async (t) => {
    const old = await cookieFrom(t, 'aes-256-gcm')
    const { client } = await start(t, { keys: [KEY_B, KEY_A] })
    const results = await Promise.all(
      Array.from({ length: 32 }, () =>
        client.get('/get', { headers: { cookie: `session=${old}` } }),
      ),
    )
    for (const result of results) {
      assert.deepEqual(view(result).data, { n: 1 })
      const value = setCookieOf(result, 'session')?.value as string
      const opened = createSealedCodec({ keys: [KEY_B] }).decode(value)
      assert.equal(opened.rotated, false, 'new key and new format at once')
    }
  })

  it('gives a fresh session, not an error, for a damaged cookie in either format', async (t) => {
    const { client } = await start(t)
    for (const cipher of ['aes-256-gcm', undefined] as const) {
      const value = await cookieFrom(t, cipher)
      const damaged = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`
      const session = view(await client.get('/get', { headers: { cookie: `session=${damaged}` } }))
      assert.equal(session.isNew, true)
      assert.deepEqual(session.data, {})
    }
  })
})
