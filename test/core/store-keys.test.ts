/**
 * Server storage keeps a session under the SHA-256 of its id (`hashIds`, the default): ids that
 * share their last characters (or anything else) each reach their own record, and no record sits
 * under a raw id.
 */
import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createServerStorage, createSessions } from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

const transport = () => ({ encrypted: false, host: '127.0.0.1' })

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
    const cookies: string[] = []
    for (let n = 0; n < 8; n++) {
      const req = {}
      const rs = sessions.attach(req, undefined, transport)
      ;(await sessions.getSession(req)).set('n', n)
      cookies.push(((await rs.commit())[0] as string).split(';')[0] as string)
    }
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
})
