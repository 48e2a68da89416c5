/**
 * The memcached store: the store and concurrency suites, how a session sits in memcached (one JSON
 * value under the prefix and id), its capabilities, the ids and values it refuses, and the checks
 * of the client and options. Expiry: `memcached-ttl.test.ts`; compare-and-set patches:
 * `memcached-cas.test.ts`; a silent or stopped memcached: `memcached-outage.test.ts`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import {
  createMemcachedStore,
  type MemcachedStoreClient,
  type MemcachedStoreOptions,
} from '../../src/stores/memcached.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { memcached, record } from '../support/memcached-clients.ts'
import {
  assertSameRecord,
  fieldEntries,
  HOUR,
  mustCreate,
  mustPatch,
  touchPatch,
} from '../support/store-helpers.ts'
import { assertOptionsRefused, INVALID_TIMEOUTS } from '../support/store-option-checks.ts'
import { runStoreSuite } from '../support/store-suite.ts'

// A store per test (the suite's ids are unique), whose clock `advance` moves: each test starts at
// wall-clock time, as the suite builds its records from it. memcached's own expiry is checked in
// memcached-ttl.test.ts.
runStoreSuite('memcached store', async (t) => {
  const found = await memcached(t)
  if (found === null) return null
  let offset = 0
  return {
    store: createMemcachedStore(found.client, {
      keyPrefix: 'suite:',
      clock: () => Date.now() + offset,
    }),
    advance: (ms) => {
      offset += ms
    },
  }
})

runConcurrencySuite('memcached store', async (t) => {
  const found = await memcached(t)
  return found && createMemcachedStore(found.client, { keyPrefix: 'concurrency:' })
})

describe('memcached store specifics', () => {
  it('stores one JSON value under keyPrefix + id', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'layout:' })
    const stored = record({ subject: 'alice', fields: { 'd:n': '1', m: '1800' } })
    await store.create(stored)
    const raw = await found.client.get<string>(`layout:${stored.id}`)
    assert.equal(typeof raw?.value, 'string')
    assert.deepEqual(JSON.parse(raw?.value ?? 'null'), {
      version: 1,
      createdAt: stored.createdAt,
      lastActiveAt: stored.lastActiveAt,
      expiresAt: stored.expiresAt,
      subject: 'alice',
      movedTo: null,
      fields: { 'd:n': '1', m: '1800' },
    })
    const anonymous = record()
    await store.create(anonymous)
    const rawAnonymous = await found.client.get<string>(`layout:${anonymous.id}`)
    assert.equal(JSON.parse(rawAnonymous?.value ?? '{}').subject, null)
  })

  it("uses the key prefix 'sessionware:' by default, and an empty prefix when asked", async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const stored = record()
    await createMemcachedStore(found.client).create(stored)
    assert.ok(await found.client.get(`sessionware:${stored.id}`))
    const bare = record()
    await createMemcachedStore(found.client, { keyPrefix: '' }).create(bare)
    assert.ok(await found.client.get(bare.id))
  })

  it("declares patch: 'compare-and-set', no subject index, and has no subject methods", async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client)
    assert.deepEqual(store.capabilities, {
      patch: 'compare-and-set',
      ttl: true,
      subjectIndex: false,
    })
    assert.ok(Object.isFrozen(store.capabilities))
    assert.equal('listBySubject' in store, false)
    assert.equal('deleteBySubject' in store, false)
    assert.equal('deleteIfSubject' in store, false)
    assert.equal('prune' in store, false)
    assert.equal('close' in store, false)
  })

  it('never stores an id that cannot be a memcached key', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ids:' })
    for (const id of ['has space', 'line\r\nbreak', 'tab\there', 'ünïcode', '', 'x'.repeat(247)]) {
      assert.equal(await store.get(id), null, JSON.stringify(id))
      assert.deepEqual(await store.patch(id, touchPatch()), { ok: false, reason: 'gone' })
      await store.delete(id)
      await assert.rejects(store.create(record({ id })), RangeError, JSON.stringify(id))
      await assert.rejects(store.replace(record({ id }), 1), RangeError, JSON.stringify(id))
    }
    // 4 + 246 = 250 bytes: the longest key memcached takes.
    const longest = record({ id: 'x'.repeat(246) })
    assert.deepEqual(await store.create(longest), { ok: true, version: 1 })
    assertSameRecord(await store.get(longest.id), longest)
  })

  it('reads a value written by store contract v1 as a record without fields', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'v1:' })
    const now = Date.now()
    const v1 = {
      data: '{"n":1}',
      version: 3,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: now + HOUR,
    }
    await found.client.set('v1:old', JSON.stringify({ ...v1, subject: null }), { lifetime: 60 })
    const { data: _data, ...times } = v1
    assertSameRecord(await store.get('old'), { id: 'old', fields: {}, ...times })
    await mustPatch(store, 'old', touchPatch({ set: { 'd:n': '2' } }), 4)
    assert.deepEqual((await store.get('old'))?.fields, { 'd:n': '2' })
  })

  it('rejects a value under its key that is not a session record', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'foreign:' })
    await found.client.set('foreign:text', 'not json', { lifetime: 60 })
    await found.client.set('foreign:json', '{"fields":1}', { lifetime: 60 })
    await assert.rejects(store.get('text'), /not JSON/)
    await assert.rejects(store.get('json'), /not a session record/)
  })

  it('rejects an invalid client or option with ERR_SESSION_CONFIG', () => {
    const client = new MemcacheClient({ server: '127.0.0.1:1' })
    const invalid: unknown[] = [
      { keyPrefix: 'has space' },
      { keyPrefix: 'tab\t' },
      { keyPrefix: 'line\n' },
      { keyPrefix: 'ünï:' },
      { keyPrefix: 'x'.repeat(201) },
      { keyPrefix: 42 },
      ...INVALID_TIMEOUTS,
      { clock: 'now' },
      { casAttempts: 0 },
      { casAttempts: 1.5 },
      { casAttempts: 1001 },
      { casAttempts: '3' },
      { casAttempts: Number.NaN },
    ]
    assertOptionsRefused(
      (options) => createMemcachedStore(client, options as MemcachedStoreOptions),
      invalid,
    )
    for (const bad of [null, undefined, 'host:11211', {}, { get() {}, gets() {}, add() {} }]) {
      assert.throws(() => createMemcachedStore(bad as unknown as MemcachedStoreClient), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
    assert.doesNotThrow(() =>
      createMemcachedStore(client, { keyPrefix: 'x'.repeat(200), timeout: 0.5, casAttempts: 1 }),
    )
  })

  it('keeps hostile field names, unicode and 100 KB texts in its JSON value', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'names:' })
    const fields = {
      version: '"v"',
      fields: '{}',
      ['__proto__']: '"p"',
      'd:{}': '{}',
      'd:a:b': '":"',
      'd:"\'`\\': '"q"',
      'd:Ω🎉': '"ü"',
      'd:big': `"${'é'.repeat(50_000)}"`,
    }
    const created = record({ fields: JSON.parse(JSON.stringify(fields)) })
    await mustCreate(store, created)
    assert.deepEqual(
      fieldEntries((await store.get(created.id))?.fields),
      fieldEntries(created.fields),
    )
    const patch = touchPatch({ set: { 'd:big': `"${'ü'.repeat(50_000)}"` }, unset: ['version'] })
    await mustPatch(store, created.id, patch, 2)
    const stored = await store.get(created.id)
    assert.equal(stored?.fields['d:big'], patch.set['d:big'])
    assert.equal(Object.hasOwn(stored?.fields ?? {}, '__proto__'), true)
    assert.equal(Object.getPrototypeOf(stored?.fields), Object.prototype)
    assert.equal(stored?.fields.version, undefined)
  })
})
