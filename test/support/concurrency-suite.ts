import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import {
  createServerStorage,
  createSessions,
  getSession,
  type SessionStore,
} from '../../src/index.ts'

/**
 * A server whose routes set one key, read everything, or log out; `gate` delays the `slow`
 * handlers after their load, and `onLoaded` hears that a slow handler has loaded.
 */
async function serve(
  t: TestContext,
  store: SessionStore,
  gate?: Promise<void>,
  onLoaded?: () => void,
) {
  const sessions = createSessions({ storage: createServerStorage({ store }) })
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      const session = await getSession(req)
      if (gate && url.searchParams.has('slow')) {
        onLoaded?.()
        await gate
      }
      // Hold every writer between its load and its write, so that all of them load the same version.
      if (url.searchParams.has('hold')) await new Promise((resolve) => setTimeout(resolve, 20))
      if (url.pathname === '/set') {
        session.set(url.searchParams.get('key') as string, true)
      } else if (url.pathname === '/logout') {
        session.invalidate()
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(session.toJSON()))
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const first = await fetch(`${base}/set?key=start`)
  const cookie = (first.headers.getSetCookie()[0] ?? '').split(';')[0] as string
  return { base, cookie }
}

async function fiftyWriters(t: TestContext, store: SessionStore): Promise<void> {
  const { base, cookie } = await serve(t, store)
  const keys = Array.from({ length: 50 }, (_, i) => `k${i}`)
  const responses = await Promise.all(
    keys.map((key) => fetch(`${base}/set?key=${key}&hold`, { headers: { cookie } })),
  )
  assert.deepEqual(
    responses.map((r) => r.status),
    keys.map(() => 200),
  )
  const data = await (await fetch(`${base}/get`, { headers: { cookie } })).json()
  for (const key of ['start', ...keys]) assert.equal(data[key], true, `key ${key} lost`)
}

async function noResurrection(t: TestContext, store: SessionStore): Promise<void> {
  let open: () => void = () => {}
  const gate = new Promise<void>((resolve) => {
    open = resolve
  })
  let loaded: () => void = () => {}
  const hasLoaded = new Promise<void>((resolve) => {
    loaded = resolve
  })
  const { base, cookie } = await serve(t, store, gate, loaded)
  const slow = fetch(`${base}/set?key=late&slow`, { headers: { cookie } })
  await hasLoaded // the slow request has loaded its session
  const logout = await fetch(`${base}/logout`, { headers: { cookie } })
  assert.match(logout.headers.getSetCookie()[0] ?? '', /Max-Age=0/)
  open()
  const late = await slow
  assert.equal(late.status, 200)
  assert.deepEqual(late.headers.getSetCookie(), [], 'the late write sends no cookie')
  const after = await fetch(`${base}/get`, { headers: { cookie } })
  assert.deepEqual(await after.json(), {}, 'the logged-out session stays dead')
}

/**
 * Over real HTTP, for a store that can compare-and-set: 50 concurrent writers on one session all
 * land, and a logout is not undone by a request that loaded the session before it. `setup` returns
 * the store, or null after skipping (a missing server).
 */
export function runConcurrencySuite(
  name: string,
  setup: (t: TestContext) => Promise<SessionStore | null>,
): void {
  describe(`${name}: concurrent requests on one session`, () => {
    it('keeps all 50 keys set by 50 concurrent requests', async (t) => {
      const store = await setup(t)
      if (store) await fiftyWriters(t, store)
    })

    it('does not recreate a session destroyed by logout while a request was in flight', async (t) => {
      const store = await setup(t)
      if (store) await noResurrection(t, store)
    })
  })
}
