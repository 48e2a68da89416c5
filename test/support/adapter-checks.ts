/**
 * What the adapter conformance scenarios share: how an adapter is mounted, how a scenario starts a
 * fixture behind it, and the checks they make.
 *
 * Not part of the package.
 *
 * @module
 */

import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import type { SessionManager } from '../../src/index.ts'
import { appRoutes, type Routes } from './adapter-app.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type StorageKind,
} from './adapter-fixture.ts'
import { Client, type HttpResult, setCookieOf } from './http.ts'

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
export function sessionCookie(result: HttpResult) {
  return setCookieOf(result, 'session')
}

export function assertNoSetCookie(result: HttpResult): void {
  assert.deepEqual(result.rawSetCookies, [], 'expected no Set-Cookie')
}

export function assertOk(result: HttpResult): void {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
}

/** Storage writes so far: store create/replace/patch (server) or codec encodes (cookie). */
export function writes(fixture: Fixture): number {
  if (fixture.store) {
    const { create, replace, patch } = fixture.store.calls
    return create + replace + patch
  }
  return fixture.codec?.calls.encode ?? 0
}

/** Storage accesses so far: every store call (server) or codec call (cookie). */
export function accesses(fixture: Fixture): number {
  if (fixture.store) return fixture.store.total()
  const calls = fixture.codec?.calls
  return calls ? calls.encode + calls.decode : 0
}

/** What a scenario starts: a fixture behind the adapter, a client, and the base URL. */
export interface Started {
  readonly fixture: Fixture
  readonly client: Client
  readonly base: string
}

/** How scenarios start the app behind `mount` on `kind` storage. */
export interface Starter {
  /** Test options for scenarios that need server storage, or cookie storage. */
  readonly serverOnly: { skip?: string }
  readonly cookieOnly: { skip?: string }
  /** A fresh fixture behind the adapter (its store closed after the test). */
  start(t: TestContext, options?: FixtureOptions): Promise<Started>
  /** As `start`, then establishes a session holding n = 1. */
  started(t: TestContext, options?: FixtureOptions): Promise<Started>
}

/** A {@link Starter} for `kind` storage behind `mount`. */
export function starter(kind: StorageKind, mount: Mount): Starter {
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
  return { serverOnly, cookieOnly, start, started }
}
