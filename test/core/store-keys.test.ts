/**
 * Server storage keeps a session under the SHA-256 of its id (`hashIds`, the default): ids that
 * share their last characters (or anything else) each reach their own record, and no record sits
 * under a raw id.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createServerStorage, createSessions, SessionConfigError } from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { loopback, startCounterSessions } from '../support/counter-sessions.ts'

const transport = loopback

describe('server storage store keys', () => {
  it('keeps ids that share their last characters apart, and stores under the SHA-256', async () => {
    const store = createMemoryStore()
    // Every id ends in the same six characters.
    const sessions = createSessions<{ n: number }>({
      storage: createServerStorage({
        store,
        generateId: () => `${randomBytes(18).toString('base64url')}SAMEND`,
      }),
    })
    const cookies = await startCounterSessions(sessions, 8)
    const id = (cookie: string) => cookie.slice(cookie.indexOf('=') + 1)
    for (const cookie of cookies) {
      const key = createHash('sha256').update(id(cookie)).digest('base64url')
      assert.ok(await store.get(key), 'the record is under the hash of its id')
      assert.equal(await store.get(id(cookie)), null, 'and not under the id')
    }
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 0, max: 7 }), { maxLength: 30 }),
        async (order) => {
          for (const n of order) {
            const req = {}
            sessions.attach(req, cookies[n], transport)
            const session = await sessions.getSession(req)
            assert.equal(session.isNew, false)
            assert.equal(session.get('n'), n)
          }
        },
      ),
      { numRuns: 50 },
    )
  })

  it('remembers the hashes of ids it served without mixing them up (idCacheSize)', async () => {
    for (const idCacheSize of [1, 2, 3]) {
      const store = createMemoryStore()
      const sessions = createSessions<{ n: number }>({
        storage: createServerStorage({ store, idCacheSize }),
      })
      const cookies = await startCounterSessions(sessions, 5)
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 4 }), fc.boolean()), { maxLength: 30 }),
          async (steps) => {
            for (const [n, regenerate] of steps) {
              const req = {}
              const rs = sessions.attach(req, cookies[n], transport)
              const session = await sessions.getSession(req)
              assert.equal(session.isNew, false)
              assert.equal(session.get('n'), n)
              if (regenerate) {
                session.regenerate()
                const set = (await rs.commit())[0] as string
                cookies[n] = set.split(';')[0] as string
                const id = (cookies[n] as string).split('=')[1] as string
                const key = createHash('sha256').update(id).digest('base64url')
                assert.ok(await store.get(key), 'the new id is stored under its own hash')
              }
            }
          },
        ),
        { numRuns: 30 },
      )
    }
  })

  it('gives a fresh session for a remembered id whose record is gone', async () => {
    const store = createMemoryStore()
    const sessions = createSessions<{ n: number }>({ storage: createServerStorage({ store }) })
    const cookie = (await startCounterSessions(sessions, 2))[1] as string
    for (let i = 0; i < 2; i++) {
      const again = {}
      sessions.attach(again, cookie, transport)
      assert.equal((await sessions.getSession(again)).get('n'), 1, 'read twice: remembered')
    }
    const out = {}
    const outRs = sessions.attach(out, cookie, transport)
    ;(await sessions.getSession(out)).invalidate()
    await outRs.commit()
    const after = {}
    sessions.attach(after, cookie, transport)
    const session = await sessions.getSession(after)
    assert.equal(session.isNew, true)
    assert.equal(session.get('n'), undefined)
  })

  it('refuses an idCacheSize that is not an integer from 0 to 1,048,576', () => {
    for (const idCacheSize of [-1, 1.5, 1_048_577, Number.NaN]) {
      assert.throws(
        () => createServerStorage({ store: createMemoryStore(), idCacheSize }),
        SessionConfigError,
      )
    }
    createServerStorage({ store: createMemoryStore(), idCacheSize: 0 })
    createServerStorage({ store: createMemoryStore(), idCacheSize: 0, hashIds: false })
  })
})
