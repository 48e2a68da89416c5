/**
 * A codec with an age check of its own (fernet with `ttl`) through cookie storage over real HTTP:
 * the decode cache must not keep serving a value the codec would now refuse.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import {
  createCookieStorage,
  createSessions,
  getSession,
  type InvalidCookieReason,
} from '../../src/index.ts'

const KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='

describe('a codec that checks ages itself, through cookie storage', () => {
  it('refuses a fernet token past its ttl although the storage decoded it before', async (t) => {
    let now = Date.now()
    const clock = () => now
    const reasons: InvalidCookieReason[] = []
    const sessions = createSessions({
      storage: createCookieStorage({ codec: createFernetCodec({ keys: [KEY], ttl: 60, clock }) }),
      idleTimeout: 86_400, // the manager's own timeouts are far away: only the codec's ttl ends it
      touchAfter: 86_400,
      clock,
      onInvalidCookie: (reason) => reasons.push(reason),
    })
    const server = http.createServer(
      withSessions(sessions, async (req, res) => {
        const session = await getSession(req)
        if (req.url === '/set') session.set('n', 1)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ isNew: session.isNew, n: session.get('n') ?? null }))
      }),
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise((resolve) => server.close(resolve)))
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const set = await fetch(`${base}/set`)
    const cookie = (set.headers.getSetCookie()[0] ?? '').split(';')[0] as string
    const get = async () => (await fetch(`${base}/get`, { headers: { cookie } })).json()
    assert.deepEqual(await get(), { isNew: false, n: 1 })
    assert.deepEqual(await get(), { isNew: false, n: 1 }, 'read twice: the cache would have it')
    now += 59_000
    assert.deepEqual(await get(), { isNew: false, n: 1 })
    now += 2_000
    assert.deepEqual(await get(), { isNew: true, n: null }, 'past the ttl the token is refused')
    assert.deepEqual(reasons, ['expired'])
  })

  it('a codec without an age check stays cacheable', () => {
    assert.equal(createFernetCodec({ keys: [KEY] }).cacheable, true)
    assert.equal(createFernetCodec({ keys: [KEY], ttl: 60 }).cacheable, false)
  })
})
