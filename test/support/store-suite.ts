/**
 * The store conformance suite (store contract v2): every `SessionStore` runs these scenarios
 * against its real backend. It depends only on the contract (`src/core/types.ts`) and reads
 * `store.capabilities` to decide which scenarios apply; the others are skipped with a reason.
 * Whole-record operations, expiry and prune are here; forwarding pointers are in `pointer-suite.ts`,
 * the subject index in `subject-suite.ts`, and the field-level patch, its hostile inputs,
 * concurrency and the property test in `patch-suite.ts`.
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
} from '../../src/core/types.ts'
import { patchScenarios } from './patch-suite.ts'
import { pointerScenarios } from './pointer-suite.ts'
import {
  assertConflict,
  assertSameRecord,
  fieldEntries,
  HOUR,
  MINUTE,
  mustCreate,
  newId,
  newRecord,
  touchPatch,
} from './store-helpers.ts'
import { subjectScenarios } from './subject-suite.ts'

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
   * Without it, the scenarios that need time to pass are skipped. The move must not outlive the
   * test: a setup that shares one store between tests resets its clock offset to 0, since every
   * scenario builds its deadlines from `Date.now()`.
   */
  advance?: (ms: number) => void | Promise<void>
}

/** Declares one scenario: a test that runs the fixture's setup, then `body` unless it skipped. */
export type Scenario = (
  title: string,
  body: (fixture: StoreFixture, t: TestContext) => Promise<void>,
) => void

/** Field names and texts that survive only a store that keeps every code point (no NUL). */
export const UNICODE_FIELDS: Readonly<Record<string, string>> = {
  'd:name': '"Zoë Ångström"',
  'd:日本語': '"日本語のテキスト"',
  'd:שלום': '"שלום עולם"',
  'd:🎉👩‍👩‍👧‍👦': '"🎉👩‍👩‍👧‍👦🏳️‍🌈"',
  'd:e\u0301a\u0308': '"e\u0301a\u0308"',
  'd:𝔘𝔫𝔦': '"𝔘𝔫𝔦𝔠𝔬𝔡𝔢 \u{10FFFD}"',
  'd:quotes\'"\\': '"\'\\"\\\\"',
  'd:ws\t\n': '"\\t\\n\r\n"',
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * Declares `describe(name)` with the store conformance scenarios. `setup` runs once per test; it
 * may register cleanup with `t.after()`, and when the backend is unavailable it calls
 * `t.skip(reason)` and returns null, which ends the test.
 */
export function runStoreSuite(
  name: string,
  setup: (t: TestContext) => Promise<StoreFixture | null>,
): void {
  const scenario: Scenario = (title, body) => {
    it(title, async (t) => {
      const fixture = await setup(t)
      if (fixture !== null) await body(fixture, t)
    })
  }
  describe(name, () => {
    recordScenarios(scenario)
    pointerScenarios(scenario)
    patchScenarios(scenario)
    subjectScenarios(scenario)
  })
}

function recordScenarios(scenario: Scenario): void {
  scenario('implements store contract version 2', async ({ store }) => {
    assert.equal(store.contractVersion, 2)
    assert.equal(store.contractVersion, STORE_CONTRACT_VERSION)
  })

  scenario('declares its capabilities', async ({ store }) => {
    assert.ok(['server', 'compare-and-set'].includes(store.capabilities.patch))
    assert.equal(typeof store.capabilities.ttl, 'boolean')
    assert.equal(typeof store.capabilities.subjectIndex, 'boolean')
    assert.equal(typeof store.patch, 'function')
    assert.equal(typeof store.replace, 'function')
    if (store.capabilities.subjectIndex) {
      assert.equal(typeof store.listBySubject, 'function')
      assert.equal(typeof store.deleteBySubject, 'function')
      assert.equal(typeof store.deleteIfSubject, 'function')
    }
  })

  scenario('returns null for an id it never stored', async ({ store }) => {
    assert.equal(await store.get(newId()), null)
  })

  scenario('creates a record and returns an equal one, version 1', async ({ store }) => {
    const created = newRecord({ subject: `user-${randomUUID()}` })
    assert.deepEqual(await store.create(created), { ok: true, version: 1 })
    assertSameRecord(await store.get(created.id), created)
  })

  scenario('creates a record without a subject and with no fields', async ({ store }) => {
    const created = newRecord({ fields: {} })
    await mustCreate(store, created)
    const stored = await store.get(created.id)
    assertSameRecord(stored, created)
    assert.equal(stored?.subject, undefined)
    assert.equal(stored?.movedTo, undefined)
  })

  scenario('stores version 1 whatever version the created record carries', async ({ store }) => {
    const created = newRecord({ version: 7 })
    assert.deepEqual(await store.create(created), { ok: true, version: 1 })
    assert.equal((await store.get(created.id))?.version, 1)
  })

  scenario('refuses to create an id that exists and leaves it untouched', async ({ store }) => {
    const original = newRecord({ fields: { 'd:who': '"first"' } })
    await mustCreate(store, original)
    const intruder = newRecord({ id: original.id, fields: { 'd:x': '1' }, subject: 'mallory' })
    assert.deepEqual(await store.create(intruder), { ok: false, reason: 'exists' })
    assertSameRecord(await store.get(original.id), original)
  })

  scenario('creates over a record that has expired', async ({ store }) => {
    const expired = newRecord({ expiresAt: Date.now() - MINUTE, fields: { 'd:old': 'true' } })
    await store.create(expired)
    const fresh = newRecord({ id: expired.id, fields: { 'd:new': 'true' } })
    assert.deepEqual(await store.create(fresh), { ok: true, version: 1 })
    assertSameRecord(await store.get(fresh.id), fresh)
  })

  scenario('replaces the whole record with the current version', async ({ store }) => {
    const created = newRecord({ subject: `user-${randomUUID()}` })
    await mustCreate(store, created)
    const now = Date.now()
    const next: SessionRecord = {
      ...created,
      fields: { 'd:step': '2' },
      createdAt: now - 5,
      lastActiveAt: now + 1000,
      expiresAt: now + 2 * HOUR,
      subject: undefined,
    }
    assert.deepEqual(await store.replace(next, 1), { ok: true, version: 2 })
    assertSameRecord(await store.get(created.id), { ...next, version: 2 })
    const third = { ...next, fields: { 'd:step': '3', 'd:more': '[]' } }
    assert.deepEqual(await store.replace(third, 2), { ok: true, version: 3 })
    assertSameRecord(await store.get(created.id), { ...third, version: 3 })
  })

  scenario('replace stores expectedVersion + 1 whatever version it carries', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    assert.deepEqual(await store.replace({ ...created, version: 42 }, 1), { ok: true, version: 2 })
    assert.equal((await store.get(created.id))?.version, 2)
  })

  scenario('replace with a stale version returns the current record', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    const winner = { ...created, fields: { 'd:winner': 'true' } }
    assert.deepEqual(await store.replace(winner, 1), { ok: true, version: 2 })
    const stale = await store.replace({ ...created, fields: { 'd:loser': 'true' } }, 1)
    assertConflict(stale)
    assertSameRecord(stale.current, { ...winner, version: 2 })
    assertSameRecord(await store.get(created.id), { ...winner, version: 2 })
  })

  scenario('replace sees the version a patch bumped', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    assert.deepEqual(await store.patch(created.id, touchPatch()), { ok: true, version: 2 })
    assertConflict(await store.replace(created, 1))
    assert.deepEqual(await store.replace(created, 2), { ok: true, version: 3 })
  })

  scenario(
    'replace of a deleted, absent or expired record is a conflict with current null',
    async ({ store }) => {
      const deleted = newRecord()
      await mustCreate(store, deleted)
      await store.delete(deleted.id)
      const expired = newRecord({ expiresAt: Date.now() - MINUTE })
      await store.create(expired)
      const never = newRecord()
      for (const target of [deleted, expired, never]) {
        const result = await store.replace({ ...target, expiresAt: Date.now() + HOUR }, 1)
        assertConflict(result)
        assert.equal(result.current, null)
        assert.equal(await store.get(target.id), null, 'replace must not create a record')
      }
    },
  )

  scenario('deletes idempotently and lets the id be created again', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    await store.delete(created.id)
    assert.equal(await store.get(created.id), null)
    await store.delete(created.id)
    await store.delete(newId())
    const again = newRecord({ id: created.id, fields: { 'd:again': 'true' } })
    assert.deepEqual(await store.create(again), { ok: true, version: 1 })
    assertSameRecord(await store.get(created.id), again)
  })

  scenario('does not return a record whose expiresAt has passed', async ({ store }) => {
    const expired = newRecord({ expiresAt: Date.now() - MINUTE })
    assert.deepEqual(await store.create(expired), { ok: true, version: 1 })
    assert.equal(await store.get(expired.id), null)
  })

  scenario('expires a record once time passes its expiresAt', async ({ store, advance }, t) => {
    if (!advance) return t.skip('fixture cannot advance time')
    const created = newRecord({ expiresAt: Date.now() + 1000 })
    await mustCreate(store, created)
    assertSameRecord(await store.get(created.id), created)
    await advance(1500)
    assert.equal(await store.get(created.id), null)
    assertConflict(await store.replace(created, 1))
    assert.deepEqual(await store.patch(created.id, touchPatch()), { ok: false, reason: 'gone' })
    assert.deepEqual(await store.create(newRecord({ id: created.id })), { ok: true, version: 1 })
  })

  scenario('lets exactly one of 50 concurrent replaces of one version win', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.replace({ ...created, fields: { 'd:w': String(i) } }, 1),
      ),
    )
    const winners = results.flatMap((result, i) => (result.ok ? [i] : []))
    assert.equal(winners.length, 1, `expected one winner, got ${winners.length}`)
    for (const result of results) {
      if (result.ok) assert.deepEqual(result, { ok: true, version: 2 })
      else {
        assertConflict(result)
        assert.equal(result.current?.version, 2)
      }
    }
    const stored = await store.get(created.id)
    assert.equal(stored?.version, 2)
    assert.deepEqual(fieldEntries(stored?.fields), [['d:w', String(winners[0])]])
  })

  scenario('lets exactly one of 50 concurrent creates of one id win', async ({ store }) => {
    const id = newId()
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        store.create(newRecord({ id, fields: { 'd:c': String(i) } })),
      ),
    )
    const winners = results.flatMap((result, i) => (result.ok ? [i] : []))
    assert.equal(winners.length, 1, `expected one winner, got ${winners.length}`)
    for (const result of results) {
      if (!result.ok) assert.deepEqual(result, { ok: false, reason: 'exists' })
    }
    assert.deepEqual(fieldEntries((await store.get(id))?.fields), [['d:c', String(winners[0])]])
  })

  scenario(
    'is not changed by mutating a record passed to it or returned by it',
    async ({ store }) => {
      const created = newRecord({ subject: `user-${randomUUID()}` })
      const fields: Record<string, string> = { ...created.fields }
      const passed: Mutable<SessionRecord> = { ...created, fields }
      await mustCreate(store, passed)
      fields['d:n'] = '"mutated"'
      fields['d:added'] = '1'
      passed.version = 99
      const returned = (await store.get(created.id)) as Mutable<SessionRecord> | null
      assert.ok(returned)
      ;(returned.fields as Record<string, string>)['d:n'] = '"mutated too"'
      returned.expiresAt = 0
      returned.subject = 'someone-else'
      assertSameRecord(await store.get(created.id), created)
    },
  )

  scenario('round-trips unicode field names, texts and subjects exactly', async ({ store }) => {
    const created = newRecord({ fields: UNICODE_FIELDS, subject: `ユーザー-🎉-${randomUUID()}` })
    await mustCreate(store, created)
    const stored = await store.get(created.id)
    assertSameRecord(stored, created)
    assert.equal(stored?.subject, created.subject)
  })

  scenario(
    'reads escaped field names exactly after records with look-alike names',
    async ({ store }) => {
      // V8's JSON.parse (Node 24, Deno) can give `d:x"` as `d:x\` once it has seen the latter.
      const pairs = [
        ['d:x\\', 'd:x"'],
        ['d:caf\\', 'd:café'],
        ['d:\\', 'd:\n'],
      ] as const
      for (const [earlier, later] of pairs) {
        const first = newRecord({ fields: { 'd:a': '1', [earlier]: '1' } })
        const second = newRecord({ fields: { 'd:a': '1', [later]: '2' } })
        await mustCreate(store, first)
        await mustCreate(store, second)
        // Sorted: a store may keep fields in its own order (PostgreSQL's jsonb does).
        const names = async (id: string) => Object.keys((await store.get(id))?.fields ?? {}).sort()
        assert.deepEqual(await names(first.id), ['d:a', earlier].sort())
        assert.deepEqual(await names(second.id), ['d:a', later].sort())
      }
    },
  )

  scenario('prunes expired records and keeps live ones', async ({ store }, t) => {
    if (!store.prune) return t.skip('store has no prune()')
    const now = Date.now()
    const expired = [
      newRecord({ expiresAt: now - MINUTE }),
      newRecord({ expiresAt: now - HOUR, subject: `user-${randomUUID()}` }),
      newRecord({ expiresAt: now - MINUTE, fields: {}, movedTo: newId() }),
    ]
    const live = newRecord({ expiresAt: now + HOUR })
    for (const stored of expired) await store.create(stored)
    await mustCreate(store, live)
    // A shared store may hold other tests' expired records too.
    assert.ok((await store.prune(now)) >= expired.length)
    assertSameRecord(await store.get(live.id), live)
    for (const stored of expired) assert.equal(await store.get(stored.id), null)
  })
}
