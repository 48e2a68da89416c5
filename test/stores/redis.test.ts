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
  commandsDuring,
  ignore,
  nodeRedis,
  SHARED_CLIENTS,
  sharedIoRedis,
  sharedNodeRedis,
  sharedNodeRedisCluster,
} from '../support/redis-clients.ts'
import { redisCli, sharedRedisCluster, startRedis } from '../support/redis-server.ts'
import {
  assertSameRecord,
  fieldEntries,
  HOUR,
  mustCreate,
  mustPatch,
  newRecord,
  touchPatch,
} from '../support/store-helpers.ts'
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

/** Asserts that the key's PTTL is within 2 s of `expiresAt` from now. */
async function assertTtl(pttl: Promise<number>, expiresAt: number): Promise<void> {
  const actual = await pttl
  const expected = expiresAt - Date.now()
  assert.ok(Math.abs(actual - expected) < 2000, `PTTL ${actual}, expected about ${expected}`)
}

describe('redis store specifics', () => {
  it("declares patch: 'server', ttl and subjectIndex", async (t) => {
    const f = await fixture(t, sharedNodeRedis)
    if (f) {
      assert.deepEqual(f.store.capabilities, { patch: 'server', ttl: true, subjectIndex: true })
      assert.ok(Object.isFrozen(f.store.capabilities))
    }
  })

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
      { timeout: 0 },
      { timeout: -1 },
      { timeout: Number.NaN },
      { timeout: Number.POSITIVE_INFINITY },
      { timeout: '5' },
      { timeout: 3_000_000 },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createRedisStore(client, options as RedisStoreOptions),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
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
