/**
 * How the Redis store keeps a session: a hash at `<prefix>{<id>}` with its metadata and a `.`
 * before each field name, the key's TTL from `expiresAt` (and the subject set's), patches that
 * write only what they name, and hashes of store contract v1.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it } from 'node:test'
import { createRedisStore } from '../../src/stores/redis.ts'
import { sharedIoRedis, sharedNodeRedis } from '../support/redis-clients.ts'
import {
  assertSameRecord,
  HOUR,
  mustCreate,
  mustPatch,
  newRecord,
  touchPatch,
} from '../support/store-helpers.ts'

/** Asserts that the key's PTTL is within 2 s of `expiresAt` from now. */
async function assertTtl(pttl: Promise<number>, expiresAt: number): Promise<void> {
  const actual = await pttl
  const expected = expiresAt - Date.now()
  assert.ok(Math.abs(actual - expected) < 2000, `PTTL ${actual}, expected about ${expected}`)
}

describe('redis store specifics', () => {
  it('keeps a session in a hash at <prefix>{<id>}: metadata, and .<name> per field', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const keyPrefix = `layout-${randomUUID()}:`
    const store = createRedisStore(client, { keyPrefix })
    const subject = `user-${randomUUID()}`
    const stored = newRecord({ subject, fields: { 'd:n': '1', m: '1800', version: 'mine' } })
    await mustCreate(store, stored)
    const keys = (await client.keys(`${keyPrefix}*`)).sort()
    assert.deepEqual(keys, [`${keyPrefix}subject:{${subject}}`, `${keyPrefix}{${stored.id}}`])
    assert.equal(await client.type(`${keyPrefix}{${stored.id}}`), 'hash')
    assert.deepEqual(await client.hGetAll(`${keyPrefix}{${stored.id}}`), {
      version: '1',
      createdAt: String(stored.createdAt),
      lastActiveAt: String(stored.lastActiveAt),
      expiresAt: String(stored.expiresAt),
      subject,
      '.d:n': '1',
      '.m': '1800',
      '.version': 'mine',
    })
    assert.deepEqual(await client.sMembers(`${keyPrefix}subject:{${subject}}`), [stored.id])
  })

  it('uses the prefix sessionware: by default', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const stored = newRecord()
    await createRedisStore(client).create(stored)
    assert.equal(await client.exists(`sessionware:{${stored.id}}`), 1)
  })

  it('sets the key TTL to expiresAt on create, replace and patch', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'ttl:' })
    const stored = newRecord()
    const pttl = () => client.pTTL(`ttl:{${stored.id}}`)
    await mustCreate(store, stored)
    await assertTtl(pttl(), stored.expiresAt)
    const replaced = { ...stored, expiresAt: Date.now() + 2 * HOUR }
    assert.deepEqual(await store.replace(replaced, 1), { ok: true, version: 2 })
    await assertTtl(pttl(), replaced.expiresAt)
    const patch = touchPatch({ expiresAt: Date.now() + 3 * HOUR })
    await mustPatch(store, stored.id, patch, 3)
    await assertTtl(pttl(), patch.expiresAt)
  })

  it('a patch of a forwarding pointer writes nothing and leaves its TTL alone (PTTL)', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'pointer:' })
    const key = (id: string) => `pointer:{${id}}`
    const session = newRecord({ subject: `user-${randomUUID()}` })
    await mustCreate(store, session)
    const pointer = { ...session, fields: {}, subject: undefined, movedTo: randomUUID() }
    const grace = Date.now() + 10_000
    assert.deepEqual(await store.replace({ ...pointer, expiresAt: grace }, 1), {
      ok: true,
      version: 2,
    })
    const before = await client.hGetAll(key(session.id))
    const ttlBefore = await client.pTTL(key(session.id))
    assert.ok(ttlBefore > 0 && ttlBefore <= 10_000, `pointer PTTL ${ttlBefore}`)
    const patch = touchPatch({ set: { 'd:x': '1' }, subject: 'mallory', expiresAt: grace + HOUR })
    assert.deepEqual(await store.patch(session.id, patch), {
      ok: false,
      reason: 'moved',
      movedTo: pointer.movedTo,
    })
    assert.deepEqual(await client.hGetAll(key(session.id)), before)
    const ttlAfter = await client.pTTL(key(session.id))
    assert.ok(ttlAfter <= ttlBefore, `PTTL grew from ${ttlBefore} to ${ttlAfter}`)
  })

  it('keeps the subject set alive at least as long as its sessions', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'subject-ttl:' })
    const subject = `user-${randomUUID()}`
    const setTtl = () => client.pttl(`subject-ttl:subject:{${subject}}`)
    const long = newRecord({ subject, expiresAt: Date.now() + 2 * HOUR })
    const short = newRecord({ subject, expiresAt: Date.now() + HOUR })
    await mustCreate(store, long)
    await mustCreate(store, short)
    assert.ok((await setTtl()) > 2 * HOUR - 5000, 'set PTTL shorter than a session')
    // A patch that leaves the subject as stored, and one that sets it, both extend the set.
    await mustPatch(store, short.id, touchPatch({ expiresAt: Date.now() + 5 * HOUR }), 2)
    assert.ok((await setTtl()) > 5 * HOUR - 5000)
    await mustPatch(store, long.id, touchPatch({ subject, expiresAt: Date.now() + 6 * HOUR }), 2)
    assert.ok((await setTtl()) > 6 * HOUR - 5000)
    await store.replace({ ...long, expiresAt: Date.now() + 7 * HOUR }, 2)
    assert.ok((await setTtl()) > 7 * HOUR - 5000)
  })

  it('a patch rewrites only the fields it names', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'narrow:' })
    const big = 'x'.repeat(10_000)
    const stored = newRecord({ fields: { 'd:big': big, 'd:n': '1', 'f:a': '1', m: '1800' } })
    await mustCreate(store, stored)
    const before = await client.hGetAll(`narrow:{${stored.id}}`)
    const patch = touchPatch({ set: { 'd:n': '2' }, unset: ['m'], clearPrefix: 'f:' })
    await mustPatch(store, stored.id, patch, 2)
    const { '.m': _m, '.f:a': _f, ...kept } = before
    assert.deepEqual(await client.hGetAll(`narrow:{${stored.id}}`), {
      ...kept,
      '.d:n': '2',
      version: '2',
      lastActiveAt: String(patch.lastActiveAt),
      expiresAt: String(patch.expiresAt),
    })
  })

  it('reads a hash written by store contract v1 as a record without fields', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'v1:' })
    const id = randomUUID()
    const now = Date.now()
    const times = { version: 3, createdAt: now, lastActiveAt: now, expiresAt: now + HOUR }
    await client.hSet(`v1:{${id}}`, { data: '{"n":1}', ...times })
    await client.pExpire(`v1:{${id}}`, HOUR)
    assertSameRecord(await store.get(id), { id, fields: {}, ...times })
    await mustPatch(store, id, touchPatch({ set: { 'd:n': '2' } }), 4)
    assert.deepEqual((await store.get(id))?.fields, { 'd:n': '2' })
  })
})
