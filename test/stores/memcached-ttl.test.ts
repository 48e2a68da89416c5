/**
 * The memcached store's expiry: memcached's TTL set from `expiresAt` on every write, on both sides
 * of memcached's 30-day line between relative and absolute exptimes, left alone by a patch of a
 * forwarding pointer; and a record past `expiresAt` hidden while memcached still holds it.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemcachedStore } from '../../src/stores/memcached.ts'
import { memcached, record } from '../support/memcached-clients.ts'
import { ttlOf } from '../support/memcached-server.ts'
import { assertSameRecord, mustCreate, mustPatch, touchPatch } from '../support/store-helpers.ts'

const SECOND = 1000
const HOUR = 3600 * SECOND
const DAY = 24 * HOUR

/** Asserts that `actual` seconds are within a few seconds of `expected`. */
function assertAbout(actual: number | null, expected: number): void {
  assert.ok(actual !== null, 'memcached does not hold the key')
  assert.ok(Math.abs(actual - expected) <= 3, `TTL ${actual} s, expected about ${expected} s`)
}

describe('memcached store specifics', () => {
  it('keeps a session that expires in 40 days (absolute exptime beyond 30 days)', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const long = record({ expiresAt: Date.now() + 40 * DAY })
    assert.deepEqual(await store.create(long), { ok: true, version: 1 })
    // A relative exptime of 40 days would be read as a date in 1970: gone at once.
    assertSameRecord(await store.get(long.id), long)
    assertAbout(await ttlOf(found.server, `ttl:${long.id}`), 40 * 86400)
  })

  it('keeps a session that expires in 10 days (relative exptime up to 30 days)', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const short = record({ expiresAt: Date.now() + 10 * DAY })
    assert.deepEqual(await store.create(short), { ok: true, version: 1 })
    assertSameRecord(await store.get(short.id), short)
    assertAbout(await ttlOf(found.server, `ttl:${short.id}`), 10 * 86400)
  })

  it('sets the TTL from expiresAt on create, replace and patch, across the 30-day line', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const key = (id: string): string => `ttl:${id}`
    const created = record({ expiresAt: Date.now() + HOUR })
    await store.create(created)
    assertAbout(await ttlOf(found.server, key(created.id)), 3600)

    const longer = { ...created, expiresAt: Date.now() + 45 * DAY }
    assert.deepEqual(await store.replace(longer, 1), { ok: true, version: 2 })
    assertAbout(await ttlOf(found.server, key(created.id)), 45 * 86400)

    await mustPatch(store, created.id, touchPatch({ expiresAt: Date.now() + 29 * DAY }), 3)
    assertAbout(await ttlOf(found.server, key(created.id)), 29 * 86400)
    await mustPatch(store, created.id, touchPatch({ expiresAt: Date.now() + 31 * DAY }), 4)
    assertAbout(await ttlOf(found.server, key(created.id)), 31 * 86400)
    assert.equal((await store.get(created.id))?.version, 4)
  })

  it('a patch of a forwarding pointer writes nothing and leaves its TTL alone', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const session = record({ expiresAt: Date.now() + HOUR })
    await mustCreate(store, session)
    const pointer = {
      ...session,
      fields: {},
      movedTo: 'id-elsewhere',
      expiresAt: Date.now() + 20_000,
    }
    assert.deepEqual(await store.replace(pointer, 1), { ok: true, version: 2 })
    const raw = (await found.client.get<string>(`ttl:${session.id}`))?.value
    const ttl = await ttlOf(found.server, `ttl:${session.id}`)
    assertAbout(ttl, 21)
    const patch = touchPatch({ set: { 'd:x': '1' }, expiresAt: Date.now() + DAY })
    assert.deepEqual(await store.patch(session.id, patch), {
      ok: false,
      reason: 'moved',
      movedTo: 'id-elsewhere',
    })
    assert.equal((await found.client.get<string>(`ttl:${session.id}`))?.value, raw)
    const after = await ttlOf(found.server, `ttl:${session.id}`)
    assert.ok(after !== null && ttl !== null && after <= ttl, `TTL went from ${ttl} to ${after}`)
  })

  it('lets memcached drop an already expired record at once', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const expired = record({ expiresAt: Date.now() - SECOND })
    assert.deepEqual(await store.create(expired), { ok: true, version: 1 })
    assert.equal(await ttlOf(found.server, `ttl:${expired.id}`), null)
  })

  it('hides a record past expiresAt that memcached still holds, and creates over it', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    let now = Date.now()
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:', clock: () => now })
    const old = record({ expiresAt: now + 30 * SECOND, fields: { 'd:old': 'true' } })
    await store.create(old)
    now += 31 * SECOND
    assert.equal(await store.get(old.id), null)
    assert.notEqual(await ttlOf(found.server, `ttl:${old.id}`), null, 'memcached still holds it')
    assert.deepEqual(await store.replace(old, 1), { ok: false, reason: 'conflict', current: null })
    const touch = { set: {}, unset: [], lastActiveAt: now, expiresAt: now + HOUR }
    assert.deepEqual(await store.patch(old.id, touch), { ok: false, reason: 'gone' })
    assert.equal(await store.get(old.id), null, 'a patch does not revive it')
    const fresh = record({ id: old.id, fields: { 'd:new': 'true' }, expiresAt: now + HOUR })
    assert.deepEqual(await store.create(fresh), { ok: true, version: 1 })
    assertSameRecord(await store.get(old.id), fresh)
  })
})
