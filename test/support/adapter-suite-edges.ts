/**
 * The adapter conformance scenarios where two features meet: a failing handler commits nothing,
 * store and size errors reach the error path, `Vary: Cookie`, a shared response never carries one
 * visitor's cookie to another, and the Secure attribute behind a proxy.
 *
 * Not part of the package; run by `runAdapterSuite` (`adapter-suite.ts`).
 *
 * @module
 */

import assert from 'node:assert/strict'
import { it } from 'node:test'
import type { SessionView } from './adapter-app.ts'
import {
  assertNoSetCookie,
  assertOk,
  type Mount,
  sessionCookie,
  starter,
  writes,
} from './adapter-checks.ts'
import type { StorageKind } from './adapter-fixture.ts'
import { Client, json } from './http.ts'

/** Declares the scenarios for `kind` storage behind `mount` (inside the caller's describe). */
export function edgeScenarios(kind: StorageKind, mount: Mount): void {
  const { serverOnly, cookieOnly, start, started } = starter(kind, mount)

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
