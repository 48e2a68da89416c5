import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createSessions, getSession, createServerStorage } from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

/** A server on a memory store whose clock the test moves; renewal every 60 s, 30 s of grace. */
async function serve(t: TestContext) {
  let now = Date.now()
  const clock = () => now
  const store = createMemoryStore({ clock })
  const sessions = createSessions({
    storage: createServerStorage({ store }),
    renewalInterval: 60,
    renewalGrace: 30,
    idleTimeout: 3600,
    clock,
  })
  let gate: Promise<void> | null = null
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const session = await getSession(req)
      if (url.searchParams.has('wait') && gate) await gate
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
      body: (await response.json()) as { id: string; isNew: boolean; data: Record<string, true> },
      cookie: set ? (set.split(';')[0] as string) : undefined,
    }
  }
  return {
    call,
    store,
    advance: (seconds: number) => {
      now += seconds * 1000
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

  it('replays a write that loaded the session before it was renewed onto the renewed session', async (t) => {
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
