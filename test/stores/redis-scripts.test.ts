/**
 * What the Redis store sends: one HGETALL per read and one EVALSHA per write, counted by the
 * server; and its scripts loaded again after the server forgot them.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { createRedisStore } from '../../src/stores/redis.ts'
import { commandsDuring, nodeRedis, sharedNodeRedis } from '../support/redis-clients.ts'
import { startRedis } from '../support/redis-server.ts'
import { mustCreate, mustPatch, newRecord, touchPatch } from '../support/store-helpers.ts'

describe('redis store specifics', () => {
  it('reads with one HGETALL, and writes each operation with one EVALSHA', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client)
    // Load every script into the server's cache first.
    const warm = newRecord()
    await store.create(warm)
    await store.replace(warm, 1)
    await store.patch(warm.id, touchPatch())
    await store.delete(warm.id)
    const stored = newRecord({ fields: { 'd:n': '1', 'f:a': '1', m: '1800' } })
    assert.deepEqual(await commandsDuring(client, () => store.create(stored)), {
      evalsha: 1,
      exists: 1,
      hset: 2,
      pexpire: 1,
    })
    assert.deepEqual(await commandsDuring(client, () => store.get(stored.id)), { hgetall: 1 })
    const patch = touchPatch({ set: { 'd:n': '2' }, unset: ['m'], clearPrefix: 'f:' })
    assert.deepEqual(await commandsDuring(client, () => store.patch(stored.id, patch)), {
      evalsha: 1,
      hmget: 1,
      hkeys: 1,
      hdel: 2,
      hset: 1,
      hincrby: 1,
      pexpire: 1,
    })
    // A touch (an empty patch): the version, the times and the TTL.
    assert.deepEqual(await commandsDuring(client, () => store.patch(stored.id, touchPatch())), {
      evalsha: 1,
      hmget: 1,
      hincrby: 1,
      hset: 1,
      pexpire: 1,
    })
    assert.deepEqual(await commandsDuring(client, () => store.patch(randomUUID(), patch)), {
      evalsha: 1,
      hmget: 1,
    })
    assert.deepEqual(await commandsDuring(client, () => store.delete(stored.id)), {
      evalsha: 1,
      hget: 1,
      del: 1,
    })
  })

  it('runs its scripts again after the server forgot them (SCRIPT FLUSH)', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'flush:' })
    const stored = newRecord()
    await mustCreate(store, stored)
    await client.scriptFlush()
    await mustPatch(store, stored.id, touchPatch({ set: { 'd:v': '2' } }), 2)
    assert.equal((await store.get(stored.id))?.fields['d:v'], '2')
  })
})
