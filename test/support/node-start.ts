/**
 * Starting a node:http server with `withSessions` on a fresh adapter fixture, and capturing what
 * the default error reporter writes. Shared by the node adapter's test files; not part of the
 * package.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { TestContext } from 'node:test'
import { type NodeAdapterOptions, withSessions } from '../../src/adapters/node.ts'
import type { SessionManager } from '../../src/index.ts'
import { createFixture, type Fixture, type StorageKind } from './adapter-suite.ts'
import { Client, serve } from './http.ts'

/** A node:http handler. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => unknown

/** Serves `handler` wrapped by withSessions on a fresh fixture; returns a client and the fixture. */
export async function start(
  t: TestContext,
  handler: Handler,
  options: { kind?: StorageKind; adapter?: NodeAdapterOptions } = {},
): Promise<{ client: Client; fixture: Fixture }> {
  const fixture = createFixture(options.kind ?? 'cookie')
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const base = await serve(
    t,
    withSessions(fixture.sessions as SessionManager, handler, options.adapter),
  )
  return { client: new Client(base), fixture }
}

/** Replaces console.error for the test; returns what it was called with, call by call. */
export function captureConsoleError(t: TestContext): unknown[][] {
  const calls: unknown[][] = []
  const original = console.error
  console.error = (...args: unknown[]) => {
    calls.push(args)
  }
  t.after(() => {
    console.error = original
  })
  return calls
}
