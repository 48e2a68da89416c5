import assert from 'node:assert/strict'
import { createServer, type Socket } from 'node:net'
import { after, describe, it, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import {
  createMemcachedStore,
  type MemcachedStoreClient,
  type MemcachedStoreOptions,
} from '../../src/stores/memcached.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { type MemcachedServer, startMemcached, ttlOf } from '../support/memcached-server.ts'
import {
  assertSameRecord,
  fieldEntries,
  mustCreate,
  mustPatch,
  newRecord,
  touchPatch,
} from '../support/store-helpers.ts'
import { runStoreSuite } from '../support/store-suite.ts'

const SECOND = 1000
const HOUR = 3600 * SECOND
const DAY = 24 * HOUR

/** Clients made in this file; shut down when its tests end (the server is stopped by its module). */
const clients: MemcacheClient[] = []
after(() => {
  for (const client of clients) client.shutdown()
})

function connect(server: MemcachedServer): MemcacheClient {
  const client = new MemcacheClient({ server: server.url })
  clients.push(client)
  return client
}

/** The file's server and one shared client, or null after a loud skip. */
let shared: MemcacheClient | undefined
async function memcached(
  t: TestContext,
): Promise<{ server: MemcachedServer; client: MemcacheClient } | null> {
  const server = await startMemcached(t)
  if (server === null) return null
  shared ??= connect(server)
  return { server, client: shared }
}

// The tests below pass memcache-client's MemcacheClient where a MemcachedStoreClient is expected:
// the typecheck proves that the real client fits the store's structural contract.

// A store per test (the suite's ids are unique), whose clock `advance` moves: each test starts at
// wall-clock time, as the suite builds its records from it. memcached's own expiry is checked by
// the TTL tests below.
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

/** A live record whose id is a valid memcached key, with `overrides` on top. */
const record: typeof newRecord = (overrides = {}) =>
  newRecord({ fields: { 'd:n': '1' }, ...overrides })

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
      { timeout: 0 },
      { timeout: -1 },
      { timeout: Number.NaN },
      { timeout: Number.POSITIVE_INFINITY },
      { timeout: '5' },
      { timeout: 3_000_000 },
      { clock: 'now' },
      { casAttempts: 0 },
      { casAttempts: 1.5 },
      { casAttempts: 1001 },
      { casAttempts: '3' },
      { casAttempts: Number.NaN },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createMemcachedStore(client, options as MemcachedStoreOptions),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
    for (const bad of [null, undefined, 'host:11211', {}, { get() {}, gets() {}, add() {} }]) {
      assert.throws(() => createMemcachedStore(bad as unknown as MemcachedStoreClient), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
    assert.doesNotThrow(() =>
      createMemcachedStore(client, { keyPrefix: 'x'.repeat(200), timeout: 0.5, casAttempts: 1 }),
    )
  })

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

  it('times out a call that memcached never answers', async (t) => {
    // A server that accepts connections and never says a word.
    const sockets = new Set<Socket>()
    const silent = createServer((socket) => {
      sockets.add(socket)
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.after(
      () =>
        new Promise((resolve) => {
          for (const socket of sockets) socket.destroy()
          silent.close(resolve)
        }),
    )
    const { port } = silent.address() as { port: number }
    // The client's own command timeout is far longer: the store's timer must be what fires.
    const client = new MemcacheClient({ server: `127.0.0.1:${port}`, cmdTimeout: 30_000 })
    clients.push(client)
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
