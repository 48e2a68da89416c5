/**
 * The Redis store on each of the four shared clients (node-redis and ioredis, standalone and
 * Cluster): the store and concurrency suites, field names and texts that look like the store's
 * own, sessions spread over a cluster, and the checks of the client and options. How a session
 * sits in Redis: `redis-layout.test.ts`; the subject index: `redis-subject-index.test.ts`; the
 * commands and scripts sent: `redis-scripts.test.ts`.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import {
  createRedisStore,
  type RedisStoreClient,
  type RedisStoreOptions,
} from '../../src/stores/redis.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import {
  ignore,
  SHARED_CLIENTS,
  sharedNodeRedis,
  sharedNodeRedisCluster,
} from '../support/redis-clients.ts'
import { redisCli, sharedRedisCluster } from '../support/redis-server.ts'
import {
  fieldEntries,
  mustCreate,
  mustPatch,
  newRecord,
  touchPatch,
} from '../support/store-helpers.ts'
import { assertOptionsRefused, INVALID_TIMEOUTS } from '../support/store-option-checks.ts'
import { runStoreSuite, type StoreFixture } from '../support/store-suite.ts'

/** A store on one of the shared clients, or null after the skip for a missing server. */
async function fixture(
  t: TestContext,
  client: (t: TestContext) => Promise<RedisStoreClient | null>,
  options: RedisStoreOptions = {},
): Promise<StoreFixture | null> {
  const connected = await client(t)
  if (connected === null) return null
  return {
    store: createRedisStore(connected, options),
    // Real time: Redis expires keys on its own clock.
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  }
}

for (const [name, client] of SHARED_CLIENTS) {
  // Two of them under their own prefix: the store must not depend on the default one.
  const keyPrefix = name.startsWith('node-redis client') ? 'suite-node:' : undefined
  runStoreSuite(`redis store (${name})`, (t) => fixture(t, client, { keyPrefix }))
  runConcurrencySuite(
    `redis store (${name})`,
    async (t) => (await fixture(t, client))?.store ?? null,
  )
}

describe('redis store specifics', () => {
  it("declares patch: 'server', ttl and subjectIndex", async (t) => {
    const f = await fixture(t, sharedNodeRedis)
    if (f) {
      assert.deepEqual(f.store.capabilities, { patch: 'server', ttl: true, subjectIndex: true })
      assert.ok(Object.isFrozen(f.store.capabilities))
    }
  })

  it('spreads sessions over the cluster and keeps each one in one slot', async (t) => {
    const cluster = await sharedRedisCluster(t)
    const client = await sharedNodeRedisCluster(t)
    if (cluster === null || client === null) return
    const store = createRedisStore(client, { keyPrefix: 'spread:' })
    const subject = `user-${randomUUID()}`
    const records = Array.from({ length: 30 }, () => newRecord({ subject }))
    for (const r of records) await mustCreate(store, r)
    for (const r of records) await mustPatch(store, r.id, touchPatch({ set: { 'd:x': '1' } }), 2)
    const perNode = await Promise.all(
      cluster.nodes.map(async ({ port }) => (await redisCli(port, 'keys', 'spread:{*')).trim()),
    )
    assert.ok(
      perNode.filter((keys) => keys !== '').length >= 2,
      'sessions are spread over the masters',
    )
    assert.equal((await store.listBySubject(subject)).length, 30)
    assert.equal(await store.deleteBySubject(subject, { exceptId: records[0]?.id as string }), 29)
  })

  it('rejects a client it does not recognise with ERR_SESSION_CONFIG', () => {
    for (const client of [null, undefined, 42, 'redis://localhost', {}, { get: () => {} }]) {
      assert.throws(() => createRedisStore(client as unknown as RedisStoreClient), {
        name: 'SessionConfigError',
        code: 'ERR_SESSION_CONFIG',
      })
    }
  })

  it('rejects invalid options with ERR_SESSION_CONFIG', () => {
    const client = { hgetall: ignore, evalsha: ignore } as unknown as RedisStoreClient
    const invalid: unknown[] = [
      { keyPrefix: 'has space:' },
      { keyPrefix: 'brace{' },
      { keyPrefix: 'brace}' },
      { keyPrefix: 'tab\t' },
      { keyPrefix: 'é' },
      { keyPrefix: 'x'.repeat(129) },
      { keyPrefix: 42 },
      ...INVALID_TIMEOUTS,
    ]
    assertOptionsRefused(
      (options) => createRedisStore(client, options as RedisStoreOptions),
      invalid,
    )
    assert.doesNotThrow(() => createRedisStore(client, { keyPrefix: '', timeout: 0.5 }))
    assert.doesNotThrow(() => createRedisStore(client, { keyPrefix: 'app:sess|v1~' }))
  })
})

/** Field names that look like the store's own: metadata, its `.` marker, hash tags, `:`. */
const LOOKALIKES: Readonly<Record<string, string>> = {
  version: '"v"',
  createdAt: '0',
  expiresAt: '-1',
  subject: '"root"',
  movedTo: '"elsewhere"',
  '.': 'dot',
  '.d:x': 'dotted',
  '..': 'two dots',
  'd:{}': '{}',
  'd:{slot}': '"{slot}"',
  'd:}{': '"}{"',
  ':': 'colon',
  'd:a:b:c': '"a:b:c"',
  'd:"\'`': '"quotes"',
  'd:Ω≈ç√∫': '"unicode"',
  'd:🎉': '"🎉"',
  'd:big': `"${'é'.repeat(50_000)}"`, // 100 KB of UTF-8
}

describe('redis store field names and texts, on every client', () => {
  for (const [name, client] of SHARED_CLIENTS) {
    it(`${name}: keeps fields named like the metadata, with braces, colons, unicode, 100 KB texts`, async (t) => {
      const f = await fixture(t, client, { keyPrefix: 'names:' })
      if (f === null) return
      const { store } = f
      const subject = `user-${randomUUID()}`
      const created = newRecord({ subject, fields: LOOKALIKES })
      await mustCreate(store, created)
      const stored = await store.get(created.id)
      assert.deepEqual(fieldEntries(stored?.fields), fieldEntries(LOOKALIKES))
      assert.equal(stored?.version, 1)
      assert.equal(stored?.subject, subject)
      assert.equal(stored?.movedTo, undefined)
      // Patch them all through the script: unset some, clear a prefix that looks like the marker.
      const patch = touchPatch({
        set: { version: '"v2"', 'd:big': `"${'ü'.repeat(50_000)}"`, movedTo: '"again"' },
        unset: ['subject', 'd:{}'],
        clearPrefix: '.',
      })
      await mustPatch(store, created.id, patch, 2)
      const patched = await store.get(created.id)
      const expected = Object.fromEntries(
        Object.entries({ ...LOOKALIKES, ...patch.set }).filter(
          ([n]) => !n.startsWith('.') && n !== 'subject' && n !== 'd:{}',
        ),
      )
      assert.deepEqual(fieldEntries(patched?.fields), fieldEntries(expected))
      assert.equal(patched?.subject, subject)
      assert.equal(patched?.movedTo, undefined, 'a field named movedTo is no pointer')
      assert.equal(patched?.version, 2)
      assert.equal((await store.listBySubject?.(subject))?.length, 1)
    })

    it(`${name}: one patch of 5,000 fields, and a clearPrefix over them (Lua's stack limit)`, async (t) => {
      const f = await fixture(t, client, { keyPrefix: 'many:' })
      if (f === null) return
      const { store } = f
      const created = newRecord({ fields: { m: '1800' } })
      await mustCreate(store, created)
      const set = Object.fromEntries(Array.from({ length: 5000 }, (_, i) => [`f:${i}`, `${i}`]))
      await mustPatch(store, created.id, touchPatch({ set }), 2)
      assert.equal(Object.keys((await store.get(created.id))?.fields ?? {}).length, 5001)
      const unset = Array.from({ length: 4000 }, (_, i) => `f:${i}`)
      await mustPatch(store, created.id, touchPatch({ unset }), 3)
      assert.equal(Object.keys((await store.get(created.id))?.fields ?? {}).length, 1001)
      await mustPatch(store, created.id, touchPatch({ clearPrefix: 'f:' }), 4)
      assert.deepEqual(fieldEntries((await store.get(created.id))?.fields), [['m', '1800']])
    })
  }
})
