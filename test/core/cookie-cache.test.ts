import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { type CookieCodec, createCookieStorage, createSessions } from '../../src/index.ts'
import { loopback, startCounterSessions } from '../support/counter-sessions.ts'

const KEY = 'k'.repeat(40)
const transport = loopback

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
      const cookies = await startCounterSessions(sessions, 2)
      // a, b, b, a: with one slot, b evicts a and a must be opened again
      for (const cookie of [cookies[0], cookies[1], cookies[1], cookies[0]]) {
        const req = {}
        sessions.attach(req, cookie, transport)
        await sessions.getSession(req)
      }
      assert.equal(decodes(), expected, `cacheSize ${cacheSize}`)
    }
  })

  it("holds at most cacheSize values and never answers one cookie with another one's data", async () => {
    const { codec, decodes } = counting()
    const all: Array<{ sessions: ReturnType<typeof createSessions<{ n: number }>>; size: number }> =
      [1, 2, 3, 8].map((size) => ({
        size,
        sessions: createSessions<{ n: number }>({
          storage: createCookieStorage({ codec, cacheSize: size }),
        }),
      }))
    // Six cookies of one manager; every manager shares the keys, so each reads them all.
    const cookies: string[] = []
    for (let n = 0; n < 6; n++) {
      const req = {}
      const rs = (all[0] as (typeof all)[0]).sessions.attach(req, undefined, transport)
      ;(await (all[0] as (typeof all)[0]).sessions.getSession(req)).set('n', n)
      cookies.push(((await rs.commit())[0] as string).split(';')[0] as string)
    }
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...all),
        fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 40 }),
        async ({ sessions, size }, order) => {
          const read = async (i: number): Promise<void> => {
            const req = {}
            sessions.attach(req, cookies[i], transport)
            assert.equal((await sessions.getSession(req)).get('n'), i)
          }
          for (const i of order) await read(i)
          // Whatever the cache held after the sequence, reading all six again opens at least
          // the ones it cannot hold.
          const before = decodes()
          for (let i = 0; i < 6; i++) await read(i)
          assert.ok(decodes() - before >= 6 - size, `cacheSize ${size}`)
          // Right after a read, the same cookie is a hit.
          const again = decodes()
          await read(5)
          assert.equal(decodes(), again)
        },
      ),
      { numRuns: 100 },
    )
  })

  it('rejects a cacheSize that is not an integer from 0 to 1,048,576', () => {
    const codec = createSealedCodec({ keys: [KEY] })
    assert.throws(() => createCookieStorage({ codec, cacheSize: -1 }), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.throws(() => createCookieStorage({ codec, cacheSize: 1.5 }), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.throws(() => createCookieStorage({ codec, cacheSize: 1_048_577 }), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.ok(createCookieStorage({ codec, cacheSize: 1_048_576 }))
  })
})
