/**
 * Encryption of session data at rest (`createEncryptedSerializer`) over real HTTP, on every server
 * store: memory, SQLite, Redis, memcached, PostgreSQL. What each store receives is recorded on the
 * way in (the real store runs underneath), so the test sees exactly what is kept at rest.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { after, describe, it, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { jsonSerializer } from '../../src/core/serializer.ts'
import type { SessionFields, SessionStore } from '../../src/core/types.ts'
import { createEncryptedSerializer } from '../../src/serializers/encrypted.ts'
import { createMemcachedStore } from '../../src/stores/memcached.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { createPostgresStore } from '../../src/stores/postgres.ts'
import { createRedisStore } from '../../src/stores/redis.ts'
import { createSqliteStore } from '../../src/stores/sqlite.ts'
import { serveLayoutApp } from '../support/layout-app.ts'
import { startMemcached } from '../support/memcached-server.ts'
import { uniqueName } from '../support/postgres-helpers.ts'
import { startPostgres } from '../support/postgres-server.ts'
import { sharedNodeRedis } from '../support/redis-clients.ts'

const SECRET = 'top secret ✓ 🎉'
const KEY_A = 'a'.repeat(16) + randomBytes(16).toString('hex')
const KEY_B = randomBytes(32)
const SEALED = /^[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]+$/
/** Default server storage: hashed ids, generated ids. */
const PLAIN_STORAGE = {}

const closers: Array<() => unknown> = []
after(async () => {
  for (const close of closers.splice(0)) await close()
})

/** The store, and every field text it was given to keep. */
function recording(store: SessionStore): { store: SessionStore; texts: Map<string, string> } {
  const texts = new Map<string, string>()
  const keep = (fields: SessionFields) => {
    for (const [name, text] of Object.entries(fields)) texts.set(name, text)
  }
  return {
    texts,
    store: {
      contractVersion: 2,
      capabilities: store.capabilities,
      get: (id) => store.get(id),
      create: (record) => {
        keep(record.fields)
        return store.create(record)
      },
      replace: (record, version) => {
        keep(record.fields)
        return store.replace(record, version)
      },
      patch: (id, patch) => {
        keep(patch.set)
        return store.patch(id, patch)
      },
      delete: (id) => store.delete(id),
    },
  }
}

const STORES: ReadonlyArray<readonly [string, (t: TestContext) => Promise<SessionStore | null>]> = [
  [
    'memory',
    async (t) => {
      const store = createMemoryStore()
      t.after(() => store.close())
      return store
    },
  ],
  [
    'sqlite',
    async (t) => {
      const store = createSqliteStore(':memory:')
      t.after(() => store.close())
      return store
    },
  ],
  [
    'redis',
    async (t) => {
      const client = await sharedNodeRedis(t)
      return client && createRedisStore(client, { keyPrefix: `enc-${uniqueName('t')}:` })
    },
  ],
  [
    'memcached',
    async (t) => {
      const server = await startMemcached(t)
      if (server === null) return null
      const client = new MemcacheClient({ server: server.url })
      closers.push(() => client.shutdown())
      return createMemcachedStore(client, { keyPrefix: `enc-${uniqueName('t')}:` })
    },
  ],
  [
    'postgres',
    async (t) => {
      const server = await startPostgres(t)
      if (server === null) return null
      const store = createPostgresStore(server.pool(), { table: uniqueName() })
      t.after(() => store.close())
      return store
    },
  ],
]

describe('encryption at rest on every server store', () => {
  for (const [name, make] of STORES) {
    it(`${name}: keeps only sealed data and flash values, and reads them back`, async (t) => {
      const real = await make(t)
      if (real === null) return
      const { store, texts } = recording(real)
      const serializer = createEncryptedSerializer({ keys: [KEY_A] })
      const app = await serveLayoutApp(t, store, {
        cookieName: 'sid',
        serializer,
        storage: PLAIN_STORAGE,
      })
      const written = await app.request('POST', '/write', {
        body: {
          set: { secret: SECRET, nested: { list: [SECRET, 1.5, null] } },
          flash: { n: SECRET },
        },
      })
      const id = written.cookie as string
      await app.request('POST', '/write', { cookie: id, body: { set: { later: SECRET } } })
      const names = [...texts.keys()].filter((field) => /^[df]:/.test(field)).sort()
      assert.deepEqual(names, ['d:later', 'd:nested', 'd:secret', 'f:n'])
      for (const [field, text] of texts) {
        assert.ok(!text.includes('secret') && !text.includes('✓'), `${field} is in the clear`)
        if (/^[df]:/.test(field)) assert.match(text, SEALED, field)
      }
      const read = await app.request('GET', '/read', { cookie: id })
      assert.deepEqual(read.body.data, {
        secret: SECRET,
        nested: { list: [SECRET, 1.5, null] },
        later: SECRET,
      })
      const flash = await app.request('GET', '/flash?key=n', { cookie: id })
      assert.equal(flash.body.flash, SECRET)
    })
  }

  it('rotation: an old key still reads, the first key writes, a retired key no longer reads', async (t) => {
    const store = createMemoryStore()
    t.after(() => store.close())
    const reasons: string[] = []
    const serve = (keys: Array<string | Uint8Array>) =>
      serveLayoutApp(t, store, {
        cookieName: 'sid',
        serializer: createEncryptedSerializer({ keys }),
        storage: PLAIN_STORAGE,
        onInvalidCookie: (reason) => reasons.push(reason),
      })
    const before = await serve([KEY_A])
    const id = (await before.request('POST', '/write', { body: { set: { a: 1, b: 2 } } }))
      .cookie as string

    const rotated = await serve([KEY_B, KEY_A])
    const read = await rotated.request('POST', '/write', { cookie: id, body: { set: { b: 3 } } })
    assert.deepEqual(read.body.data, { a: 1, b: 3 })
    assert.deepEqual(reasons, [])

    // `b` was sealed again with KEY_B, `a` is still under KEY_A: without KEY_A the session is
    // invalid, and the request gets a fresh one (never an error).
    const retired = await serve([KEY_B])
    const fresh = await retired.request('GET', '/read', { cookie: id })
    assert.equal(fresh.status, 200)
    assert.equal(fresh.body.isNew, true)
    assert.notEqual(fresh.body.id, id)
    assert.deepEqual(reasons, ['malformed'])
  })

  it('a tampered value or an unknown key gives a fresh session, never an error', async (t) => {
    const real = createMemoryStore()
    t.after(() => real.close())
    const reasons: string[] = []
    const serializer = createEncryptedSerializer({ keys: [KEY_A] })
    const app = await serveLayoutApp(t, real, {
      cookieName: 'sid',
      serializer,
      storage: { hashIds: false },
      onInvalidCookie: (reason) => reasons.push(reason),
    })
    const id = (await app.request('POST', '/write', { body: { set: { role: 'user' } } }))
      .cookie as string
    const stored = await real.get(id)
    const sealed = stored?.fields['d:role'] as string
    const flipped = sealed.slice(0, -2) + (sealed.at(-2) === 'A' ? 'B' : 'A') + sealed.slice(-1)
    const now = Date.now()
    await real.patch(id, {
      set: { 'd:role': flipped },
      unset: [],
      lastActiveAt: now,
      expiresAt: now + 60_000,
    })
    const tampered = await app.request('GET', '/read', { cookie: id })
    assert.equal(tampered.status, 200)
    assert.equal(tampered.body.isNew, true)

    const id2 = (await app.request('POST', '/write', { body: { set: { role: 'user' } } }))
      .cookie as string
    const other = await serveLayoutApp(t, real, {
      cookieName: 'sid',
      serializer: createEncryptedSerializer({ keys: [KEY_B] }),
      storage: { hashIds: false },
      onInvalidCookie: (reason) => reasons.push(reason),
    })
    const unknown = await other.request('GET', '/read', { cookie: id2 })
    assert.equal(unknown.status, 200)
    assert.equal(unknown.body.isNew, true)
    assert.deepEqual(reasons, ['malformed', 'malformed'])
  })
})

describe('createEncryptedSerializer', () => {
  const serializer = createEncryptedSerializer({ keys: [KEY_A] })

  it('seals each value on its own, with a fresh IV every time', () => {
    const one = serializer.stringify({ user: 'ann' })
    const two = serializer.stringify({ user: 'ann' })
    assert.match(one, SEALED)
    assert.notEqual(one, two)
    assert.equal(one.slice(0, 7), two.slice(0, 7), 'the same key id')
    assert.deepEqual(serializer.parse(one), { user: 'ann' })
    assert.deepEqual(serializer.parse(serializer.stringify(null)), null)
    assert.equal(serializer.parse(serializer.stringify('')), '')
  })

  it('refuses every changed character, a truncation, plaintext and another key', () => {
    const sealed = serializer.stringify({ role: 'admin' })
    const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
    for (let i = 0; i < sealed.length; i++) {
      if (sealed[i] === '.') continue
      const other = digits[(digits.indexOf(sealed[i] as string) + 1) % 64] as string
      const changed = sealed.slice(0, i) + other + sealed.slice(i + 1)
      assert.throws(() => serializer.parse(changed), Error, `character ${i}`)
    }
    for (let end = 1; end < sealed.length; end++) {
      assert.throws(() => serializer.parse(sealed.slice(0, end)), Error, `length ${end}`)
    }
    assert.throws(() => serializer.parse('{"role":"admin"}'), /not sealed/)
    const foreign = createEncryptedSerializer({ keys: [KEY_B] }).stringify({ role: 'admin' })
    assert.throws(() => serializer.parse(foreign), /key that is not configured/)
  })

  it('reads plaintext only when asked to (turning encryption on over existing sessions)', () => {
    const migrating = createEncryptedSerializer({ keys: [KEY_A], acceptPlaintext: true })
    assert.deepEqual(migrating.parse('{"role":"user"}'), { role: 'user' })
    assert.equal(migrating.parse('123456.5'), 123456.5, 'a number that looks like a key id')
    assert.match(migrating.stringify({ role: 'user' }), SEALED, 'writes are always sealed')
    const sealed = migrating.stringify(1)
    assert.throws(() =>
      migrating.parse(`${sealed.slice(0, -1)}${sealed.endsWith('A') ? 'B' : 'A'}`),
    )
  })

  it('seals the text of the serializer it wraps, and uses its own derived key', () => {
    const upper = {
      stringify: (value: unknown) => JSON.stringify(value).toUpperCase(),
      parse: (text: string) => jsonSerializer.parse(text.toLowerCase()),
    }
    const wrapped = createEncryptedSerializer({ keys: [KEY_A], serializer: upper })
    assert.deepEqual(wrapped.parse(wrapped.stringify({ a: 'b' })), { a: 'b' })
    // The sealed cookie codec's AES format with the same key: same key id, another derived key.
    const cookie = createSealedCodec({ keys: [KEY_A], cipher: 'aes-256-gcm' }).encode('{"a":"b"}')
    assert.equal(cookie.slice(0, 7), serializer.stringify(1).slice(0, 7))
    assert.throws(() => serializer.parse(cookie), /tampered/)
  })

  it('rejects invalid options with ERR_SESSION_CONFIG', () => {
    const invalid: unknown[] = [
      undefined,
      {},
      { keys: [] },
      { keys: ['short'] },
      { keys: [new Uint8Array(31)] },
      { keys: [KEY_A, KEY_A] },
      { keys: [42] },
      { keys: [KEY_A], serializer: {} },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createEncryptedSerializer(options as never),
        { code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
  })
})
