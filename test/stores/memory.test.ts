import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { assertExitsByItself, eventually, HOUR, record } from '../support/store-helpers.ts'
import { runStoreSuite } from '../support/store-suite.ts'

runStoreSuite('memory store', async (t) => {
  let offset = 0
  const store = createMemoryStore({ clock: () => Date.now() + offset })
  t.after(() => store.close())
  return {
    store,
    advance: (ms) => {
      offset += ms
    },
  }
})

describe('memory store specifics', () => {
  it('evicts the least recently used record past maxEntries', async (t) => {
    const store = createMemoryStore({ maxEntries: 3 })
    t.after(() => store.close())
    for (const id of ['a', 'b', 'c']) await store.create(record(id))
    await store.get('a') // b is now the least recently used
    await store.create(record('d'))
    assert.equal(store.size, 3)
    assert.equal(await store.get('b'), null)
    for (const id of ['a', 'c', 'd']) assert.ok(await store.get(id), `${id} was evicted`)
  })

  it('counts replace and patch as use for eviction', async (t) => {
    const store = createMemoryStore({ maxEntries: 3 })
    t.after(() => store.close())
    for (const id of ['a', 'b', 'c']) await store.create(record(id))
    await store.replace(record('a', { fields: { 'd:a': '2' } }), 1)
    const now = Date.now()
    await store.patch('b', { set: {}, unset: [], lastActiveAt: now, expiresAt: now + HOUR })
    await store.create(record('d'))
    assert.equal(await store.get('c'), null)
    for (const id of ['a', 'b', 'd']) assert.ok(await store.get(id), `${id} was evicted`)
  })

  it('keeps the subject index correct after eviction', async (t) => {
    const store = createMemoryStore({ maxEntries: 2 })
    t.after(() => store.close())
    await store.create(record('a', { subject: 'alice' }))
    await store.create(record('b', { subject: 'alice' }))
    await store.create(record('c'))
    assert.equal(await store.get('a'), null)
    assert.deepEqual(
      (await store.listBySubject('alice')).map((r) => r.id),
      ['b'],
    )
    assert.equal(await store.deleteBySubject('alice'), 1)
    assert.deepEqual(await store.listBySubject('alice'), [])
    assert.equal(store.size, 1)
  })

  it('keeps the subject index correct when a patched subject is evicted or deleted', async (t) => {
    const store = createMemoryStore({ maxEntries: 2, sweepInterval: 0 })
    t.after(() => store.close())
    const now = Date.now()
    const touch = { set: {}, unset: [], lastActiveAt: now, expiresAt: now + HOUR }
    await store.create(record('a', { subject: 'alice' }))
    await store.create(record('b', { subject: 'alice' }))
    await store.patch('a', { ...touch, subject: 'bob' })
    await store.patch('b', { ...touch, subject: null })
    assert.deepEqual(await store.listBySubject('alice'), [])
    await store.create(record('c'))
    await store.create(record('d')) // a and b had a second chance; c, then a are evicted
    assert.equal(store.size, 2)
    assert.equal(await store.get('a'), null)
    assert.deepEqual(await store.listBySubject('bob'), [])
    assert.equal(await store.deleteBySubject('bob'), 0)
    assert.equal(await store.deleteIfSubject('a', 'bob'), false)
  })

  it('forgets the subject of a record removed by eviction or expiry', async (t) => {
    let now = Date.now()
    const store = createMemoryStore({ maxEntries: 2, sweepInterval: 0, clock: () => now })
    t.after(() => store.close())
    await store.create(record('evicted', { subject: 'alice' }))
    await store.create(record('expiring', { subject: 'alice', expiresAt: now + 1000 }))
    await store.create(record('filler'))
    now += 2000
    await store.prune(now)
    assert.equal(store.size, 1)
    // The same ids created again for bob must not show up under alice.
    await store.create(record('evicted', { subject: 'bob', expiresAt: now + HOUR }))
    await store.create(record('expiring', { subject: 'bob', expiresAt: now + HOUR }))
    assert.deepEqual(await store.listBySubject('alice'), [])
    assert.equal(await store.deleteBySubject('alice'), 0)
    assert.deepEqual((await store.listBySubject('bob')).map((r) => r.id).sort(), [
      'evicted',
      'expiring',
    ])
  })

  it('sweeps expired records on its timer without any read', async (t) => {
    let now = Date.now()
    const store = createMemoryStore({ sweepInterval: 0.02, clock: () => now })
    t.after(() => store.close())
    await store.create(record('short', { subject: 'alice', expiresAt: now + 1000 }))
    await store.create(record('long', { expiresAt: now + HOUR }))
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(store.size, 2)
    now += 2000
    await eventually(() => store.size === 1)
    assert.deepEqual(await store.listBySubject('alice'), [])
    assert.ok(await store.get('long'))
  })

  it('stops sweeping after close()', async () => {
    let now = Date.now()
    const store = createMemoryStore({ sweepInterval: 0.01, clock: () => now })
    await store.create(record('short', { expiresAt: now + 1000 }))
    await store.close()
    now += 2000
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(store.size, 1)
    assert.equal(await store.get('short'), null)
    assert.equal(store.size, 0)
  })

  it('reports ttl: false when the sweep is disabled', async (t) => {
    const store = createMemoryStore({ sweepInterval: 0 })
    t.after(() => store.close())
    assert.deepEqual(store.capabilities, { patch: 'server', ttl: false, subjectIndex: true })
    const sweeping = createMemoryStore()
    t.after(() => sweeping.close())
    assert.deepEqual(sweeping.capabilities, { patch: 'server', ttl: true, subjectIndex: true })
  })

  it('does not keep the process alive', async () => {
    const script = fileURLToPath(new URL('../fixtures/idle-store.ts', import.meta.url))
    await assertExitsByItself(['--import', 'tsx', script, 'memory'])
  })

  it('rejects invalid options with ERR_SESSION_CONFIG', () => {
    const invalid: unknown[] = [
      { maxEntries: 0 },
      { maxEntries: -1 },
      { maxEntries: 1.5 },
      { maxEntries: Number.NaN },
      { maxEntries: Number.POSITIVE_INFINITY },
      { maxEntries: '10' },
      { sweepInterval: -1 },
      { sweepInterval: Number.NaN },
      { sweepInterval: 3_000_000 },
      { sweepInterval: '60' },
      { clock: 123 },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createMemoryStore(options as Parameters<typeof createMemoryStore>[0]),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
  })
})
