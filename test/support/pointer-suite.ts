/**
 * The forwarding-pointer scenarios of the store conformance suite: records with `movedTo`, as a
 * renewal leaves them, read back, never patched or extended, gone once their time has passed, and
 * out of their former subject's index.
 *
 * Not part of the package; used by `store-suite.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import type { SessionRecord, SessionStore } from '../../src/core/types.ts'
import {
  assertSameRecord,
  HOUR,
  MINUTE,
  mustCreate,
  newId,
  newRecord,
  touchPatch,
} from './store-helpers.ts'
import type { Scenario } from './store-suite.ts'

/** Forwarding pointers: records with `movedTo`, written by create or replace, never patched. */
export function pointerScenarios(scenario: Scenario): void {
  /** A live record turned into a pointer to a new id by replace, as a renewal does. */
  const movedRecord = async (store: SessionStore, expiresAt = Date.now() + MINUTE) => {
    const created = newRecord({ subject: `user-${randomUUID()}` })
    await mustCreate(store, created)
    const pointer: SessionRecord = {
      ...created,
      fields: {},
      subject: undefined,
      movedTo: newId(),
      expiresAt,
    }
    assert.deepEqual(await store.replace(pointer, 1), { ok: true, version: 2 })
    return { created, pointer: { ...pointer, version: 2 } }
  }

  scenario('get returns a forwarding pointer with its movedTo', async ({ store }) => {
    const { pointer } = await movedRecord(store)
    const stored = await store.get(pointer.id)
    assertSameRecord(stored, pointer)
    assert.equal(stored?.movedTo, pointer.movedTo)
  })

  scenario('creates a forwarding pointer directly', async ({ store }) => {
    const pointer = newRecord({ fields: {}, movedTo: newId() })
    await mustCreate(store, pointer)
    assertSameRecord(await store.get(pointer.id), pointer)
  })

  scenario('a patch of a pointer answers moved and writes nothing', async ({ store }) => {
    const { pointer } = await movedRecord(store)
    const patch = touchPatch({
      set: { 'd:late': 'true' },
      unset: ['m'],
      clearPrefix: 'f:',
      subject: `user-${randomUUID()}`,
    })
    assert.deepEqual(await store.patch(pointer.id, patch), {
      ok: false,
      reason: 'moved',
      movedTo: pointer.movedTo,
    })
    assertSameRecord(await store.get(pointer.id), pointer)
    if (store.capabilities.subjectIndex && store.listBySubject && patch.subject) {
      assert.deepEqual(await store.listBySubject(patch.subject), [])
    }
  })

  scenario('a patch never extends the life of a pointer', async ({ store, advance }, t) => {
    if (!advance) return t.skip('fixture cannot advance time')
    const { pointer } = await movedRecord(store, Date.now() + 1000)
    const result = await store.patch(pointer.id, touchPatch({ expiresAt: Date.now() + HOUR }))
    assert.equal(result.ok, false)
    assert.equal((await store.get(pointer.id))?.expiresAt, pointer.expiresAt)
    await advance(1500)
    assert.equal(await store.get(pointer.id), null, 'the pointer outlived its grace')
    assert.deepEqual(await store.patch(pointer.id, touchPatch()), { ok: false, reason: 'gone' })
  })

  scenario('a pointer whose time has passed is gone', async ({ store }) => {
    const pointer = newRecord({ fields: {}, movedTo: newId(), expiresAt: Date.now() - 1 })
    await store.create(pointer)
    assert.equal(await store.get(pointer.id), null)
    assert.deepEqual(await store.patch(pointer.id, touchPatch()), { ok: false, reason: 'gone' })
  })

  scenario('a pointer leaves its former subject index', async ({ store }, t) => {
    if (!store.capabilities.subjectIndex || !store.listBySubject) {
      return t.skip('store has no subject index')
    }
    const { created } = await movedRecord(store)
    assert.deepEqual(await store.listBySubject(created.subject as string), [])
  })
}
