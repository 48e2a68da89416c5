import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { type CookieCodec, createCookieStorage, createSessions } from '../../src/index.ts'

const KEY = 'k'.repeat(40)
const transport = () => ({ encrypted: false, host: '127.0.0.1' })

/** A sealed codec that counts decodes. */
function counting(): { codec: CookieCodec; decodes: () => number } {
  const sealed = createSealedCodec({ keys: [KEY] })
  let decodes = 0
  return {
    codec: {
      name: 'counting',
      encode: (payload) => sealed.encode(payload),
      decode: (value) => {
        decodes++
        return sealed.decode(value)
      },
    },
    decodes: () => decodes,
  }
}

describe('cookie storage decode cache', () => {
  it('opens a repeated cookie once and still answers every request with its data', async () => {
    const { codec, decodes } = counting()
    const sessions = createSessions<{ n: number }>({ storage: createCookieStorage({ codec }) })
    const first = {}
    const rs = sessions.attach(first, undefined, transport)
    ;(await sessions.getSession(first)).set('n', 7)
    const cookie = ((await rs.commit())[0] as string).split(';')[0]
    for (let i = 0; i < 5; i++) {
      const req = {}
      sessions.attach(req, cookie, transport)
      assert.equal((await sessions.getSession(req)).get('n'), 7)
    }
    assert.equal(decodes(), 1)
  })

  it('still expires a cached cookie on time', async () => {
    const { codec } = counting()
    let now = Date.now()
    const sessions = createSessions<{ n: number }>({
      storage: createCookieStorage({ codec }),
      idleTimeout: 60,
      clock: () => now,
    })
    const first = {}
    const rs = sessions.attach(first, undefined, transport)
    ;(await sessions.getSession(first)).set('n', 1)
    const cookie = ((await rs.commit())[0] as string).split(';')[0]
    const read = async () => {
      const req = {}
      sessions.attach(req, cookie, transport)
      return (await sessions.getSession(req)).isNew
    }
    assert.equal(await read(), false)
    now += 61_000
    assert.equal(await read(), true, 'the cached value is expired by its own timestamps')
  })

  it('never caches a value that failed to decode', async () => {
    const { codec, decodes } = counting()
    const reasons: string[] = []
    const sessions = createSessions({
      storage: createCookieStorage({ codec }),
      onInvalidCookie: (reason) => reasons.push(reason),
    })
    for (let i = 0; i < 3; i++) {
      const req = {}
      sessions.attach(req, 'session=garbage.value', transport)
      assert.equal((await sessions.getSession(req)).isNew, true)
    }
    assert.equal(decodes(), 3)
    assert.deepEqual(reasons, ['malformed', 'malformed', 'malformed'])
  })

  it('can be turned off, and keeps at most cacheSize values', async () => {
    for (const [cacheSize, expected] of [
      [0, 4],
      [1, 3],
    ] as const) {
      const { codec, decodes } = counting()
      const sessions = createSessions<{ n: number }>({
        storage: createCookieStorage({ codec, cacheSize }),
      })
      const cookies: string[] = []
      for (let n = 0; n < 2; n++) {
        const req = {}
        const rs = sessions.attach(req, undefined, transport)
        ;(await sessions.getSession(req)).set('n', n)
        cookies.push(((await rs.commit())[0] as string).split(';')[0] as string)
      }
      // a, b, b, a: with one slot, b evicts a and a must be opened again
      for (const cookie of [cookies[0], cookies[1], cookies[1], cookies[0]]) {
        const req = {}
        sessions.attach(req, cookie, transport)
        await sessions.getSession(req)
      }
      assert.equal(decodes(), expected, `cacheSize ${cacheSize}`)
    }
  })

  it('evicts the oldest value first, however recently it was read, round after round', async () => {
    const { codec, decodes } = counting()
    const sessions = createSessions<{ n: number }>({
      storage: createCookieStorage({ codec, cacheSize: 3 }),
    })
    const cookies: string[] = []
    for (let n = 0; n < 5; n++) {
      const req = {}
      const rs = sessions.attach(req, undefined, transport)
      ;(await sessions.getSession(req)).set('n', n)
      cookies.push(((await rs.commit())[0] as string).split(';')[0] as string)
    }
    const read = async (i: number): Promise<number> => {
      const before = decodes()
      const req = {}
      sessions.attach(req, cookies[i], transport)
      assert.equal((await sessions.getSession(req)).get('n'), i)
      return decodes() - before
    }
    // Opened: 0 1 2; 0 is read again (a hit), yet 3 evicts it as the oldest; 0 then evicts 1, and
    // so on, the oldest going each time: the cache ends holding 3 0 4.
    const opened: number[] = []
    for (const i of [0, 1, 2, 0, 3, 0, 2, 1, 4, 2, 3, 0, 4, 3, 0]) opened.push(await read(i))
    assert.deepEqual(opened, [1, 1, 1, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 0, 0])
  })

  it('rejects a cacheSize that is not a non-negative integer', () => {
    const codec = createSealedCodec({ keys: [KEY] })
    assert.throws(() => createCookieStorage({ codec, cacheSize: -1 }), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.throws(() => createCookieStorage({ codec, cacheSize: 1.5 }), {
      code: 'ERR_SESSION_CONFIG',
    })
  })
})
