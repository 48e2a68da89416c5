/**
 * What the Python layout stores do on real Redis and memcached beyond the conformance suite: the
 * keys and values they write, the TTLs, ids they refuse, options they refuse, and a write that
 * races the Python application (another writer changes the value between the read and the write).
 */
import assert from 'node:assert/strict'
import { after, describe, it, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import type { SessionRecord, SessionStore } from '../../src/core/types.ts'
import { createAiohttpMemcachedStore } from '../../src/stores/aiohttp-memcached.ts'
import { createAiohttpRedisStore, type RedisLayoutClient } from '../../src/stores/aiohttp-redis.ts'
import {
  createAesGcmEncryptor,
  createStarsessionsRedisStore,
  pythonServerStorageOptions,
  pythonSessionId,
} from '../../src/stores/starsessions-redis.ts'
import { startMemcached, ttlOf } from '../support/memcached-server.ts'
import { type NodeRedisClient, sharedIoRedis, sharedNodeRedis } from '../support/redis-clients.ts'
import { silentServer } from '../support/silent-server.ts'
import { assertSameRecord, mustCreate, touchPatch } from '../support/store-helpers.ts'

const HOUR = 3_600_000
const DAY = 24 * HOUR

const clients: MemcacheClient[] = []
after(() => {
  for (const client of clients) client.shutdown()
})

function record(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: pythonSessionId(),
    fields: { 'd:user': '"ann"', 'f:notice': '"hi"', m: '1800' },
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...overrides,
  }
}

/**
 * A node-redis client whose first byte read of `key` is followed, before the caller sees it, by
 * `write()`: another writer (the Python application) changing the value in between.
 */
function racing(
  client: NodeRedisClient,
  key: string,
  write: () => Promise<unknown>,
): RedisLayoutClient {
  let armed = true
  return new Proxy(client, {
    get(target, property, receiver) {
      if (property !== 'withTypeMapping') return Reflect.get(target, property, receiver)
      return (mapping: never) => {
        const bytes = target.withTypeMapping(mapping)
        return {
          async get(name: string) {
            const value = await bytes.get(name)
            if (armed && name === key) {
              armed = false
              await write()
            }
            return value
          },
        }
      }
    },
  }) as unknown as RedisLayoutClient
}

describe('aiohttp-session redis store on a real Redis', () => {
  it('declares compare-and-set patches, a TTL, no subject index', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createAiohttpRedisStore(client)
    assert.deepEqual(store.capabilities, {
      patch: 'compare-and-set',
      ttl: true,
      subjectIndex: false,
    })
    assert.ok(Object.isFrozen(store.capabilities))
    for (const method of ['listBySubject', 'deleteBySubject', 'deleteIfSubject', 'prune']) {
      assert.equal(method in store, false, method)
    }
  })

  it('keeps a session as one string at <cookieName>_<id> with EX to its deadline', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createAiohttpRedisStore(client, { cookieName: 'LAYOUT' })
    const stored = record()
    await mustCreate(store, stored)
    const key = `LAYOUT_${stored.id}`
    assert.equal(await client.type(key), 'string')
    const value = (await client.get(key)) as string
    assert.match(value, /^\{"created": \d+, "session": \{"user": "ann"\}, "sessionware": \{/)
    assert.ok(Math.abs((await client.ttl(key)) - 3600) <= 1)
    // AIOHTTP_SESSION by default.
    const other = record()
    await mustCreate(createAiohttpRedisStore(client), other)
    assert.equal(await client.exists(`AIOHTTP_SESSION_${other.id}`), 1)
    // A patch far out: EX is still the seconds to the deadline (no 30-day rule in Redis).
    const patch = touchPatch({ set: { 'd:user': '"bob"' }, expiresAt: Date.now() + 45 * DAY })
    assert.deepEqual(await store.patch(stored.id, patch), { ok: true, version: 2 })
    assert.ok(Math.abs((await client.ttl(key)) - 45 * 86400) <= 1)
    // Deleting deletes the key.
    await store.delete(stored.id)
    assert.equal(await client.exists(key), 0)
  })

  it('refuses to create an id that is not 32 lowercase hex digits, saying why', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createAiohttpRedisStore(client)
    for (const id of ['Ab'.repeat(16), 'a'.repeat(31), 'x'.repeat(43), 'A'.repeat(32)]) {
      await assert.rejects(
        store.create(record({ id })),
        /does not match idFormat .*pythonServerStorageOptions/,
      )
      assert.equal(await client.exists(`AIOHTTP_SESSION_${id}`), 0)
    }
    const custom = createAiohttpRedisStore(client, { idFormat: /^sess-[0-9]+$/g })
    await mustCreate(custom, record({ id: 'sess-42' }))
    await mustCreate(custom, record({ id: 'sess-43' })) // a g flag keeps no state
    // Ids are stored as they are, so the ids must be random: pythonServerStorageOptions.
    assert.equal(pythonServerStorageOptions.hashIds, false)
    assert.match(pythonServerStorageOptions.generateId(), /^[0-9a-f]{32}$/)
    assert.notEqual(
      pythonServerStorageOptions.generateId(),
      pythonServerStorageOptions.generateId(),
    )
  })

  it('creates over a key that holds no live session ({}, not JSON, expired)', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createAiohttpRedisStore(client, { maxAge: 60 })
    const old = Math.floor(Date.now() / 1000) - 120
    for (const value of ['{}', 'not json', `{"created": ${old}, "session": {"a": 1}}`]) {
      const stored = record()
      await client.set(`AIOHTTP_SESSION_${stored.id}`, value, { EX: 600 })
      assert.equal(await store.get(stored.id), null, value)
      assert.deepEqual(await store.patch(stored.id, touchPatch()), { ok: false, reason: 'gone' })
      await mustCreate(store, stored)
      assertSameRecord(await store.get(stored.id), stored)
    }
    const live = record()
    await client.set(`AIOHTTP_SESSION_${live.id}`, `{"created": ${old + 100}, "session": {}}`)
    assert.deepEqual(await store.create(live), { ok: false, reason: 'exists' })
  })

  it('a patch that races another writer starts again on what that writer wrote', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const stored = record()
    const key = `AIOHTTP_SESSION_${stored.id}`
    await mustCreate(createAiohttpRedisStore(client), stored)
    // aiohttp-session rewrites the session between the store's read and its write.
    const python = `{"created": ${Math.floor(Date.now() / 1000)}, "session": {"user": "ann", "python": 1}}`
    const store = createAiohttpRedisStore(
      racing(client, key, () => client.set(key, python, { EX: 600 })),
    )
    const result = await store.patch(stored.id, touchPatch({ set: { 'd:late': 'true' } }))
    assert.deepEqual(result, { ok: true, version: 2 }, "Python's value reads as version 1")
    const fields = (await store.get(stored.id))?.fields
    assert.deepEqual(fields, { 'd:user': '"ann"', 'd:python': '1', 'd:late': 'true' })
  })
})

describe('starsessions redis store on a real Redis', () => {
  it('keeps starsessions.<id>, encrypted bytes as they are, EX to the deadline', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const key = new Uint8Array(32).fill(3)
    const store = createStarsessionsRedisStore(client, {
      encryptor: createAesGcmEncryptor({ keys: [key] }),
    })
    const stored = record()
    await mustCreate(store, stored)
    const redisKey = `starsessions.${stored.id}`
    const bytes = (await client.withTypeMapping({ 36: Buffer }).get(redisKey)) as Buffer
    assert.ok(Buffer.isBuffer(bytes))
    assert.ok(!bytes.includes('ann'), 'encrypted')
    assert.ok(Math.abs((await client.ttl(redisKey)) - 3600) <= 1)
    assertSameRecord(await store.get(stored.id), stored)
    const patched = await store.patch(stored.id, touchPatch({ set: { 'd:x': '[1, 2]' } }))
    assert.deepEqual(patched, { ok: true, version: 2 })
    // A custom prefix, and no encryption: the JSON itself.
    const plain = createStarsessionsRedisStore(client, { prefix: 'app:sess:' })
    const other = record()
    await mustCreate(plain, other)
    assert.match(
      (await client.get(`app:sess:${other.id}`)) as string,
      /^\{"user": "ann", "__metadata__": \{"lifetime": 0, "created": \d+\.\d+, "last_access": /,
    )
  })

  it('a patch that races starsessions starts again on its write, keeping the section', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const stored = record()
    const key = `starsessions.${stored.id}`
    await mustCreate(createStarsessionsRedisStore(client), stored)
    const written = (await client.get(key)) as string
    // starsessions loads, sets a key and saves (new last_access) in between.
    const python = written
      .replace('{"user": "ann", ', '{"user": "ann", "python": 1, ')
      .replace(/"last_access": [0-9.]+/, `"last_access": ${Date.now() / 1000 + 1}`)
    const store = createStarsessionsRedisStore(
      racing(client, key, () => client.set(key, python, { EX: 600 })),
    )
    const result = await store.patch(stored.id, touchPatch({ set: { 'd:late': 'true' } }))
    assert.deepEqual(result, { ok: true, version: 3 }, 'the Python write counts as a version')
    const fields = (await store.get(stored.id))?.fields
    assert.deepEqual(fields, {
      'f:notice': '"hi"',
      m: '1800',
      'd:user': '"ann"',
      'd:python': '1',
      'd:late': 'true',
    })
  })

  it('rejects invalid options with ERR_SESSION_CONFIG', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const invalid: unknown[] = [
      { lifetime: -1 },
      { lifetime: 1.5 },
      { gcTtl: 0 },
      { rolling: 'yes' },
      { prefix: 'x'.repeat(129) },
      { encryptor: {} },
      { timeout: 0 },
      { casAttempts: 0 },
      { idFormat: '^[0-9a-f]{32}$' },
    ]
    for (const options of invalid) {
      assert.throws(() => createStarsessionsRedisStore(client, options as never), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
    for (const options of [
      { cookieName: 'a b' },
      { cookieName: 'a;b' },
      { cookieName: '' },
      { maxAge: 0 },
      { maxAge: 1.5 },
    ]) {
      assert.throws(() => createAiohttpRedisStore(client, options as never), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
    for (const bad of [null, {}, { get() {} }, 'redis://127.0.0.1']) {
      assert.throws(() => createAiohttpRedisStore(bad as never), { code: 'ERR_SESSION_CONFIG' })
      assert.throws(() => createStarsessionsRedisStore(bad as never), {
        code: 'ERR_SESSION_CONFIG',
      })
    }
    assert.throws(() => createAesGcmEncryptor({ keys: [new Uint8Array(20)] }), {
      code: 'ERR_SESSION_CONFIG',
    })
  })
})

describe('aiohttp-session memcached store on a real memcached', () => {
  async function memcached(t: TestContext) {
    const server = await startMemcached(t)
    if (server === null) return null
    const client = new MemcacheClient({ server: server.url })
    clients.push(client)
    return { server, client }
  }

  it('keeps <cookieName>_<id> with the 30-day exptime rule', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store: SessionStore = createAiohttpMemcachedStore(found.client, { cookieName: 'MC' })
    const soon = record()
    await mustCreate(store, soon)
    const value = (await found.client.get<string>(`MC_${soon.id}`))?.value
    assert.match(String(value), /^\{"created": \d+, "session": \{"user": "ann"\}, "sessionware": /)
    const ttl = await ttlOf(found.server, `MC_${soon.id}`)
    assert.ok(ttl !== null && Math.abs(ttl - 3600) <= 2, `TTL ${ttl}`)
    const far = record({ expiresAt: Date.now() + 45 * DAY })
    await mustCreate(store, far)
    const farTtl = await ttlOf(found.server, `MC_${far.id}`)
    assert.ok(farTtl !== null && Math.abs(farTtl - 45 * 86400) <= 2, `TTL ${farTtl}`)
    assertSameRecord(await store.get(far.id), far)
  })

  it('never sends an id that cannot be part of a memcached key', async (t) => {
    const found = await memcached(t)
    if (found === null) return
    const store = createAiohttpMemcachedStore(found.client, { idFormat: /[\s\S]*/ })
    for (const id of ['has space', 'ünï', 'x'.repeat(240)]) {
      assert.equal(await store.get(id), null)
      assert.deepEqual(await store.patch(id, touchPatch()), { ok: false, reason: 'gone' })
      await store.delete(id)
      await assert.rejects(store.create(record({ id })), RangeError)
    }
  })

  it('times out a call that memcached never answers', async (t) => {
    const port = await silentServer(t)
    const client = new MemcacheClient({ server: `127.0.0.1:${port}`, cmdTimeout: 30_000 })
    clients.push(client)
    const store = createAiohttpMemcachedStore(client, { timeout: 0.5 })
    const started = Date.now()
    await assert.rejects(
      store.get('a'.repeat(32)),
      /createAiohttpMemcachedStore: get timed out after 0.5 s/,
    )
    assert.ok(Date.now() - started < 2000)
  })
})
