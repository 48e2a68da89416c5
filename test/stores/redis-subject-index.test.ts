/**
 * The Redis store's subject index, a set at `<prefix>subject:{<subject>}`: kept through every write,
 * cleaned of stale members when read, and never a reason to delete a session that moved on.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { createRedisStore } from '../../src/stores/redis.ts'
import { sharedIoRedis, sharedNodeRedis } from '../support/redis-clients.ts'
import { mustCreate, mustPatch, newRecord, touchPatch } from '../support/store-helpers.ts'

describe('redis store specifics', () => {
  it('indexes a subject and follows it through replace, patch, deleteIfSubject and delete', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'index:' })
    const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((n) => `${n}-${randomUUID()}`) as [
      string,
      string,
      string,
    ]
    const members = (subject: string) => client.sMembers(`index:subject:{${subject}}`)
    const stored = newRecord({ subject: alice })
    await mustCreate(store, stored)
    assert.deepEqual(await members(alice), [stored.id])
    await store.replace({ ...stored, subject: bob }, 1)
    assert.deepEqual(await members(alice), [])
    assert.deepEqual(await members(bob), [stored.id])
    await mustPatch(store, stored.id, touchPatch({ subject: carol }), 3)
    assert.deepEqual(await members(bob), [])
    assert.deepEqual(await members(carol), [stored.id])
    await mustPatch(store, stored.id, touchPatch({ subject: null }), 4)
    assert.deepEqual(await members(carol), [])
    assert.equal((await store.get(stored.id))?.subject, undefined)
    await mustPatch(store, stored.id, touchPatch({ subject: alice }), 5)
    assert.equal(await store.deleteIfSubject(stored.id, bob), false)
    assert.deepEqual(await members(alice), [stored.id])
    assert.equal(await store.deleteIfSubject(stored.id, alice), true)
    assert.deepEqual(await members(alice), [])
    assert.equal(await store.get(stored.id), null)
    const other = newRecord({ subject: bob })
    await mustCreate(store, other)
    await store.delete(other.id)
    assert.deepEqual(await members(bob), [])
  })

  it('drops stale subject members lazily when listing', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'stale:' })
    const subject = `user-${randomUUID()}`
    const kept = newRecord({ subject })
    const gone = newRecord({ subject })
    await mustCreate(store, kept)
    await mustCreate(store, gone)
    await client.del(`stale:{${gone.id}}`) // expired or deleted behind the store's back
    await client.sadd(`stale:subject:{${subject}}`, randomUUID())
    assert.deepEqual(
      (await store.listBySubject(subject)).map((r) => r.id),
      [kept.id],
    )
    assert.deepEqual(await client.smembers(`stale:subject:{${subject}}`), [kept.id])
    assert.equal(await store.deleteBySubject(subject), 1)
    assert.equal(await client.exists(`stale:subject:{${subject}}`), 0)
  })

  it('does not delete a session that moved to another subject', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'moved:' })
    const alice = `alice-${randomUUID()}`
    const moved = newRecord({ subject: `bob-${randomUUID()}` })
    await mustCreate(store, moved)
    await client.sadd(`moved:subject:{${alice}}`, moved.id) // a stale member
    assert.equal(await store.deleteBySubject(alice), 0)
    assert.equal(await store.deleteIfSubject(moved.id, alice), false)
    assert.ok(await store.get(moved.id))
  })
})
