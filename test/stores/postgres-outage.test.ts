/**
 * PostgreSQL going away under a running app (node:http + serverStorage + the postgres store):
 * requests that need the session answer 503 within a bounded time, requests that do not are
 * untouched, nothing crashes, and once PostgreSQL is back the same cookie finds its data intact
 * without restarting the app.
 */
import assert from 'node:assert/strict'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createServerStorage, createSessions, getSession } from '../../src/index.ts'
import { createPostgresStore } from '../../src/stores/postgres.ts'
import { startPostgres } from '../support/postgres-server.ts'

/** Store timeout in seconds: a request may wait about this long for a dead server. */
const TIMEOUT = 1
/** A response must arrive within this many ms even while PostgreSQL is down. */
const BOUND_MS = TIMEOUT * 1000 + 1000

/**
 * `/none` never asks for its session, `/get` returns the data, `/set?key=…&value=…` sets a key;
 * with `&gate`, `/set` waits for `open()` between loading the session and writing it.
 */
async function serve(t: TestContext, store: ReturnType<typeof createPostgresStore>) {
  const sessions = createSessions({ storage: createServerStorage({ store }) })
  let open: () => void = () => {}
  let gate = new Promise<void>((resolve) => {
    open = resolve
  })
  let loaded: () => void = () => {}
  const gateReached = new Promise<void>((resolve) => {
    loaded = resolve
  })
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.pathname === '/none') {
        res.end('no session needed')
        return
      }
      const session = await getSession(req)
      if (url.pathname === '/set') {
        if (url.searchParams.has('gate')) {
          loaded()
          await gate
        }
        session.set(url.searchParams.get('key') as string, url.searchParams.get('value'))
      }
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(session.toJSON()))
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  return {
    base,
    gateReached,
    openGate: () => {
      open()
      gate = Promise.resolve()
    },
  }
}

/** Fetches with a hard limit, and measures the time taken. */
async function timed(url: string, cookie?: string) {
  const start = Date.now()
  const response = await fetch(url, {
    headers: cookie ? { cookie } : {},
    signal: AbortSignal.timeout(10_000),
  })
  const body = await response.text()
  return { response, body, ms: Date.now() - start }
}

describe('postgres store outage over HTTP', () => {
  it('answers 503 while PostgreSQL is down and keeps the session for when it returns', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    if (server.external) return t.skip('DATABASE_URL is set: cannot stop that server')
    const pool = server.pool({ connectionTimeoutMillis: 500 })
    const store = createPostgresStore(pool, { timeout: TIMEOUT })
    t.after(() => store.close())
    const app = await serve(t, store)

    // A session with data.
    const created = await timed(`${app.base}/set?key=cart&value=three-books`)
    assert.equal(created.response.status, 200)
    const cookie = (created.response.headers.getSetCookie()[0] ?? '').split(';')[0] as string
    assert.match(cookie, /=/)
    const stored = await timed(`${app.base}/get`, cookie)
    assert.deepEqual(JSON.parse(stored.body), { cart: 'three-books' })

    // A request that loaded its session before the outage fails on its write.
    const inFlight = timed(`${app.base}/set?key=cart&value=overwritten&gate`, cookie)
    await app.gateReached

    await server.stop()
    let restarted = false
    t.after(async () => {
      if (!restarted) await server.start()
    })

    app.openGate()
    const lateWrite = await inFlight
    assert.equal(lateWrite.response.status, 503, lateWrite.body)
    assert.ok(lateWrite.ms < BOUND_MS + 500, `in-flight write answered after ${lateWrite.ms} ms`)

    for (const path of ['/get', '/set?key=cart&value=empty', '/get']) {
      const down = await timed(`${app.base}${path}`, cookie)
      assert.equal(down.response.status, 503, `${path}: ${down.body}`)
      assert.ok(down.ms < BOUND_MS, `${path} answered after ${down.ms} ms`)
      assert.deepEqual(
        down.response.headers.getSetCookie(),
        [],
        `${path} must not replace the cookie`,
      )
    }
    // Without a cookie, reading needs no store; writing does.
    const visitor = await timed(`${app.base}/get`)
    assert.equal(visitor.response.status, 200)
    assert.deepEqual(JSON.parse(visitor.body), {})
    const signup = await timed(`${app.base}/set?key=cart&value=one-book`)
    assert.equal(signup.response.status, 503, signup.body)
    assert.ok(signup.ms < BOUND_MS, `a new session's write answered after ${signup.ms} ms`)
    const none = await timed(`${app.base}/none`, cookie)
    assert.equal(none.response.status, 200)
    assert.equal(none.body, 'no session needed')
    assert.deepEqual(none.response.headers.getSetCookie(), [])

    await server.start()
    restarted = true

    // The same app, pool, store and cookie: the data is intact and writable again.
    const back = await timed(`${app.base}/get`, cookie)
    assert.equal(back.response.status, 200)
    assert.deepEqual(JSON.parse(back.body), { cart: 'three-books' })
    const write = await timed(`${app.base}/set?key=cart&value=four-books`, cookie)
    assert.equal(write.response.status, 200)
    const after = await timed(`${app.base}/get`, cookie)
    assert.deepEqual(JSON.parse(after.body), { cart: 'four-books' })
  })

  it('answers 503 after the store timeout while PostgreSQL hangs, then recovers', async (t) => {
    const server = await startPostgres(t)
    if (server === null) return
    if (server.external) return t.skip('DATABASE_URL is set: cannot pause that server')
    // No query_timeout on purpose: only the store's own timeout bounds a query on a live connection.
    const pool = server.pool({ connectionTimeoutMillis: 500 })
    const store = createPostgresStore(pool, { timeout: TIMEOUT })
    t.after(() => store.close())
    const app = await serve(t, store)
    const created = await timed(`${app.base}/set?key=cart&value=two-books`)
    const cookie = (created.response.headers.getSetCookie()[0] ?? '').split(';')[0] as string

    await server.pause()
    let resumed = false
    t.after(async () => {
      if (!resumed) await server.resume()
    })
    const hung = await Promise.all(
      ['/get', '/set?key=cart&value=empty', '/get'].map((path) =>
        timed(`${app.base}${path}`, cookie),
      ),
    )
    for (const { response, body, ms } of hung) {
      assert.equal(response.status, 503, body)
      assert.ok(ms >= 400 && ms < BOUND_MS, `answered after ${ms} ms`)
    }
    const none = await timed(`${app.base}/none`, cookie)
    assert.equal(none.response.status, 200)

    await server.resume()
    resumed = true
    const back = await timed(`${app.base}/get`, cookie)
    assert.equal(back.response.status, 200, back.body)
    assert.deepEqual(JSON.parse(back.body), { cart: 'two-books' })
  })
})
