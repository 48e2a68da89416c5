/**
 * starsessions' Redis layout against Python, both ways: starsessions' load and save (built from
 * json, cryptography and redis as starsessions does them) write, sessionware reads the same data
 * over HTTP, and the other way round; with no encryptor, Fernet and AES-GCM; wrong keys, tampered
 * and expired values refused on both sides.
 */
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
import { starsessionsCompat } from '../../src/compat/starsessions.ts'
import { pythonJsonStringify } from '../../src/lib/python-json.ts'
import {
  createAesGcmEncryptor,
  createFernetEncryptor,
  createStarsessionsRedisStore,
  type PayloadEncryptor,
  pythonSessionId,
} from '../../src/stores/starsessions-redis.ts'
import { serveLayoutApp } from '../support/layout-app.ts'
import { requirePython } from '../support/python.ts'
import {
  INTEROP_DATA as DATA,
  type PythonEncryptor,
  runStarsessions,
  type StarsessionsLoad,
  type StarsessionsStep,
} from '../support/python-layouts.ts'
import { sharedNodeRedis } from '../support/redis-clients.ts'
import { sharedRedis } from '../support/redis-server.ts'

const LIFETIME = 3600
const HEX32 = /^[0-9a-f]{32}$/

/** One key of each kind, as TypeScript and Python take it. */
interface Kind {
  readonly name: string
  /** A fresh key: the TS encryptor (first key writes) and the Python encryptor of the same key. */
  key(): {
    ts: (...older: Uint8Array[]) => PayloadEncryptor
    python: PythonEncryptor
    raw: Uint8Array
  }
}

const fernetText = (raw: Uint8Array): string => `${Buffer.from(raw).toString('base64url')}=`

const KINDS: Array<Kind | null> = [
  null,
  {
    name: 'fernet',
    key() {
      const raw = randomBytes(32)
      return {
        raw,
        ts: (...older) => createFernetEncryptor({ keys: [raw, ...older] }),
        python: { kind: 'fernet', key: fernetText(raw) },
      }
    },
  },
  {
    name: 'aes-gcm',
    key() {
      const raw = randomBytes(32)
      return {
        raw,
        ts: (...older) => createAesGcmEncryptor({ keys: [raw, ...older] }),
        python: { kind: 'aes-gcm', key: Buffer.from(raw).toString('hex') },
      }
    },
  },
]

let prefixes = 0

async function setup(t: TestContext, encryptor: PayloadEncryptor | undefined) {
  if (!requirePython(t, 'redis', 'cryptography')) return null
  const server = await sharedRedis(t)
  const client = await sharedNodeRedis(t)
  if (server === null || client === null) return null
  const prefix = `starsessions.T${++prefixes}.`
  const store = createStarsessionsRedisStore(client, { prefix, lifetime: LIFETIME, encryptor })
  const app = await serveLayoutApp(t, store, {
    cookieName: 'session',
    absoluteTimeout: LIFETIME,
    idleTimeout: null,
  })
  const python = (steps: StarsessionsStep[], pythonEncryptor?: PythonEncryptor) =>
    runStarsessions({
      port: server.port,
      prefix,
      lifetime: LIFETIME,
      steps,
      ...(pythonEncryptor ? { encryptor: pythonEncryptor } : {}),
    })
  return { client, prefix, store, app, python }
}

for (const kind of KINDS) {
  const label = kind?.name ?? 'no encryptor'
  describe(`starsessions redis layout against Python starsessions (${label})`, () => {
    it('Python writes, sessionware reads the same data', async (t) => {
      const key = kind?.key()
      const s = await setup(t, key?.ts())
      if (s === null) return
      const id = pythonSessionId()
      s.python([{ op: 'request', id, set: DATA }], key?.python)
      const read = await s.app.request('GET', '/read', { cookie: id })
      assert.deepEqual(read.body, { id, isNew: false, data: DATA })
    })

    it('sessionware writes, Python reads the same data; its writes keep the flash', async (t) => {
      const key = kind?.key()
      const s = await setup(t, key?.ts())
      if (s === null) return
      const written = await s.app.request('POST', '/write', {
        body: { set: DATA, flash: { notice: 'saved ✓' } },
      })
      const id = written.cookie as string
      assert.match(id, HEX32)
      const ttl = await s.client.ttl(`${s.prefix}${id}`)
      assert.ok(ttl > LIFETIME - 5 && ttl <= LIFETIME, `TTL ${ttl}`)
      const [loaded] = s.python(
        [{ op: 'request', id, set: { python: [1, { two: 2.5 }] } }],
        key?.python,
      ) as [StarsessionsLoad]
      assert.equal(loaded.dumps, pythonJsonStringify(DATA))
      assert.equal(loaded.metadata.lifetime, LIFETIME)
      assert.equal(typeof loaded.metadata.created, 'number')
      assert.ok(loaded.metadata.sessionware, 'the section is metadata, never data')

      const read = await s.app.request('GET', '/read', { cookie: id })
      assert.equal(read.body.isNew, false)
      assert.deepEqual(read.body.data, { ...DATA, python: [1, { two: 2.5 }] })
      // starsessions wrote the metadata back with the section in it: the flash value survived.
      const flash = await s.app.request('GET', '/flash?key=notice', { cookie: id })
      assert.equal(flash.body.flash, 'saved ✓')
      const [again] = s.python([{ op: 'request', id }], key?.python) as [StarsessionsLoad]
      assert.equal(again.dumps, pythonJsonStringify({ ...DATA, python: [1, { two: 2.5 }] }))
    })

    it('the shortest program, starsessionsCompat({ store, lifetime }), shares sessions both ways', async (t) => {
      const key = kind?.key()
      const s = await setup(t, key?.ts())
      if (s === null) return
      const app = await serveLayoutApp(t, s.store, {
        cookieName: 'session',
        sessions: starsessionsCompat({ store: s.store, lifetime: LIFETIME }),
      })
      const id = pythonSessionId()
      s.python([{ op: 'request', id, set: DATA }], key?.python)
      const read = await app.request('POST', '/write', { cookie: id, body: { set: { ts: 1 } } })
      assert.deepEqual(read.body, { id, isNew: false, data: { ...DATA, ts: 1 } })
      const [loaded] = s.python([{ op: 'request', id }], key?.python) as [StarsessionsLoad]
      assert.equal(loaded.dumps, pythonJsonStringify({ ...DATA, ts: 1 }))
    })

    it("sessionware's logout deletes the key; Python's empty session does too", async (t) => {
      const key = kind?.key()
      const s = await setup(t, key?.ts())
      if (s === null) return
      const written = await s.app.request('POST', '/write', { body: { set: { user: 'ann' } } })
      const id = written.cookie as string
      await s.app.request('POST', '/invalidate', { cookie: id })
      assert.equal(await s.client.exists(`${s.prefix}${id}`), 0)
      const [loaded] = s.python([{ op: 'request', id }], key?.python) as [StarsessionsLoad]
      assert.deepEqual(loaded.data, {})

      const other = pythonSessionId()
      s.python(
        [
          { op: 'request', id: other, set: { user: 'bob' } },
          { op: 'request', id: other, delete: ['user'] },
        ],
        key?.python,
      )
      assert.equal(await s.client.exists(`${s.prefix}${other}`), 0)
      const read = await s.app.request('GET', '/read', { cookie: other })
      assert.equal(read.body.isNew, true)
    })

    it('a session past its lifetime is refused on both sides', async (t) => {
      const key = kind?.key()
      const s = await setup(t, key?.ts())
      if (s === null) return
      const id = pythonSessionId()
      // Written two lifetimes ago: starsessions gives it a TTL of max(1, negative) = 1 second.
      const created = Date.now() / 1000 - 2 * LIFETIME
      s.python([{ op: 'write', id, data: { user: 'ann' }, created }], key?.python)
      const read = await s.app.request('GET', '/read', { cookie: id })
      assert.equal(read.body.isNew, true)
      assert.notEqual(read.body.id, id)
      // sessionware's own session with a deadline in 1.5 s: Redis drops it, Python finds nothing.
      const mine = pythonSessionId()
      const now = Date.now()
      await s.store.create({
        id: mine,
        fields: { 'd:user': '"bob"' },
        version: 1,
        createdAt: now,
        lastActiveAt: now,
        expiresAt: now + 1500,
      })
      await new Promise((resolve) => setTimeout(resolve, 2600))
      const loads = s.python(
        [
          { op: 'request', id },
          { op: 'request', id: mine },
        ],
        key?.python,
      ) as StarsessionsLoad[]
      assert.deepEqual(
        loads.map((load) => load.data),
        [{}, {}],
      )
      assert.equal((await s.app.request('GET', '/read', { cookie: mine })).body.isNew, true)
    })

    if (kind === null) return

    it('a wrong key or a tampered value is refused on both sides; an older key still reads', async (t) => {
      const ours = kind.key()
      const theirs = kind.key()
      const s = await setup(t, ours.ts())
      if (s === null) return
      // Python with another key: sessionware cannot open it.
      const pythonId = pythonSessionId()
      s.python([{ op: 'request', id: pythonId, set: { user: 'ann' } }], theirs.python)
      const refused = await s.app.request('GET', '/read', { cookie: pythonId })
      assert.equal(refused.body.isNew, true)
      assert.notEqual(refused.body.id, pythonId)
      // sessionware's session read by Python with another key: empty, as starsessions does.
      const written = await s.app.request('POST', '/write', { body: { set: { user: 'bob' } } })
      const id = written.cookie as string
      const [wrongKey] = s.python([{ op: 'request', id }], theirs.python) as [StarsessionsLoad]
      assert.deepEqual(wrongKey.data, {})

      // Rotation: a store whose first key is new and second is Python's reads Python's session
      // and writes with the new key, which Python (given the new key) reads.
      const rotated = await setup(t, kind.key().ts(ours.raw))
      if (rotated === null) return
      const rotatedId = pythonSessionId()
      rotated.python([{ op: 'request', id: rotatedId, set: { user: 'cy' } }], ours.python)
      const opened = await rotated.app.request('POST', '/write', {
        cookie: rotatedId,
        body: { set: { seen: true } },
      })
      assert.deepEqual(opened.body.data, { user: 'cy', seen: true })
      const [old] = rotated.python([{ op: 'request', id: rotatedId }], ours.python) as [
        StarsessionsLoad,
      ]
      assert.deepEqual(old.data, {}, 'rewritten with the new key, which the old one cannot open')

      // Tampered: one byte of the stored value changed.
      const tamperedId = pythonSessionId()
      s.python([{ op: 'request', id: tamperedId, set: { user: 'dee' } }], ours.python)
      const storedKey = `${s.prefix}${tamperedId}`
      const stored = Buffer.from(
        (await s.client.withTypeMapping({ 36: Buffer }).get(storedKey)) as Buffer,
      )
      const middle = Math.floor(stored.length / 2)
      stored[middle] = (stored[middle] as number) ^ 1
      await s.client.set(storedKey, stored, { EX: 600 })
      const tampered = await s.app.request('GET', '/read', { cookie: tamperedId })
      assert.equal(tampered.body.isNew, true)
      const [python] = s.python([{ op: 'request', id: tamperedId }], ours.python) as [
        StarsessionsLoad,
      ]
      assert.deepEqual(python.data, {})
    })
  })
}
