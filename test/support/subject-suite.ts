/**
 * The subject-index scenarios of the store conformance suite: `listBySubject`, `deleteBySubject`,
 * `deleteIfSubject`, and the index following every write (create, replace, patch, delete).
 * Skipped for a store without `capabilities.subjectIndex`.
 *
 * Not part of the package; used by `store-suite.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { SessionStore } from '../../src/core/types.ts'
import {
  assertSameRecord,
  MINUTE,
  mustCreate,
  mustPatch,
  newId,
  newRecord,
  touchPatch,
} from './store-helpers.ts'
import type { Scenario, StoreFixture } from './store-suite.ts'

/** A store whose subject-index methods are all present. */
type IndexedStore = SessionStore &
  Required<Pick<SessionStore, 'listBySubject' | 'deleteBySubject' | 'deleteIfSubject'>>

function indexed(store: SessionStore): IndexedStore | null {
  if (!store.capabilities.subjectIndex) return null
  if (!store.listBySubject || !store.deleteBySubject || !store.deleteIfSubject) return null
  return store as IndexedStore
}

const listed = async (store: IndexedStore, subject: string): Promise<string[]> =>
  (await store.listBySubject(subject)).map((r) => r.id)

export function subjectScenarios(scenario: Scenario): void {
  /** A scenario that only runs on a store with a subject index. */
  const withIndex = (
    title: string,
    body: (store: IndexedStore, f: StoreFixture) => Promise<void>,
  ) =>
    scenario(title, async (fixture, t) => {
      const store = indexed(fixture.store)
      if (store === null) return t.skip('store has no subject index')
      await body(store, fixture)
    })

  withIndex(
    'lists only the unexpired sessions of a subject, newest activity first',
    async (store) => {
      const subject = `user-${randomUUID()}`
      const now = Date.now()
      const oldest = newRecord({ subject, lastActiveAt: now - 3000 })
      const newest = newRecord({ subject, lastActiveAt: now - 1000 })
      const middle = newRecord({ subject, lastActiveAt: now - 2000 })
      const expired = newRecord({ subject, lastActiveAt: now, expiresAt: now - MINUTE })
      for (const stored of [oldest, newest, middle, newRecord({ subject: 'x' }), newRecord()]) {
        await mustCreate(store, stored)
      }
      await store.create(expired)
      assert.deepEqual(await listed(store, subject), [newest.id, middle.id, oldest.id])
      assertSameRecord((await store.listBySubject(subject))[0] ?? null, newest)
      assert.deepEqual(await store.listBySubject(`user-${randomUUID()}`), [])
    },
  )

  withIndex('deletes all sessions of a subject and returns the count', async (store) => {
    const subject = `user-${randomUUID()}`
    const mine = [newRecord({ subject }), newRecord({ subject }), newRecord({ subject })]
    const other = newRecord({ subject: `user-${randomUUID()}` })
    for (const stored of [...mine, other]) await mustCreate(store, stored)
    assert.equal(await store.deleteBySubject(subject), 3)
    for (const stored of mine) assert.equal(await store.get(stored.id), null)
    assert.deepEqual(await store.listBySubject(subject), [])
    assertSameRecord(await store.get(other.id), other)
    assert.equal(await store.deleteBySubject(subject), 0)
    assert.equal(await store.deleteBySubject(`user-${randomUUID()}`), 0)
  })

  withIndex('deletes all sessions of a subject except one', async (store) => {
    const subject = `user-${randomUUID()}`
    const [first, current, third] = [
      newRecord({ subject }),
      newRecord({ subject }),
      newRecord({ subject }),
    ]
    for (const stored of [first, current, third]) await mustCreate(store, stored)
    assert.equal(await store.deleteBySubject(subject, { exceptId: current.id }), 2)
    assert.equal(await store.get(first.id), null)
    assert.equal(await store.get(third.id), null)
    assertSameRecord(await store.get(current.id), current)
    assert.deepEqual(await listed(store, subject), [current.id])
  })

  withIndex('deleteIfSubject deletes only a live record of that subject', async (store) => {
    const subject = `user-${randomUUID()}`
    const mine = newRecord({ subject })
    const theirs = newRecord({ subject: `user-${randomUUID()}` })
    const anonymous = newRecord()
    const expired = newRecord({ subject, expiresAt: Date.now() - MINUTE })
    for (const stored of [mine, theirs, anonymous]) await mustCreate(store, stored)
    await store.create(expired)
    assert.equal(await store.deleteIfSubject(theirs.id, subject), false)
    assert.equal(await store.deleteIfSubject(anonymous.id, subject), false)
    assert.equal(await store.deleteIfSubject(expired.id, subject), false)
    assert.equal(await store.deleteIfSubject(newId(), subject), false)
    assertSameRecord(await store.get(theirs.id), theirs)
    assertSameRecord(await store.get(anonymous.id), anonymous)
    assert.equal(await store.deleteIfSubject(mine.id, subject), true)
    assert.equal(await store.get(mine.id), null)
    assert.deepEqual(await store.listBySubject(subject), [])
    assert.equal(await store.deleteIfSubject(mine.id, subject), false)
  })

  withIndex('deleteIfSubject sees the subject a patch just wrote', async (store) => {
    const alice = `alice-${randomUUID()}`
    const bob = `bob-${randomUUID()}`
    const created = newRecord({ subject: alice })
    await mustCreate(store, created)
    await mustPatch(store, created.id, touchPatch({ subject: bob }), 2)
    assert.equal(await store.deleteIfSubject(created.id, alice), false)
    assert.equal(await store.deleteIfSubject(created.id, bob), true)
    assert.equal(await store.get(created.id), null)
  })

  withIndex('moves a record between subjects when replace changes its subject', async (store) => {
    const alice = `alice-${randomUUID()}`
    const bob = `bob-${randomUUID()}`
    const created = newRecord({ subject: alice })
    await mustCreate(store, created)
    assert.deepEqual(await store.replace({ ...created, subject: bob }, 1), { ok: true, version: 2 })
    assert.deepEqual(await store.listBySubject(alice), [])
    assert.deepEqual(await listed(store, bob), [created.id])
    const { subject: _dropped, ...anonymous } = created
    assert.deepEqual(await store.replace(anonymous, 2), { ok: true, version: 3 })
    assert.deepEqual(await store.listBySubject(bob), [])
    assert.equal((await store.get(created.id))?.subject, undefined)
  })

  withIndex('a patch sets, keeps or removes the subject and the index follows', async (store) => {
    const alice = `alice-${randomUUID()}`
    const bob = `bob-${randomUUID()}`
    const created = newRecord()
    await mustCreate(store, created)
    await mustPatch(store, created.id, touchPatch({ subject: alice }), 2)
    assert.equal((await store.get(created.id))?.subject, alice)
    assert.deepEqual(await listed(store, alice), [created.id])
    // undefined and an absent subject leave it as stored.
    await mustPatch(store, created.id, touchPatch({ subject: undefined, set: { 'd:a': '1' } }), 3)
    await mustPatch(store, created.id, touchPatch(), 4)
    assert.equal((await store.get(created.id))?.subject, alice)
    assert.deepEqual(await listed(store, alice), [created.id])
    await mustPatch(store, created.id, touchPatch({ subject: bob }), 5)
    assert.deepEqual(await store.listBySubject(alice), [])
    assert.deepEqual(await listed(store, bob), [created.id])
    await mustPatch(store, created.id, touchPatch({ subject: null }), 6)
    const stored = await store.get(created.id)
    assert.equal(stored?.subject, undefined)
    assert.deepEqual(await store.listBySubject(bob), [])
    assert.deepEqual(stored?.fields['d:a'], '1')
  })

  withIndex('lists a record with the times and fields its last patch wrote', async (store) => {
    const subject = `user-${randomUUID()}`
    const older = newRecord({ subject, lastActiveAt: Date.now() - 5000 })
    const newer = newRecord({ subject, lastActiveAt: Date.now() - 1000 })
    await mustCreate(store, older)
    await mustCreate(store, newer)
    const patch = touchPatch({ set: { 'd:seen': 'true' } })
    await mustPatch(store, older.id, patch, 2)
    const [first] = await store.listBySubject(subject)
    assert.equal(first?.id, older.id)
    assert.equal(first?.lastActiveAt, patch.lastActiveAt)
    assert.equal(first?.fields['d:seen'], 'true')
  })

  withIndex('drops a deleted record from its subject list', async (store) => {
    const subject = `user-${randomUUID()}`
    const kept = newRecord({ subject })
    const gone = newRecord({ subject })
    await mustCreate(store, kept)
    await mustCreate(store, gone)
    await store.delete(gone.id)
    assert.deepEqual(await listed(store, subject), [kept.id])
    // The same id created again for someone else is not listed under the old subject.
    await mustCreate(store, newRecord({ id: gone.id, subject: `other-${randomUUID()}` }))
    assert.deepEqual(await listed(store, subject), [kept.id])
  })
}
