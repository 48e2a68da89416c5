/**
 * The adapter conformance suite: every adapter serves the same small app (`adapter-app.ts`) over
 * real loopback HTTP and must pass the same scenarios, with cookie storage (sealed codec) and with
 * server storage (memory store, wrapped to count and fail: `adapter-fixture.ts`).
 *
 * Re-exports the app and the fixture, which the core's HTTP tests reuse.
 *
 * Not part of the package; used by `test/adapters/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import type { SessionManager } from '../../src/index.ts'
import { appRoutes, type Routes, type SessionView, STREAM_CHUNKS } from './adapter-app.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type StorageKind,
} from './adapter-fixture.ts'
import { Client, type HttpResult, json, setCookieOf } from './http.ts'

export * from './adapter-app.ts'
export * from './adapter-fixture.ts'

// ---------------------------------------------------------------------------------------------
// The suite

/** How a mount's error path answers: `onError` records the error and returns the status. */
export interface MountOptions {
  readonly onError: (error: unknown) => number
}

/**
 * Serves `routes` through the adapter under test, with `sessions`, on 127.0.0.1 (closed after the
 * test); resolves to the base URL. Errors the adapter hands to its error path go to
 * `options.onError`, whose status is answered with an `x-error-code` header.
 */
export type Mount = (
  t: TestContext,
  sessions: SessionManager,
  routes: Routes,
  options: MountOptions,
) => Promise<string>

/** The session cookie's Set-Cookie in a result (the default cookie name is `session`). */
function sessionCookie(result: HttpResult) {
  return setCookieOf(result, 'session')
}

function assertNoSetCookie(result: HttpResult): void {
  assert.deepEqual(result.rawSetCookies, [], 'expected no Set-Cookie')
}

function assertOk(result: HttpResult): void {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
}

/** Storage writes so far: store create/replace/patch (server) or codec encodes (cookie). */
function writes(fixture: Fixture): number {
  if (fixture.store) {
    const { create, replace, patch } = fixture.store.calls
    return create + replace + patch
  }
  return fixture.codec?.calls.encode ?? 0
}

/** Storage accesses so far: every store call (server) or codec call (cookie). */
function accesses(fixture: Fixture): number {
  if (fixture.store) return fixture.store.total()
  const calls = fixture.codec?.calls
  return calls ? calls.encode + calls.decode : 0
}

/**
 * Declares `describe(name)` with the adapter scenarios, once with cookie storage (sealed codec) and
 * once with server storage (memory store). `mount` serves the app through the adapter under test.
 */
export function runAdapterSuite(name: string, mount: Mount): void {
  describe(name, () => {
    describe('cookie storage (sealed codec)', () => scenarios('cookie', mount))
    describe('server storage (memory store)', () => scenarios('server', mount))
  })
}

function scenarios(kind: StorageKind, mount: Mount): void {
  const serverOnly = kind === 'server' ? {} : { skip: 'needs server storage' }
  const cookieOnly = kind === 'cookie' ? {} : { skip: 'needs cookie storage' }

  async function start(
    t: TestContext,
    options: FixtureOptions = {},
  ): Promise<{ fixture: Fixture; client: Client; base: string }> {
    const fixture = createFixture(kind, options)
    if (fixture.store) {
      const inner = fixture.store.inner
      t.after(() => inner.close())
    }
    const base = await mount(t, fixture.sessions, appRoutes, { onError: fixture.onError })
    return { fixture, client: new Client(base), base }
  }

  /** Starts and establishes a session holding n = 1. */
  async function started(t: TestContext, options: FixtureOptions = {}) {
    const context = await start(t, options)
    const first = await context.client.get('/inc')
    assertOk(first)
    assert.ok(context.client.cookie('session'), 'the first write set the session cookie')
    return context
  }

  it('sends no Set-Cookie and touches no storage for a request that never calls getSession', async (t) => {
    const { fixture, client } = await started(t)
    const before = accesses(fixture)
    const result = await client.get('/none')
    assertOk(result)
    assert.equal(result.body, 'none')
    assertNoSetCookie(result)
    assert.equal(accesses(fixture), before)
  })

  it('sets no cookie and stores nothing for an anonymous visitor who only reads', async (t) => {
    const { fixture, client } = await start(t)
    const result = await client.get('/get')
    assertOk(result)
    assert.equal(json<SessionView>(result).isNew, true)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), 0)
    if (fixture.store) assert.equal(fixture.store.inner.size, 0)
  })

  it('sets an HttpOnly, SameSite=Lax, Path=/ cookie with Max-Age and no Secure over plain HTTP to 127.0.0.1', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/inc')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie, 'a Set-Cookie for the session')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'lax')
    assert.equal(cookie.path, '/')
    assert.equal(cookie.maxAge, 1_209_600)
    assert.equal(cookie.secure, undefined)
    assert.match(result.rawSetCookies[0] ?? '', /; SameSite=Lax/)
  })

  it('leaves Secure off over plain HTTP to localhost', async (t) => {
    const { client } = await start(t)
    const port = new URL(client.base).port
    const result = await client.get('/inc', { headers: { host: `localhost:${port}` } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, undefined)
  })

  it('sets Secure over plain HTTP to a host that is not local', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/inc', { headers: { host: 'app.example.com' } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })

  it('sets Secure when cookie.secure is true, even on 127.0.0.1', async (t) => {
    const { client } = await start(t, { cookie: { secure: true } })
    const result = await client.get('/inc')
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })

  it('round-trips a value across requests', async (t) => {
    const { client } = await started(t)
    const second = await client.get('/inc')
    assert.deepEqual(json<SessionView>(second).data, { n: 2 })
    const third = await client.get('/get')
    assertOk(third)
    assert.deepEqual(json<SessionView>(third).data, { n: 2 })
    assert.equal(json<SessionView>(third).isNew, false)
  })

  it('loads the session once for concurrent getSession calls in one request', async (t) => {
    const { fixture, client } = await started(t)
    const loadsBefore = fixture.store ? fixture.store.calls.get : fixture.codec?.calls.decode
    const result = await client.get('/twice')
    assertOk(result)
    assert.deepEqual(json(result), { same: true })
    const loadsAfter = fixture.store ? fixture.store.calls.get : fixture.codec?.calls.decode
    assert.equal((loadsAfter ?? 0) - (loadsBefore ?? 0), 1)
  })

  it('shows a flash value on a later request', async (t) => {
    const { client } = await start(t)
    assertOk(await client.get('/flash-set'))
    const later = await client.get('/flash-get')
    assertOk(later)
    assert.deepEqual(json(later), { notice: 'saved' })
  })

  it('shows a flash value only once', async (t) => {
    const { client } = await start(t)
    assertOk(await client.get('/flash-set'))
    assert.deepEqual(json(await client.get('/flash-get')), { notice: 'saved' })
    const again = await client.get('/flash-get')
    assertOk(again)
    assert.deepEqual(json(again), { notice: null })
  })

  it('does not show a flash value in the request that set it', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/flash-set')
    assertOk(result)
    assert.deepEqual(json(result), { notice: null })
  })

  it('regenerate issues a new id and keeps the data', serverOnly, async (t) => {
    const { client } = await started(t)
    const oldId = client.cookie('session')
    const result = await client.get('/regenerate')
    assertOk(result)
    const body = json<SessionView>(result)
    assert.notEqual(body.id, oldId)
    assert.equal(sessionCookie(result)?.value, body.id)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('regenerate makes the old id yield a fresh session', serverOnly, async (t) => {
    const { fixture, client, base } = await started(t)
    const oldId = client.cookie('session') as string
    assertOk(await client.get('/regenerate'))
    const replay = new Client(base)
    const result = await replay.get('/get', { headers: { cookie: `session=${oldId}` } })
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.equal(json<SessionView>(result).isNew, true)
    assert.deepEqual(fixture.reasons, ['unknown-id'])
  })

  it('regenerate re-issues the cookie and keeps the data', cookieOnly, async (t) => {
    const { client } = await started(t)
    const oldValue = client.cookie('session')
    const result = await client.get('/regenerate')
    assertOk(result)
    assert.notEqual(sessionCookie(result)?.value, oldValue)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('invalidate sends an expired cookie', async (t) => {
    const { client } = await started(t)
    const result = await client.get('/invalidate')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie, 'a Set-Cookie that clears the session cookie')
    assert.equal(cookie.value, '')
    assert.equal(cookie.maxAge, 0)
    assert.equal(cookie.path, '/')
    assert.equal(client.cookie('session'), undefined)
  })

  it('after invalidate the next request gets a fresh session', async (t) => {
    const { client } = await started(t)
    assertOk(await client.get('/invalidate'))
    const result = await client.get('/get')
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.equal(json<SessionView>(result).isNew, true)
  })

  it('a replayed cookie of an invalidated session gets a fresh session', serverOnly, async (t) => {
    const { fixture, client, base } = await started(t)
    const oldId = client.cookie('session') as string
    assertOk(await client.get('/invalidate'))
    const result = await new Client(base).get('/get', { headers: { cookie: `session=${oldId}` } })
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.deepEqual(fixture.reasons, ['unknown-id'])
  })

  it('newSession starts empty, ignoring the previous session', async (t) => {
    const { client } = await started(t)
    const result = await client.get('/login')
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, { user: 'ann' })
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { user: 'ann' })
  })

  it('newSession deletes the previous stored session', serverOnly, async (t) => {
    const { client, base } = await started(t)
    const oldId = client.cookie('session') as string
    const result = await client.get('/login')
    assertOk(result)
    assert.notEqual(json<SessionView>(result).id, oldId)
    const replay = await new Client(base).get('/get', { headers: { cookie: `session=${oldId}` } })
    assert.deepEqual(json<SessionView>(replay).data, {})
    assert.equal(json<SessionView>(replay).isNew, true)
  })

  it('a redirect after a write carries the Set-Cookie', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/redirect')
    assert.equal(result.status, 302)
    assert.equal(result.headers.location, '/get')
    assert.ok(sessionCookie(result)?.value, 'the redirect sets the session cookie')
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('answers HEAD with the Set-Cookie and no body', async (t) => {
    const { client } = await start(t)
    const result = await client.request('/inc', { method: 'HEAD' })
    assertOk(result)
    assert.equal(result.body, '')
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('delivers a streamed body complete, with the Set-Cookie', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/stream')
    assertOk(result)
    assert.equal(result.body, STREAM_CHUNKS.join(''))
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('hands an error thrown by the handler after a write to the error path', async (t) => {
    const { fixture, client } = await start(t)
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(fixture.errors.length, 1)
    assert.equal((fixture.errors[0] as Error).message, 'boom in handler')
  })

  it('commits nothing for a handler that throws after a write', async (t) => {
    const { fixture, client } = await started(t)
    const before = writes(fixture)
    const cookie = client.cookie('session')
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(sessionCookie(result), undefined, 'no Set-Cookie carries the change')
    assert.equal(writes(fixture), before, 'nothing was written')
    assert.equal(client.cookie('session'), cookie)
    const after = await client.get('/get')
    assertOk(after)
    assert.deepEqual(json<SessionView>(after).data, { n: 1 }, 'the next request sees the old n')
  })

  it('stores nothing for a new visitor whose handler throws after a write', async (t) => {
    const { fixture, client } = await start(t)
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), 0)
    if (fixture.store) assert.equal(fixture.store.inner.size, 0)
  })

  it(
    'hands a session too large for 4096 bytes to the error path as ERR_SESSION_COOKIE_TOO_LARGE',
    cookieOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      const result = await client.get('/big')
      assert.equal(result.status, 500)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_COOKIE_TOO_LARGE')
      assertNoSetCookie(result)
      assert.equal(fixture.errors.length, 1)
      const error = fixture.errors[0] as { code: string; size: number; limit: number }
      assert.equal(error.code, 'ERR_SESSION_COOKIE_TOO_LARGE')
      assert.equal(error.limit, 4096)
      assert.ok(error.size > 4096)
      // The server lives on and the old cookie still holds the old session.
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on load to the error path as ERR_SESSION_STORE, never an empty session',
    serverOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      fixture.store?.failing.add('get')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      const error = fixture.errors[0] as { code: string; operation: string; cause: Error }
      assert.equal(error.code, 'ERR_SESSION_STORE')
      assert.equal(error.operation, 'load')
      assert.equal(error.cause.message, 'store down')
      assert.equal(writes(fixture), 1, 'nothing but the first request wrote to the store')
      fixture.store?.failing.clear()
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on save to the error path as ERR_SESSION_STORE and keeps the stored data',
    serverOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      fixture.store?.failing.add('patch')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      assert.equal((fixture.errors[0] as { operation: string }).operation, 'update')
      fixture.store?.failing.clear()
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on creating a session to the error path as ERR_SESSION_STORE',
    serverOnly,
    async (t) => {
      const { fixture, client } = await start(t)
      fixture.store?.failing.add('create')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      assert.equal((fixture.errors[0] as { operation: string }).operation, 'create')
      assert.equal(fixture.store?.inner.size, 0)
    },
  )

  it('sends no Set-Cookie for unchanged reads within the touch window', async (t) => {
    const { fixture, client } = await started(t, { idleTimeout: 600 })
    const before = writes(fixture)
    fixture.advance(100)
    assertNoSetCookie(await client.get('/get'))
    fixture.advance(199)
    const result = await client.get('/get')
    assertOk(result)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), before)
  })

  it('sends a Set-Cookie for a read after the touch window', async (t) => {
    const { fixture, client } = await started(t, { idleTimeout: 600 })
    fixture.advance(300)
    const result = await client.get('/get')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie?.value, 'the touch re-sends the cookie')
    assert.equal(cookie.maxAge, 600)
    if (fixture.store) assert.equal(fixture.store.calls.patch, 1, 'the touch is one patch')
  })

  it('adds Vary: Cookie to a response whose session was read', async (t) => {
    const { client } = await started(t)
    const read = await client.get('/get')
    assertOk(read)
    assert.equal(read.headers.vary, 'Cookie')
    const written = await client.get('/inc')
    assertOk(written)
    assert.equal(written.headers.vary, 'Cookie')
  })

  it('adds Vary: Cookie for an anonymous visitor who only reads (no cookie either)', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/get')
    assertOk(result)
    assertNoSetCookie(result)
    assert.equal(result.headers.vary, 'Cookie')
  })

  it('adds no Vary to a response that never touched the session', async (t) => {
    const { client } = await started(t)
    const result = await client.get('/none')
    assertOk(result)
    assert.equal(result.headers.vary, undefined)
  })

  it("merges Vary: Cookie into the application's own Vary", async (t) => {
    const { client } = await started(t)
    const merged = await client.get('/vary?value=Accept-Encoding')
    assertOk(merged)
    assert.equal(merged.headers.vary, 'Accept-Encoding, Cookie')
    const named = await client.get('/vary?value=Origin,%20cookie')
    assert.equal(named.headers.vary, 'Origin, cookie', 'Cookie named already: not repeated')
    const star = await client.get('/vary?value=*')
    assert.equal(star.headers.vary, '*', '* already varies on everything')
  })

  it("never gives one visitor's cookie to another through a shared response", async (t) => {
    const { client, base } = await start(t)
    const login = await client.get('/shared-login')
    assert.equal(login.status, 204)
    assert.ok(sessionCookie(login)?.value, 'the visitor who logs in gets a cookie')
    const other = new Client(base)
    const none = await other.get('/shared-none')
    assert.equal(none.status, 204)
    assertNoSetCookie(none)
    assert.equal(none.headers.vary, undefined)
    const read = await other.get('/shared-get')
    assert.equal(read.status, 204)
    assertNoSetCookie(read)
    assert.equal(read.headers.vary, 'Cookie')
    const again = await client.get('/shared-get')
    assertNoSetCookie(again)
    assert.equal(again.headers.vary, 'Cookie')
  })

  it('sets Secure in production for plain HTTP with Host 127.0.0.1:3000 (a proxy that rewrites Host)', async (t) => {
    const { client } = await start(t, { nodeEnv: 'production' })
    const result = await client.get('/inc', { headers: { host: '127.0.0.1:3000' } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })

  it('leaves Secure off outside production over plain HTTP to 127.0.0.1 from a loopback peer', async (t) => {
    const { client } = await start(t, { nodeEnv: 'development' })
    const result = await client.get('/inc', { headers: { host: '127.0.0.1:3000' } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, undefined)
  })

  it('sets Secure for X-Forwarded-Proto: https, even outside production on 127.0.0.1', async (t) => {
    const { client } = await start(t, { nodeEnv: 'development' })
    const result = await client.get('/inc', { headers: { 'x-forwarded-proto': 'https' } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })
}
