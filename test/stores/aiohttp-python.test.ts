/**
 * aiohttp-session's Redis and memcached layouts against the real Python package, both ways: a real
 * aiohttp application with aiohttp-session's own RedisStorage / MemcachedStorage writes, sessionware
 * reads the same data over HTTP, and the other way round; then the rejections on both sides.
 */
import assert from 'node:assert/strict'
import { after, describe, it, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import { aiohttpCompat } from '../../src/compat/aiohttp.ts'
import type { SessionStore } from '../../src/core/types.ts'
import { pythonJsonStringify } from '../../src/lib/python-json.ts'
import { createAiohttpMemcachedStore } from '../../src/stores/aiohttp-memcached.ts'
import { createAiohttpRedisStore } from '../../src/stores/aiohttp-redis.ts'
import { serveLayoutApp } from '../support/layout-app.ts'
import { startMemcached, ttlOf } from '../support/memcached-server.ts'
import { requirePython } from '../support/python.ts'
import {
  type AiohttpStep,
  aiohttpCookie,
  INTEROP_DATA as DATA,
  runAiohttp,
} from '../support/python-layouts.ts'
import { sharedNodeRedis } from '../support/redis-clients.ts'
import { sharedRedis } from '../support/redis-server.ts'

const HEX32 = /^[0-9a-f]{32}$/
const MAX_AGE = 3600

/** Raw access to the backend's values, for a layout check or to plant a value. */
interface Raw {
  get(key: string): Promise<string | null>
  set(key: string, value: string): Promise<void>
  ttl(key: string): Promise<number | null>
}

interface Backend {
  readonly name: 'redis' | 'memcached'
  readonly port: number
  readonly store: SessionStore
  readonly raw: Raw
}

const memcacheClients: MemcacheClient[] = []
after(() => {
  for (const client of memcacheClients) client.shutdown()
})

async function redisBackend(t: TestContext, cookieName: string): Promise<Backend | null> {
  const server = await sharedRedis(t)
  const client = await sharedNodeRedis(t)
  if (server === null || client === null) return null
  return {
    name: 'redis',
    port: server.port,
    store: createAiohttpRedisStore(client, { cookieName, maxAge: MAX_AGE }),
    raw: {
      get: (key) => client.get(key),
      set: async (key, value) => {
        await client.set(key, value, { EX: 600 })
      },
      ttl: (key) => client.ttl(key),
    },
  }
}

async function memcachedBackend(t: TestContext, cookieName: string): Promise<Backend | null> {
  const server = await startMemcached(t)
  if (server === null) return null
  const client = new MemcacheClient({ server: server.url })
  memcacheClients.push(client)
  return {
    name: 'memcached',
    port: server.port,
    store: createAiohttpMemcachedStore(client, { cookieName, maxAge: MAX_AGE }),
    raw: {
      get: async (key) => ((await client.get<string>(key))?.value as string | undefined) ?? null,
      set: async (key, value) => {
        await client.set(key, value, { lifetime: 600 })
      },
      ttl: (key) => ttlOf(server, key),
    },
  }
}

const BACKENDS = [
  ['redis', redisBackend],
  ['memcached', memcachedBackend],
] as const

/** A cookie name per test, so tests never see each other's keys. */
let names = 0
const cookieName = (): string => `AIOHTTP_SESSION_T${++names}`

async function setup(t: TestContext, make: (typeof BACKENDS)[number][1]) {
  if (!requirePython(t, 'aiohttp', 'aiohttp_session', 'redis', 'pymemcache')) return null
  const name = cookieName()
  const backend = await make(t, name)
  if (backend === null) return null
  const app = await serveLayoutApp(t, backend.store, { cookieName: name, idleTimeout: MAX_AGE })
  const python = (steps: AiohttpStep[]) =>
    runAiohttp({
      backend: backend.name,
      port: backend.port,
      cookieName: name,
      maxAge: MAX_AGE,
      steps,
    })
  return { name, backend, app, python }
}

for (const [label, make] of BACKENDS) {
  describe(`aiohttp-session ${label} layout against Python aiohttp-session`, () => {
    it('Python writes, sessionware reads the same data', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const [written] = s.python([{ method: 'POST', path: '/write', body: { set: DATA } }])
      assert.ok(written)
      const id = aiohttpCookie(written, s.name)
      assert.match(id ?? '', HEX32)
      // The value is Python's json.dumps of {"created", "session"}, which pythonJsonStringify matches.
      const raw = await s.backend.raw.get(`${s.name}_${id}`)
      assert.equal(
        raw,
        `{"created": ${written.body.created}, "session": ${pythonJsonStringify(DATA)}}`,
      )
      const read = await s.app.request('GET', '/read', { cookie: id })
      assert.deepEqual(read.body, { id, isNew: false, data: DATA })
    })

    it('sessionware writes, Python reads the same data', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const before = Math.floor(Date.now() / 1000)
      const written = await s.app.request('POST', '/write', {
        body: { set: DATA, flash: { notice: 'saved ✓' } },
      })
      const id = written.cookie
      assert.match(id ?? '', HEX32)
      const key = `${s.name}_${id}`
      const raw = (await s.backend.raw.get(key)) ?? ''
      const created = Number(/^\{"created": (\d+), /.exec(raw)?.[1])
      assert.ok(created >= before && created <= before + 2, raw)
      // Byte for byte what aiohttp-session writes, then the section it ignores.
      const prefix = `{"created": ${created}, "session": ${pythonJsonStringify(DATA)}, "sessionware": {`
      assert.equal(raw.slice(0, prefix.length), prefix)
      assert.match(raw.slice(prefix.length), /"flash": \{"notice": "saved \\u2713"\}/)
      const ttl = (await s.backend.raw.ttl(key)) ?? 0
      assert.ok(ttl > MAX_AGE - 5 && ttl <= MAX_AGE + 1, `TTL ${ttl}`)

      const [read] = s.python([{ method: 'GET', path: '/read', cookie: id }])
      assert.equal(read?.body.identity, id)
      assert.equal(read?.body.new, false)
      assert.equal(read?.body.created, created)
      assert.equal(read?.body.dumps, pythonJsonStringify(DATA))
      assert.deepEqual(read?.setCookie, [], 'a read does not write')
      // aiohttp-session left the value alone on a read: sessionware still has its flash value.
      const flash = await s.app.request('GET', '/flash?key=notice', { cookie: id })
      assert.equal(flash.body.flash, 'saved ✓')
    })

    it('each side changes what the other wrote; untouched values keep their Python bytes', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const [first] = s.python([
        {
          method: 'POST',
          path: '/write',
          body: { setJson: { big: '12345678901234567890', whole: '2.0', keep: '"x"' } },
        },
      ])
      const id = aiohttpCookie(first as NonNullable<typeof first>, s.name)
      const key = `${s.name}_${id}`
      assert.match(
        (await s.backend.raw.get(key)) ?? '',
        /"big": 12345678901234567890, "whole": 2.0,/,
      )

      const changed = await s.app.request('POST', '/write', {
        cookie: id,
        body: { set: { added: 'sessionware ✓' }, delete: ['keep'], flash: { notice: 'n' } },
      })
      assert.equal(changed.body.id, id)
      assert.equal(changed.body.data.whole, 2)

      const [read, again] = s.python([
        { method: 'GET', path: '/read', cookie: id },
        { method: 'POST', path: '/write', cookie: id, body: { set: { python: [1, { two: 2 }] } } },
      ])
      // sessionware never rewrote the values it did not change: Python gets its int and float back.
      assert.equal(
        read?.body.dumps,
        '{"big": 12345678901234567890, "whole": 2.0, "added": "sessionware \\u2713"}',
      )
      assert.equal(again?.body.identity, id)

      const final = await s.app.request('GET', '/read', { cookie: id })
      assert.equal(final.body.isNew, false)
      assert.deepEqual(Object.keys(final.body.data), ['big', 'whole', 'added', 'python'])
      assert.deepEqual(final.body.data.python, [1, { two: 2 }])
      // aiohttp-session wrote the session without the section: the flash value is gone.
      assert.ok(!((await s.backend.raw.get(key)) ?? '').includes('"sessionware"'))
      const flash = await s.app.request('GET', '/flash?key=notice', { cookie: id })
      assert.equal(flash.body.flash, null)
    })

    it("aiohttp's logout ({}) and sessionware's logout end the session on both sides", async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const [written] = s.python([
        { method: 'POST', path: '/write', body: { set: { user: 'ann' } } },
      ])
      const id = aiohttpCookie(written as NonNullable<typeof written>, s.name) as string
      const [invalidated] = s.python([{ method: 'POST', path: '/invalidate', cookie: id }])
      assert.equal(aiohttpCookie(invalidated as NonNullable<typeof invalidated>, s.name), '')
      assert.equal(await s.backend.raw.get(`${s.name}_${id}`), '{}')
      const afterPython = await s.app.request('GET', '/read', { cookie: id })
      assert.equal(afterPython.body.isNew, true)
      assert.notEqual(afterPython.body.id, id)
      assert.deepEqual(afterPython.body.data, {})

      const mine = await s.app.request('POST', '/write', { body: { set: { user: 'bob' } } })
      const myId = mine.cookie as string
      const out = await s.app.request('POST', '/invalidate', { cookie: myId })
      assert.equal(out.cookie, '')
      assert.equal(
        await s.backend.raw.get(`${s.name}_${myId}`),
        null,
        'sessionware deletes the key',
      )
      const [read] = s.python([{ method: 'GET', path: '/read', cookie: myId }])
      assert.equal(read?.body.identity, null)
      assert.equal(read?.body.new, true)
      assert.deepEqual(read?.body.data, {})
    })

    it('the shortest program, aiohttpCompat({ store, maxAge }), shares sessions both ways', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const app = await serveLayoutApp(t, s.backend.store, {
        cookieName: s.name,
        sessions: aiohttpCompat({ store: s.backend.store, maxAge: MAX_AGE, cookieName: s.name }),
      })
      const written = await app.request('POST', '/write', { body: { set: DATA } })
      const id = written.cookie as string
      assert.match(id, HEX32)
      const [read, changed] = s.python([
        { method: 'GET', path: '/read', cookie: id },
        { method: 'POST', path: '/write', cookie: id, body: { set: { python: true } } },
      ])
      assert.equal(read?.body.dumps, pythonJsonStringify(DATA))
      assert.equal(changed?.body.identity, id)
      const again = await app.request('GET', '/read', { cookie: id })
      assert.deepEqual(again.body.data, { ...DATA, python: true })
    })

    it("sessionware's regenerate moves the session to a new id for Python too", async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const [written] = s.python([
        { method: 'POST', path: '/write', body: { set: { user: 'ann' } } },
      ])
      const id = aiohttpCookie(written as NonNullable<typeof written>, s.name) as string
      const moved = await s.app.request('POST', '/regenerate', { cookie: id })
      const next = moved.cookie as string
      assert.match(next, HEX32)
      assert.notEqual(next, id)
      const [old, current] = s.python([
        { method: 'GET', path: '/read', cookie: id },
        { method: 'GET', path: '/read', cookie: next },
      ])
      assert.equal(old?.body.identity, null, 'the old id is gone')
      assert.deepEqual(current?.body.data, { user: 'ann' })
      assert.equal(current?.body.identity, next)
    })

    it('an expired session is refused on both sides', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      // Python wrote it two max_ages ago.
      const pythonId = 'a'.repeat(32)
      const old = Math.floor(Date.now() / 1000) - 2 * MAX_AGE
      await s.backend.raw.set(
        `${s.name}_${pythonId}`,
        `{"created": ${old}, "session": {"user": "ann"}}`,
      )
      // sessionware last touched this one two max_ages ago.
      const mineId = 'b'.repeat(32)
      const then = Date.now() - 2 * MAX_AGE * 1000
      await s.backend.store.create({
        id: mineId,
        fields: { 'd:user': '"bob"' },
        version: 1,
        createdAt: then,
        lastActiveAt: then,
        expiresAt: Date.now() + 60_000,
      })
      for (const id of [pythonId, mineId]) {
        const read = await s.app.request('GET', '/read', { cookie: id })
        assert.equal(read.body.isNew, true, id)
        assert.notEqual(read.body.id, id)
        assert.deepEqual(read.body.data, {})
        const [python] = s.python([{ method: 'GET', path: '/read', cookie: id }])
        // aiohttp-session drops an expired session's data (and keeps the id, as it does).
        assert.deepEqual(python?.body.data, {}, id)
      }
    })

    it('a value that is not JSON is no session here (aiohttp keeps the id with no data)', async (t) => {
      const s = await setup(t, make)
      if (s === null) return
      const id = 'c'.repeat(32)
      await s.backend.raw.set(`${s.name}_${id}`, 'not json')
      const read = await s.app.request('GET', '/read', { cookie: id })
      assert.equal(read.body.isNew, true)
      assert.notEqual(read.body.id, id, 'the planted id is not adopted')
      const [python] = s.python([{ method: 'GET', path: '/read', cookie: id }])
      assert.equal(python?.body.identity, id)
      assert.deepEqual(python?.body.data, {})
    })
  })
}
