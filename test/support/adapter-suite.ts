/**
 * The adapter conformance suite: every adapter serves the same small app (`adapter-app.ts`) over
 * real loopback HTTP and must pass the same scenarios, with cookie storage (sealed codec) and with
 * server storage (memory store, wrapped to count and fail: `adapter-fixture.ts`). The scenarios
 * where two features meet (errors, Vary, shared responses, Secure behind a proxy) are in
 * `adapter-suite-edges.ts`.
 *
 * Re-exports the app and the fixture, which the core's HTTP tests reuse.
 *
 * Not part of the package; used by `test/adapters/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { type SessionView, STREAM_CHUNKS } from './adapter-app.ts'
import {
  accesses,
  assertNoSetCookie,
  assertOk,
  type Mount,
  sessionCookie,
  starter,
  writes,
} from './adapter-checks.ts'
import type { StorageKind } from './adapter-fixture.ts'
import { edgeScenarios } from './adapter-suite-edges.ts'
import { upgradeScenarios } from './adapter-suite-upgrade.ts'
import { Client, json } from './http.ts'

export * from './adapter-app.ts'
export type { Mount, MountOptions } from './adapter-checks.ts'
export * from './adapter-fixture.ts'
export { WS_PATH, wsGreeting } from './adapter-suite-upgrade.ts'

/** Options of {@link runAdapterSuite}. */
export interface AdapterSuiteOptions {
  /**
   * The mount also serves a WebSocket at `WS_PATH` whose first message is `wsGreeting(request)`
   * (`adapter-suite-upgrade.ts`): the upgrade scenarios run.
   */
  readonly upgrade?: boolean
}

/**
 * Declares `describe(name)` with the adapter scenarios, once with cookie storage (sealed codec) and
 * once with server storage (memory store). `mount` serves the app through the adapter under test.
 */
export function runAdapterSuite(
  name: string,
  mount: Mount,
  options: AdapterSuiteOptions = {},
): void {
  describe(name, () => {
    for (const [kind, title] of [
      ['cookie', 'cookie storage (sealed codec)'],
      ['server', 'server storage (memory store)'],
    ] as const) {
      describe(title, () => {
        scenarios(kind, mount)
        edgeScenarios(kind, mount)
        if (options.upgrade) upgradeScenarios(kind, mount)
      })
    }
  })
}

function scenarios(kind: StorageKind, mount: Mount): void {
  const { serverOnly, cookieOnly, start, started } = starter(kind, mount)

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
}
