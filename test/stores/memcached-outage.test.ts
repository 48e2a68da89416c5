/**
 * The memcached store when memcached does not answer: a call times out after the store's
 * `timeout`, not the client's; while memcached is down every call rejects within it, and the same
 * client and store work again once memcached is back.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createMemcachedStore } from '../../src/stores/memcached.ts'
import { connect, memcacheClient, memcached, record } from '../support/memcached-clients.ts'
import { silentServer } from '../support/silent-server.ts'
import { mustPatch, touchPatch } from '../support/store-helpers.ts'

describe('memcached store specifics', () => {
  it('times out a call that memcached never answers', async (t) => {
    // A server that accepts connections and never says a word.
    const port = await silentServer(t)
    // The client's own command timeout is far longer: the store's timer must be what fires.
    const client = memcacheClient({ server: `127.0.0.1:${port}`, cmdTimeout: 30_000 })
    const store = createMemcachedStore(client, { timeout: 1 })
    for (const call of [() => store.get('x'), () => store.patch('x', touchPatch())]) {
      const started = Date.now()
      await assert.rejects(call(), /memcached store: (get|patch) timed out after 1 s/)
      const elapsed = Date.now() - started
      assert.ok(elapsed >= 900 && elapsed < 2500, `rejected after ${elapsed} ms`)
    }
  })

  // Last: it stops the file's memcached (and starts it again).
  it('rejects within the timeout while memcached is down and works again once it is back', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const client = connect(found.server)
    const store = createMemcachedStore(client, { keyPrefix: 'outage:', timeout: 1 })
    const before = record()
    assert.deepEqual(await store.create(before), { ok: true, version: 1 })

    await found.server.stop()
    try {
      for (const call of [() => store.get(before.id), () => store.patch(before.id, touchPatch())]) {
        const started = Date.now()
        await assert.rejects(call())
        const elapsed = Date.now() - started
        assert.ok(elapsed < 2500, `rejected after ${elapsed} ms`)
      }
    } finally {
      await found.server.start()
    }

    // The same client and store work again; memcached came back empty, as memcached does.
    assert.equal(await store.get(before.id), null)
    const again = record({ id: before.id, fields: { 'd:after': '"restart"' } })
    assert.deepEqual(await store.create(again), { ok: true, version: 1 })
    await mustPatch(store, before.id, touchPatch({ set: { 'd:v': '2' } }), 2)
    assert.equal((await store.get(before.id))?.fields['d:v'], '2')
  })
})
