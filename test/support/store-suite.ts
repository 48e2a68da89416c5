/**
 * The store conformance suite: every `SessionStore` runs these scenarios against its real backend.
 * It depends only on the store contract (`src/core/types.ts`) and reads `store.capabilities` to
 * decide which scenarios apply; the others are skipped with a reason.
 *
 * Not part of the package; used by `test/stores/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import { describe, it } from 'node:test'
import {
  type SessionRecord,
  type SessionStore,
  STORE_CONTRACT_VERSION,
  type WriteResult,
} from '../../src/core/types.ts'

/** What a test file's setup gives the suite for one test. */
export interface StoreFixture {
  /**
   * The store under test. The suite uses fresh random ids and subjects in every test, so one store
   * may be shared by all tests. The store's clock must not run behind `Date.now()`: the suite
   * builds live and expired records from wall-clock time.
   */
  store: SessionStore
  /**
   * Moves the store's clock forward by `ms` milliseconds (or waits that long for a real server).
   * Without it, the scenarios that need time to pass are skipped.
   */
  advance?: (ms: number) => void | Promise<void>
}

const MINUTE = 60_000
const HOUR = 60 * MINUTE

/** Text that survives only a store that keeps every code point (no NUL: PostgreSQL rejects it). */
const UNICODE_DATA =
  '{"name":"Zoë Ångström","jp":"日本語のテキスト","he":"שלום עולם","emoji":"🎉👩‍👩‍👧‍👦🏳️‍🌈",' +
  '"combining":"e\u0301a\u0308","astral":"𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10FFFD}","quotes":"\'\\"\\\\","ws":"\\t\\n\r\n"}'

/**
 * Declares `describe(name)` with the store conformance scenarios. `setup` runs once per test; it
 * may register cleanup with `t.after()`, and when the backend is unavailable it calls
 * `t.skip(reason)` and returns null, which ends the test.
 */
export function runStoreSuite(
  name: string,
  setup: (t: TestContext) => Promise<StoreFixture | null>,
): void {
  /** One test: runs `setup`, then the body unless setup skipped the test by returning null. */
  const scenario = (
    title: string,
    body: (fixture: StoreFixture, t: TestContext) => Promise<void>,
  ): void => {
    it(title, async (t) => {
      const fixture = await setup(t)
      if (fixture !== null) await body(fixture, t)
    })
  }

  describe(name, () => {
    scenario('implements store contract version 1', async ({ store }) => {
      assert.equal(store.contractVersion, 1)
      assert.equal(store.contractVersion, STORE_CONTRACT_VERSION)
    })

    scenario('declares its capabilities as booleans', async ({ store }) => {
      assert.equal(typeof store.capabilities.atomic, 'boolean')
      assert.equal(typeof store.capabilities.ttl, 'boolean')
      assert.equal(typeof store.capabilities.subjectIndex, 'boolean')
      if (store.capabilities.subjectIndex) {
        assert.equal(typeof store.listBySubject, 'function')
        assert.equal(typeof store.deleteBySubject, 'function')
      }
    })

    scenario('returns null for an id it never stored', async ({ store }) => {
      assert.equal(await store.get(newId()), null)
    })

    scenario('creates a record and returns an equal one, version 1', async ({ store }) => {
      const record = newRecord({ subject: `user-${randomUUID()}` })
      assert.deepEqual(await store.create(record), { ok: true, version: 1 })
      assertSameRecord(await store.get(record.id), record)
    })

    scenario('creates a record without a subject', async ({ store }) => {
      const record = newRecord()
      assert.deepEqual(await store.create(record), { ok: true, version: 1 })
      const stored = await store.get(record.id)
      assertSameRecord(stored, record)
      assert.equal(stored?.subject, undefined)
    })

    scenario(
      'refuses to create an id that exists and leaves the original untouched',
      async ({ store }) => {
        const original = newRecord({ data: '{"who":"first"}' })
        await mustCreate(store, original)
        const intruder = newRecord({
          id: original.id,
          data: '{"who":"second"}',
          subject: 'mallory',
        })
        assert.deepEqual(await store.create(intruder), { ok: false, reason: 'exists' })
        assertSameRecord(await store.get(original.id), original)
      },
    )

    scenario('creates over a record that has expired', async ({ store }) => {
      const expired = newRecord({ expiresAt: Date.now() - MINUTE, data: '{"old":true}' })
      await store.create(expired)
      const fresh = newRecord({ id: expired.id, data: '{"new":true}' })
      assert.deepEqual(await store.create(fresh), { ok: true, version: 1 })
      assertSameRecord(await store.get(fresh.id), fresh)
    })

    scenario('updates with the current version and bumps the version', async ({ store }) => {
      const record = newRecord()
      await mustCreate(store, record)
      const next = { ...record, data: '{"step":2}', lastActiveAt: record.lastActiveAt + 1000 }
      assert.deepEqual(await store.update(next, 1), { ok: true, version: 2 })
      assertSameRecord(await store.get(record.id), { ...next, version: 2 })
      const third = { ...next, data: '{"step":3}' }
      assert.deepEqual(await store.update(third, 2), { ok: true, version: 3 })
      assertSameRecord(await store.get(record.id), { ...third, version: 3 })
    })

    scenario(
      'stores version expectedVersion + 1 whatever version the record carries',
      async ({ store }) => {
        const record = newRecord()
        await mustCreate(store, record)
        const next = { ...record, version: 42, data: '{"v":"ignored"}' }
        assert.deepEqual(await store.update(next, 1), { ok: true, version: 2 })
        assert.equal((await store.get(record.id))?.version, 2)
      },
    )

    scenario(
      'rejects an update with a stale version and returns the current record',
      async ({ store }, t) => {
        if (!store.capabilities.atomic) return t.skip('store is not atomic (no compare-and-set)')
        const record = newRecord()
        await mustCreate(store, record)
        const winner = { ...record, data: '{"winner":true}' }
        assert.deepEqual(await store.update(winner, 1), { ok: true, version: 2 })
        const stale = await store.update({ ...record, data: '{"loser":true}' }, 1)
        assertConflict(stale)
        assertSameRecord(stale.current, { ...winner, version: 2 })
        assertSameRecord(await store.get(record.id), { ...winner, version: 2 })
      },
    )

    scenario(
      'rejects an update of a deleted record with current null and does not recreate it',
      async ({ store }) => {
        const record = newRecord()
        await mustCreate(store, record)
        await store.delete(record.id)
        const result = await store.update({ ...record, data: '{"zombie":true}' }, 1)
        assertConflict(result)
        assert.equal(result.current, null)
        assert.equal(await store.get(record.id), null)
      },
    )

    scenario('rejects an update of an id never created with current null', async ({ store }) => {
      const record = newRecord()
      const result = await store.update(record, 1)
      assertConflict(result)
      assert.equal(result.current, null)
      assert.equal(await store.get(record.id), null)
    })

    scenario(
      'touch changes lastActiveAt and expiresAt but not data or version',
      async ({ store }) => {
        const record = newRecord({ subject: `user-${randomUUID()}` })
        await mustCreate(store, record)
        const lastActiveAt = record.lastActiveAt + 5000
        const expiresAt = record.expiresAt + HOUR
        await store.touch(record.id, lastActiveAt, expiresAt)
        assertSameRecord(await store.get(record.id), { ...record, lastActiveAt, expiresAt })
        // The version is unchanged, so a writer that loaded version 1 still wins.
        assert.deepEqual(await store.update({ ...record, data: '{"after":"touch"}' }, 1), {
          ok: true,
          version: 2,
        })
      },
    )

    scenario('touch of an absent id is a no-op and does not create it', async ({ store }) => {
      const id = newId()
      const now = Date.now()
      await store.touch(id, now, now + HOUR)
      assert.equal(await store.get(id), null)
      assert.deepEqual(await store.create(newRecord({ id })), { ok: true, version: 1 })
    })

    scenario('deletes idempotently', async ({ store }) => {
      const record = newRecord()
      await mustCreate(store, record)
      await store.delete(record.id)
      assert.equal(await store.get(record.id), null)
      await store.delete(record.id)
      await store.delete(newId())
      assert.equal(await store.get(record.id), null)
    })

    scenario('lets an id be created again after delete', async ({ store }) => {
      const record = newRecord()
      await mustCreate(store, record)
      await store.delete(record.id)
      const again = newRecord({ id: record.id, data: '{"again":true}' })
      assert.deepEqual(await store.create(again), { ok: true, version: 1 })
      assertSameRecord(await store.get(record.id), again)
    })

    scenario('does not return a record whose expiresAt has passed', async ({ store }) => {
      const record = newRecord({ expiresAt: Date.now() - MINUTE })
      assert.deepEqual(await store.create(record), { ok: true, version: 1 })
      assert.equal(await store.get(record.id), null)
    })

    scenario('rejects an update of an expired record with current null', async ({ store }) => {
      const record = newRecord({ expiresAt: Date.now() - MINUTE })
      await store.create(record)
      const result = await store.update({ ...record, expiresAt: Date.now() + HOUR }, 1)
      assertConflict(result)
      assert.equal(result.current, null)
      assert.equal(await store.get(record.id), null)
    })

    scenario('touch does not revive an expired record', async ({ store }) => {
      const record = newRecord({ expiresAt: Date.now() - MINUTE })
      await store.create(record)
      await store.touch(record.id, Date.now(), Date.now() + HOUR)
      assert.equal(await store.get(record.id), null)
    })

    scenario('expires a record once time passes its expiresAt', async ({ store, advance }, t) => {
      if (!advance) return t.skip('fixture cannot advance time')
      const record = newRecord({ expiresAt: Date.now() + 1000 })
      await mustCreate(store, record)
      assertSameRecord(await store.get(record.id), record)
      await advance(1500)
      assert.equal(await store.get(record.id), null)
      assertConflict(await store.update(record, 1))
      assert.deepEqual(await store.create(newRecord({ id: record.id })), { ok: true, version: 1 })
    })

    scenario(
      'lets exactly one of 50 concurrent updates from the same version win',
      async ({ store }, t) => {
        if (!store.capabilities.atomic) return t.skip('store is not atomic (no compare-and-set)')
        const record = newRecord()
        await mustCreate(store, record)
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.update({ ...record, data: `{"w":${i}}` }, 1)),
        )
        const winners = results.flatMap((result, i) => (result.ok ? [i] : []))
        assert.equal(winners.length, 1, `expected one winner, got ${winners.length}`)
        assert.deepEqual(results[winners[0] ?? -1], { ok: true, version: 2 })
        for (const result of results) {
          if (result.ok) continue
          assertConflict(result)
          assert.equal(result.current?.version, 2)
        }
        const stored = await store.get(record.id)
        assert.equal(stored?.version, 2)
        assert.equal(stored?.data, `{"w":${winners[0]}}`)
      },
    )

    scenario(
      'lets exactly one of 50 concurrent creates of the same id win',
      async ({ store }, t) => {
        if (!store.capabilities.atomic) return t.skip('store is not atomic (no insert-if-absent)')
        const id = newId()
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) => store.create(newRecord({ id, data: `{"c":${i}}` }))),
        )
        const winners = results.flatMap((result, i) => (result.ok ? [i] : []))
        assert.equal(winners.length, 1, `expected one winner, got ${winners.length}`)
        for (const result of results) {
          if (!result.ok) assert.deepEqual(result, { ok: false, reason: 'exists' })
        }
        assert.equal((await store.get(id))?.data, `{"c":${winners[0]}}`)
      },
    )

    scenario(
      'is not changed by mutating a record passed to it or returned by it',
      async ({ store }) => {
        const record = newRecord({ subject: `user-${randomUUID()}` })
        const passed: Mutable<SessionRecord> = { ...record }
        await mustCreate(store, passed)
        passed.data = '{"mutated":"passed"}'
        passed.version = 99
        const returned = (await store.get(record.id)) as Mutable<SessionRecord> | null
        assert.ok(returned)
        returned.data = '{"mutated":"returned"}'
        returned.expiresAt = 0
        returned.subject = 'someone-else'
        assertSameRecord(await store.get(record.id), record)
      },
    )

    scenario('round-trips 100 KB of data exactly', async ({ store }) => {
      const data = JSON.stringify({ blob: 'x'.repeat(100 * 1024), end: randomUUID() })
      const record = newRecord({ data })
      await mustCreate(store, record)
      assert.equal((await store.get(record.id))?.data, data)
      const next = { ...record, data: `${data} ` }
      assert.deepEqual(await store.update(next, 1), { ok: true, version: 2 })
      assert.equal((await store.get(record.id))?.data, next.data)
    })

    scenario('round-trips unicode data exactly', async ({ store }) => {
      const record = newRecord({ data: UNICODE_DATA, subject: `ユーザー-🎉-${randomUUID()}` })
      await mustCreate(store, record)
      const stored = await store.get(record.id)
      assert.equal(stored?.data, UNICODE_DATA)
      assert.equal(stored?.subject, record.subject)
    })

    scenario(
      'lists only the unexpired sessions of a subject, newest activity first',
      async ({ store }, t) => {
        if (!store.capabilities.subjectIndex || !store.listBySubject) {
          return t.skip('store has no subject index')
        }
        const subject = `user-${randomUUID()}`
        const now = Date.now()
        const oldest = newRecord({ subject, lastActiveAt: now - 3000 })
        const newest = newRecord({ subject, lastActiveAt: now - 1000 })
        const middle = newRecord({ subject, lastActiveAt: now - 2000 })
        const expired = newRecord({ subject, lastActiveAt: now, expiresAt: now - MINUTE })
        const other = newRecord({ subject: `user-${randomUUID()}` })
        const anonymous = newRecord()
        for (const record of [oldest, newest, middle, other, anonymous]) {
          await mustCreate(store, record)
        }
        await store.create(expired)
        const listed = await store.listBySubject(subject)
        assert.deepEqual(
          listed.map((r) => r.id),
          [newest.id, middle.id, oldest.id],
        )
        assertSameRecord(listed[0] ?? null, newest)
        assert.deepEqual(await store.listBySubject(`user-${randomUUID()}`), [])
      },
    )

    scenario('deletes all sessions of a subject and returns the count', async ({ store }, t) => {
      if (!store.capabilities.subjectIndex || !store.deleteBySubject || !store.listBySubject) {
        return t.skip('store has no subject index')
      }
      const subject = `user-${randomUUID()}`
      const mine = [newRecord({ subject }), newRecord({ subject }), newRecord({ subject })]
      const other = newRecord({ subject: `user-${randomUUID()}` })
      for (const record of [...mine, other]) await mustCreate(store, record)
      assert.equal(await store.deleteBySubject(subject), 3)
      for (const record of mine) assert.equal(await store.get(record.id), null)
      assert.deepEqual(await store.listBySubject(subject), [])
      assertSameRecord(await store.get(other.id), other)
      assert.equal(await store.deleteBySubject(subject), 0)
    })

    scenario('deletes all sessions of a subject except one', async ({ store }, t) => {
      if (!store.capabilities.subjectIndex || !store.deleteBySubject || !store.listBySubject) {
        return t.skip('store has no subject index')
      }
      const subject = `user-${randomUUID()}`
      const [first, current, third] = [
        newRecord({ subject }),
        newRecord({ subject }),
        newRecord({ subject }),
      ]
      for (const record of [first, current, third]) await mustCreate(store, record)
      assert.equal(await store.deleteBySubject(subject, { exceptId: current.id }), 2)
      assert.equal(await store.get(first.id), null)
      assert.equal(await store.get(third.id), null)
      assertSameRecord(await store.get(current.id), current)
      assert.deepEqual(
        (await store.listBySubject(subject)).map((r) => r.id),
        [current.id],
      )
    })

    scenario('returns 0 when deleting the sessions of an unknown subject', async ({ store }, t) => {
      if (!store.capabilities.subjectIndex || !store.deleteBySubject) {
        return t.skip('store has no subject index')
      }
      assert.equal(await store.deleteBySubject(`user-${randomUUID()}`), 0)
    })

    scenario(
      'moves a record between subjects when an update changes its subject',
      async ({ store }, t) => {
        if (!store.capabilities.subjectIndex || !store.listBySubject) {
          return t.skip('store has no subject index')
        }
        const alice = `alice-${randomUUID()}`
        const bob = `bob-${randomUUID()}`
        const record = newRecord({ subject: alice })
        await mustCreate(store, record)
        assert.deepEqual(await store.update({ ...record, subject: bob }, 1), {
          ok: true,
          version: 2,
        })
        assert.deepEqual(await store.listBySubject(alice), [])
        assert.deepEqual(
          (await store.listBySubject(bob)).map((r) => r.id),
          [record.id],
        )
        const { subject: _dropped, ...anonymous } = record
        assert.deepEqual(await store.update(anonymous, 2), { ok: true, version: 3 })
        assert.deepEqual(await store.listBySubject(bob), [])
        assert.equal((await store.get(record.id))?.subject, undefined)
      },
    )

    scenario('drops a deleted record from its subject list', async ({ store }, t) => {
      if (!store.capabilities.subjectIndex || !store.listBySubject) {
        return t.skip('store has no subject index')
      }
      const subject = `user-${randomUUID()}`
      const kept = newRecord({ subject })
      const gone = newRecord({ subject })
      await mustCreate(store, kept)
      await mustCreate(store, gone)
      await store.delete(gone.id)
      assert.deepEqual(
        (await store.listBySubject(subject)).map((r) => r.id),
        [kept.id],
      )
      // The same id created again for someone else is not listed under the old subject.
      await mustCreate(store, newRecord({ id: gone.id, subject: `other-${randomUUID()}` }))
      assert.deepEqual(
        (await store.listBySubject(subject)).map((r) => r.id),
        [kept.id],
      )
    })

    scenario('prunes expired records and keeps live ones', async ({ store }, t) => {
      if (!store.prune) return t.skip('store has no prune()')
      const now = Date.now()
      const expired = [
        newRecord({ expiresAt: now - MINUTE }),
        newRecord({ expiresAt: now - HOUR, subject: `user-${randomUUID()}` }),
      ]
      const live = newRecord({ expiresAt: now + HOUR })
      for (const record of expired) await store.create(record)
      await mustCreate(store, live)
      // A shared store may hold other tests' expired records too.
      assert.ok((await store.prune(now)) >= expired.length)
      assertSameRecord(await store.get(live.id), live)
      for (const record of expired) assert.equal(await store.get(record.id), null)
    })
  })
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

function newId(): string {
  return `test-${randomUUID()}`
}

/** A live version-1 record with a fresh random id, valid for an hour from now. */
function newRecord(fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: newId(),
    data: `{"n":"${randomUUID()}"}`,
    version: 1,
    createdAt: now - 10_000,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...fields,
  }
}

async function mustCreate(store: SessionStore, record: SessionRecord): Promise<void> {
  assert.deepEqual(await store.create(record), { ok: true, version: record.version })
}

/** Compares the contract's fields; an absent subject and `subject: undefined` are the same. */
function assertSameRecord(actual: SessionRecord | null, expected: SessionRecord): void {
  assert.ok(actual, `expected record ${expected.id}, got null`)
  assert.deepEqual(contractFields(actual), contractFields(expected))
}

function contractFields(record: SessionRecord): Record<string, unknown> {
  return {
    id: record.id,
    data: record.data,
    version: record.version,
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    subject: record.subject ?? null,
  }
}

function assertConflict(
  result: WriteResult,
): asserts result is Extract<WriteResult, { reason: 'conflict' }> {
  assert.equal(result.ok, false, 'expected a conflict, got ok')
  assert.equal(result.ok === false && result.reason, 'conflict')
}
