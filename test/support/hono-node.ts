/**
 * Hono apps for the Node.js tests of the Hono adapter: serving an app with `@hono/node-server`
 * (and a `ws` server for upgrades) on 127.0.0.1, and an app whose errors the fixture records.
 *
 * Not part of the package.
 *
 * @module
 */
import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { serve } from '@hono/node-server'
import { Hono } from 'hono'
import { WebSocketServer } from 'ws'
import { sessionMiddleware } from '../../src/adapters/hono.ts'
import type { SessionManager } from '../../src/index.ts'
import { createFixture, type Fixture, type StorageKind } from './adapter-fixture.ts'
import { Client } from './http.ts'

/** Serves `app` with @hono/node-server (and `ws` for upgrades) on 127.0.0.1; closed after `t`. */
export async function listen(t: TestContext, app: Hono): Promise<string> {
  const wss = new WebSocketServer({ noServer: true })
  const server = serve({
    fetch: app.fetch,
    hostname: '127.0.0.1',
    port: 0,
    websocket: { server: wss },
  }) as Server
  await once(server, 'listening')
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A fixture of `kind` and a client for the app `build` makes (store closed after `t`). */
export async function start(
  t: TestContext,
  build: (sessions: SessionManager, fixture: Fixture) => Hono,
  kind: StorageKind = 'cookie',
): Promise<{ client: Client; fixture: Fixture }> {
  const fixture = createFixture(kind)
  const inner = fixture.store?.inner
  if (inner) t.after(() => inner.close())
  const base = await listen(t, build(fixture.sessions, fixture))
  return { client: new Client(base), fixture }
}

/** An app with the middleware whose errors are recorded by the fixture and answered as JSON. */
export function appWith(sessions: SessionManager, fixture: Fixture): Hono {
  const app = new Hono()
  app.use(sessionMiddleware(sessions))
  app.onError((error, c) => {
    const status = fixture.onError(error)
    const code = (error as { code?: string }).code ?? null
    return c.json({ error: error.message, code }, status as 500 | 503)
  })
  return app
}
