import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createServerStorage, createSessions, getSession, newSession } from '../../src/index.ts'
import { createMemoryStore, type MemoryStore } from '../../src/stores/memory.ts'

/** Where the test's store and hosts keep time: the store's clock; a host may run behind it. */
interface World {
  now: number
  store: MemoryStore
}

function world(): World {
  const w = { now: Date.now() } as World
  w.store = createMemoryStore({ clock: () => w.now })
  return w
}

/**
 * A server on the world's memory store with renewal every 60 s and 30 s of grace; its clock runs
 * `behindMs` behind the store's. Routes: `?set=key`, `?regenerate`, `?login` (newSession and
 * `user`), `?logout`, `?wait` (held until the gate opens).
 */
async function serve(
  t: TestContext,
  w: World = world(),
  options: { behindMs?: number; touchAfter?: number } = {},
) {
  const clock = () => w.now - (options.behindMs ?? 0)
  const sessions = createSessions({
    storage: createServerStorage({ store: w.store }),
    renewalInterval: 60,
    renewalGrace: 30,
    idleTimeout: 3600,
    ...(options.touchAfter === undefined ? {} : { touchAfter: options.touchAfter }),
    clock,
  })
  let gate: Promise<void> | null = null
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      let session = await getSession(req)
      if (url.searchParams.has('wait') && gate) await gate
      if (url.searchParams.has('login')) {
        session = await newSession(req)
        session.set('user', true)
      }
      if (url.searchParams.has('regenerate')) session.regenerate()
      if (url.searchParams.has('logout')) session.invalidate()
      const key = url.searchParams.get('set')
      if (key) session.set(key, true)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ id: session.id, isNew: session.isNew, data: session.toJSON() }))
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const call = async (path: string, cookie?: string) => {
    const response = await fetch(`${base}${path}`, { headers: cookie ? { cookie } : {} })
    const set = response.headers.getSetCookie()[0]
    return {
      status: response.status,
      body: (await response.json()) as { id: string; isNew: boolean; data: Record<string, true> },
      cookie: set ? (set.split(';')[0] as string) : undefined,
    }
  }
  return {
    call,
    store: w.store,
    advance: (seconds: number) => {
      w.now += seconds * 1000
    },
    hold: () => {
      let open: () => void = () => {}
      gate = new Promise<void>((resolve) => {
        open = resolve
      })
      return open
    },
  }
}

/** The store key of a cookie (`session=<id>`): SHA-256 of the id, base64url. */
function handleOf(cookie: string): string {
  return createHash('sha256').update(cookie.slice('session='.length)).digest('base64url')
}

describe('renewal', () => {
  it('gives a session a new id after the renewal interval, keeping its data', async (t) => {
    const { call, advance } = await serve(t)
    const first = await call('/?set=a')
    const old = first.cookie as string
    advance(30)
    assert.equal((await call('/', old)).cookie, undefined, 'no renewal before the interval')
    advance(31)
    const renewed = await call('/', old)
    assert.ok(renewed.cookie, 'a read-only request past the interval gets a new cookie')
    assert.notEqual(renewed.cookie, old)
    assert.deepEqual(renewed.body.data, { a: true })
    const again = await call('/', renewed.cookie)
    assert.notEqual(again.body.id, first.body.id)
    assert.equal(`session=${again.body.id}`, renewed.cookie)
    assert.deepEqual(again.body.data, { a: true })
    assert.equal(again.cookie, undefined)
  })

  it('lets the old id read and write the renewed session during the grace window, then kills it', async (t) => {
    const { call, advance } = await serve(t)
    const old = (await call('/?set=a')).cookie as string
    advance(61)
    const fresh = (await call('/', old)).cookie as string
    advance(10)
    const late = await call('/?set=b', old)
    assert.equal(late.body.isNew, false, 'the old id still works within the grace window')
    assert.equal(late.cookie, undefined, 'and never overwrites the new cookie')
    assert.deepEqual((await call('/', fresh)).body.data, { a: true, b: true })
    advance(21)
    const dead = await call('/', old)
    assert.equal(dead.body.isNew, true, 'the old id is dead after the grace window')
    assert.deepEqual((await call('/', fresh)).body.data, { a: true, b: true })
  })

  it('puts a write that loaded the session before it was renewed onto the renewed session', async (t) => {
    const { call, advance, hold } = await serve(t)
    const old = (await call('/?set=a')).cookie as string
    advance(61)
    const open = hold()
    const inFlight = call('/?set=late&wait', old) // loads now, writes after the renewal below
    await new Promise((resolve) => setTimeout(resolve, 50))
    const fresh = (await call('/?set=b', old)).cookie as string
    open()
    const late = await inFlight
    assert.equal(late.cookie, undefined)
    assert.deepEqual((await call('/', fresh)).body.data, { a: true, b: true, late: true })
  })

  it('regenerate through the old id ends both records and sends the new id', async (t) => {
    const { call, advance, store } = await serve(t)
    const old = (await call('/?set=a')).cookie as string
    advance(61)
    const renewed = (await call('/', old)).cookie as string
    advance(5)
    const regenerated = await call('/?regenerate', old) // a second tab still on the old id
    assert.ok(regenerated.cookie, 'the regenerating response carries the new id')
    assert.notEqual(regenerated.cookie, renewed)
    assert.notEqual(regenerated.cookie, old)
    assert.deepEqual(
      (await call('/', regenerated.cookie)).body.data,
      { a: true },
      'still logged in',
    )
    assert.equal(await store.get(handleOf(old)), null, 'the pointer is gone')
    assert.equal(await store.get(handleOf(renewed)), null, 'the renewed record is gone')
    assert.equal((await call('/', renewed)).body.isNew, true)
    assert.equal((await call('/', old)).body.isNew, true)
  })

  it('a login through the old id ends the renewed session too', async (t) => {
    const { call, advance, store } = await serve(t)
    const old = (await call('/?set=previous')).cookie as string
    advance(61)
    const renewed = (await call('/', old)).cookie as string
    advance(5)
    const login = await call('/?login', old)
    assert.ok(login.cookie)
    assert.deepEqual((await call('/', login.cookie)).body.data, { user: true })
    assert.equal(await store.get(handleOf(renewed)), null, "the previous user's session is gone")
    const stale = await call('/', renewed)
    assert.equal(stale.body.isNew, true)
    assert.deepEqual(stale.body.data, {})
    assert.equal((await call('/', old)).body.isNew, true)
  })

  it('a logout through the old id ends both records', async (t) => {
    const { call, advance, store } = await serve(t)
    const old = (await call('/?set=a')).cookie as string
    advance(61)
    const renewed = (await call('/', old)).cookie as string
    const logout = await call('/?logout', old)
    assert.match(logout.cookie ?? '', /^session=$/)
    assert.equal(await store.get(handleOf(renewed)), null)
    assert.equal(await store.get(handleOf(old)), null)
  })

  it('never extends the pointer, even from a host whose clock runs 2 s behind', async (t) => {
    const w = world()
    const a = await serve(t, w)
    const b = await serve(t, w, { behindMs: 2000, touchAfter: 0 }) // touches on every request
    const old = (await a.call('/?set=a')).cookie as string
    a.advance(61)
    const renewed = (await a.call('/', old)).cookie as string
    const pointer = await w.store.get(handleOf(old))
    assert.equal(pointer?.movedTo, handleOf(renewed))
    const graceEnds = pointer?.expiresAt as number
    assert.equal(graceEnds, w.now + 30_000)
    for (let i = 0; i < 5; i++) {
      a.advance(5)
      const touched = await b.call(i % 2 === 0 ? '/' : `/?set=b${i}`, old)
      assert.equal(touched.status, 200)
      assert.equal(touched.cookie, undefined)
      assert.equal((await w.store.get(handleOf(old)))?.expiresAt, graceEnds, `request ${i}`)
    }
    a.advance(6) // 31 s after the renewal by the store's clock, 29 s by host b's
    assert.equal((await b.call('/', old)).body.isNew, true, 'the old id is dead on host b too')
    assert.equal((await a.call('/', old)).body.isNew, true)
    assert.deepEqual((await a.call('/', renewed)).body.data, { a: true, b1: true, b3: true })
  })

  it('a write that loaded before the renewal goes to the renewed record, not onto the pointer', async (t) => {
    const { call, advance, hold, store } = await serve(t)
    const old = (await call('/?set=a')).cookie as string
    advance(61)
    const open = hold()
    const inFlight = call('/?set=late&wait', old)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const renewed = (await call('/', old)).cookie as string
    const graceEnds = (await store.get(handleOf(old)))?.expiresAt
    open()
    assert.equal((await inFlight).cookie, undefined)
    assert.equal((await store.get(handleOf(old)))?.expiresAt, graceEnds)
    assert.deepEqual((await call('/', renewed)).body.data, { a: true, late: true })
  })

  it('rejects renewal options that are not positive numbers', () => {
    const storage = createServerStorage({ store: createMemoryStore() })
    assert.throws(() => createSessions({ storage, renewalInterval: 0 }), {
      code: 'ERR_SESSION_CONFIG',
    })
    assert.throws(() => createSessions({ storage, renewalGrace: -1 }), {
      code: 'ERR_SESSION_CONFIG',
    })
  })
})
