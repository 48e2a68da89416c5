/**
 * The memcached store's patches by gets + cas: concurrent patches all land, each on the version
 * before it, and a patch that keeps losing its race gives up after `casAttempts`, saying so.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemcachedStore } from '../../src/stores/memcached.ts'
import { memcached, record } from '../support/memcached-clients.ts'
import { fieldEntries, mustCreate, touchPatch } from '../support/store-helpers.ts'

describe('memcached store specifics', () => {
  it('patches by gets + cas: 32 concurrent patches all land, each on the version before it', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'cas:' })
    const created = record({ fields: {} })
    await mustCreate(store, created)
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        store.patch(created.id, touchPatch({ set: { [`d:k${i}`]: `"${'x'.repeat(i * 100)}"` } })),
      ),
    )
    const versions = results.map((result) => (result.ok ? result.version : -1))
    assert.deepEqual(
      versions.sort((a, b) => a - b),
      Array.from({ length: 32 }, (_, i) => i + 2),
    )
    assert.equal(fieldEntries((await store.get(created.id))?.fields).length, 32)
  })

  it('gives up after casAttempts lost compare-and-set races, saying so', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    // One attempt each: of 32 patches read at the same version, only the first cas can win.
    const store = createMemcachedStore(found.client, { keyPrefix: 'cas:', casAttempts: 1 })
    const created = record({ fields: {} })
    await mustCreate(store, created)
    const results = await Promise.allSettled(
      Array.from({ length: 32 }, (_, i) =>
        store.patch(created.id, touchPatch({ set: { [`d:k${i}`]: '1' } })),
      ),
    )
    const landed = results.filter((r) => r.status === 'fulfilled')
    const refused = results.filter((r) => r.status === 'rejected')
    assert.ok(refused.length > 0, 'some patch lost its race')
    for (const r of refused) {
      assert.match(
        String(r.reason),
        /memcached store: patch of cas:\S+ gave up after 1 compare-and-set attempts \(casAttempts\)/,
      )
    }
    // What landed is all there, and nothing else.
    const stored = await store.get(created.id)
    assert.equal(stored?.version, 1 + landed.length)
    assert.equal(fieldEntries(stored?.fields).length, landed.length)
  })
})
