import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { createServer, Socket } from 'node:net'
import { after, describe, it, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import type { SessionRecord } from '../../src/core/types.ts'
import {
  createMemcachedStore,
  type MemcachedStoreClient,
  type MemcachedStoreOptions,
} from '../../src/stores/memcached.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { type MemcachedServer, startMemcached } from '../support/memcached-server.ts'
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

// One store shared by every test of the suite (its ids are unique); `advance` moves the store's
// clock, and memcached's own expiry is checked by the TTL tests below.
let offset = 0
runStoreSuite('memcached store', async (t) => {
  const found = await memcached(t)
  if (found === null) return null
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

function record(fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: `id-${randomUUID()}`,
    data: '{"n":1}',
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...fields,
  }
}

/**
 * memcached's remaining TTL of `key` in seconds, read with the meta command `mg <key> t` over a raw
 * socket (-1: no expiry), or null when memcached does not hold the key.
 */
async function ttlOf(server: MemcachedServer, key: string): Promise<number | null> {
  const socket = new Socket()
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(server.port, '127.0.0.1', resolve)
    })
    let received = ''
    const line = await new Promise<string>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
        const end = received.indexOf('\r\n')
        if (end >= 0) resolve(received.slice(0, end))
      })
      socket.once('error', reject)
      socket.write(`mg ${key} t\r\n`)
    })
    if (line === 'EN') return null
    const match = /^HD t(-?\d+)$/.exec(line)
    assert.ok(match, `unexpected reply to mg: ${line}`)
    return Number(match[1])
  } finally {
    socket.destroy()
  }
}

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
    assert.deepEqual(await store.get(long.id), long)
    assertAbout(await ttlOf(found.server, `ttl:${long.id}`), 40 * 86400)
  })

  it('keeps a session that expires in 10 days (relative exptime up to 30 days)', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const short = record({ expiresAt: Date.now() + 10 * DAY })
    assert.deepEqual(await store.create(short), { ok: true, version: 1 })
    assert.deepEqual(await store.get(short.id), short)
    assertAbout(await ttlOf(found.server, `ttl:${short.id}`), 10 * 86400)
  })

  it('sets the TTL from expiresAt on create, update and touch, across the 30-day line', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ttl:' })
    const key = (id: string): string => `ttl:${id}`
    const created = record({ expiresAt: Date.now() + HOUR })
    await store.create(created)
    assertAbout(await ttlOf(found.server, key(created.id)), 3600)

    const longer = { ...created, expiresAt: Date.now() + 45 * DAY }
    assert.deepEqual(await store.update(longer, 1), { ok: true, version: 2 })
    assertAbout(await ttlOf(found.server, key(created.id)), 45 * 86400)

    await store.touch(created.id, Date.now(), Date.now() + 29 * DAY)
    assertAbout(await ttlOf(found.server, key(created.id)), 29 * 86400)
    await store.touch(created.id, Date.now(), Date.now() + 31 * DAY)
    assertAbout(await ttlOf(found.server, key(created.id)), 31 * 86400)
    assert.equal((await store.get(created.id))?.version, 2)
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
    const old = record({ expiresAt: now + 30 * SECOND, data: '{"old":true}' })
    await store.create(old)
    now += 31 * SECOND
    assert.equal(await store.get(old.id), null)
    assert.notEqual(await ttlOf(found.server, `ttl:${old.id}`), null, 'memcached still holds it')
    assert.deepEqual(await store.update(old, 1), { ok: false, reason: 'conflict', current: null })
    await store.touch(old.id, now, now + HOUR)
    assert.equal(await store.get(old.id), null, 'touch does not revive it')
    const fresh = record({ id: old.id, data: '{"new":true}', expiresAt: now + HOUR })
    assert.deepEqual(await store.create(fresh), { ok: true, version: 1 })
    assert.deepEqual(await store.get(old.id), fresh)
  })

  it('stores one JSON value under keyPrefix + id', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'layout:' })
    const stored = record({ subject: 'alice' })
    await store.create(stored)
    const raw = await found.client.get<string>(`layout:${stored.id}`)
    assert.equal(typeof raw?.value, 'string')
    assert.deepEqual(JSON.parse(raw?.value ?? 'null'), {
      data: stored.data,
      version: 1,
      createdAt: stored.createdAt,
      lastActiveAt: stored.lastActiveAt,
      expiresAt: stored.expiresAt,
      subject: 'alice',
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

  it('declares no subject index and has no subject methods', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client)
    assert.deepEqual(store.capabilities, { atomic: true, ttl: true, subjectIndex: false })
    assert.ok(Object.isFrozen(store.capabilities))
    assert.equal('listBySubject' in store, false)
    assert.equal('deleteBySubject' in store, false)
    assert.equal('prune' in store, false)
    assert.equal('close' in store, false)
  })

  it('never stores an id that cannot be a memcached key', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'ids:' })
    for (const id of ['has space', 'line\r\nbreak', 'tab\there', 'ünïcode', '', 'x'.repeat(247)]) {
      assert.equal(await store.get(id), null, JSON.stringify(id))
      await store.touch(id, Date.now(), Date.now() + HOUR)
      await store.delete(id)
      await assert.rejects(store.create(record({ id })), RangeError, JSON.stringify(id))
      await assert.rejects(store.update(record({ id }), 1), RangeError, JSON.stringify(id))
    }
    // 4 + 246 = 250 bytes: the longest key memcached takes.
    const longest = record({ id: 'x'.repeat(246) })
    assert.deepEqual(await store.create(longest), { ok: true, version: 1 })
    assert.deepEqual(await store.get(longest.id), longest)
  })

  it('rejects a value under its key that is not a session record', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createMemcachedStore(found.client, { keyPrefix: 'foreign:' })
    await found.client.set('foreign:text', 'not json', { lifetime: 60 })
    await found.client.set('foreign:json', '{"data":1}', { lifetime: 60 })
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
      createMemcachedStore(client, { keyPrefix: 'x'.repeat(200), timeout: 0.5 }),
    )
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
    for (const call of [() => store.get('x'), () => store.update(record(), 1)]) {
      const started = Date.now()
      await assert.rejects(call(), /memcached store: (get|update) timed out after 1 s/)
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
      for (const call of [() => store.get(before.id), () => store.update(before, 1)]) {
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
    const again = record({ id: before.id, data: '{"after":"restart"}' })
    assert.deepEqual(await store.create(again), { ok: true, version: 1 })
    assert.deepEqual(await store.update({ ...again, data: '{"v":2}' }, 1), { ok: true, version: 2 })
    assert.equal((await store.get(before.id))?.data, '{"v":2}')
  })
})
