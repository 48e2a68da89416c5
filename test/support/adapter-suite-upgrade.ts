/**
 * The WebSocket-upgrade scenarios of the adapter conformance suite: an adapter whose mount serves
 * {@link WS_PATH} answers each WebSocket with {@link wsGreeting} of the upgrade request's session
 * as its first message. The session is read, and the write it tries is refused with
 * `ERR_SESSION_READ_ONLY`; nothing the upgrade did reaches the stored session.
 *
 * Not part of the package.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import WebSocket from 'ws'
import { getSession } from '../../src/index.ts'
import { type SessionView, view } from './adapter-app.ts'
import { assertOk, type Mount, starter, writes } from './adapter-checks.ts'
import type { StorageKind } from './adapter-fixture.ts'
import { errorCode, json } from './http.ts'

/** Where a mount that supports upgrades serves its WebSocket. */
export const WS_PATH = '/ws'

/** The first message of the WebSocket at {@link WS_PATH}. */
export interface WsGreeting extends SessionView {
  /** What a write to the session did: `'allowed'`, or the error code it threw. */
  write: string
}

/**
 * The first message a WebSocket at {@link WS_PATH} sends: the upgrade request's session (as
 * `view`), and what happened when it tried to write `ws = 1` to it.
 */
export async function wsGreeting(request: object): Promise<string> {
  const session = await getSession(request)
  let write = 'allowed'
  try {
    session.set('ws', 1)
  } catch (error) {
    write = errorCode(error) ?? String(error)
  }
  const greeting: WsGreeting = { ...view(session), write }
  return JSON.stringify(greeting)
}

/**
 * Opens a WebSocket to `url` (http: or https: base plus path) with `cookie`, and resolves to its
 * first message; rejects when the handshake fails or nothing arrives within 5 s.
 */
export function firstMessage(url: string, cookie: string | undefined): Promise<string> {
  const ws = new WebSocket(url.replace(/^http/, 'ws'), {
    headers: cookie === undefined ? {} : { cookie },
  })
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no WebSocket message within 5 s')), 5000)
    ws.once('message', (data) => {
      clearTimeout(timer)
      resolve(String(data))
      ws.close()
    })
    ws.once('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    ws.once('unexpected-response', (_request, response) => {
      clearTimeout(timer)
      reject(new Error(`handshake answered ${response.statusCode}`))
      ws.terminate()
    })
  })
}

/** The upgrade scenarios, for a mount that serves {@link WS_PATH}. */
export function upgradeScenarios(kind: StorageKind, mount: Mount): void {
  const { start, started } = starter(kind, mount)

  it('a WebSocket upgrade reads the session of its cookie, and refuses writes with ERR_SESSION_READ_ONLY', async (t) => {
    const { client, base, fixture } = await started(t)
    const before = writes(fixture)
    const greeting = JSON.parse(
      await firstMessage(base + WS_PATH, client.cookieHeader),
    ) as WsGreeting
    assert.equal(greeting.isNew, false)
    assert.deepEqual(greeting.data, { n: 1 })
    assert.equal(greeting.write, 'ERR_SESSION_READ_ONLY')
    assert.equal(writes(fixture), before, 'the upgrade stored nothing')
    const after = await client.get('/get')
    assertOk(after)
    assert.deepEqual(json<SessionView>(after).data, { n: 1 })
  })

  it('a WebSocket upgrade without a cookie sees a new, empty session', async (t) => {
    const { base, fixture } = await start(t)
    const greeting = JSON.parse(await firstMessage(base + WS_PATH, undefined)) as WsGreeting
    assert.equal(greeting.isNew, true)
    assert.deepEqual(greeting.data, {})
    assert.equal(greeting.write, 'ERR_SESSION_READ_ONLY')
    assert.equal(writes(fixture), 0)
  })

  it('a WebSocket upgrade with a garbage cookie sees a new session, not an error', async (t) => {
    const { base } = await start(t)
    const greeting = JSON.parse(
      await firstMessage(base + WS_PATH, 'session=%%%garbage.not-a-token'),
    ) as WsGreeting
    assert.equal(greeting.isNew, true)
  })
}
