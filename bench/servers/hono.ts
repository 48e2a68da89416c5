/**
 * The Hono 4 servers, all on Node.js through @hono/node-server: bare Hono, hono-sessions with its
 * CookieStore (iron-webcrypto sealed cookies) and with its MemoryStore (an encrypted id cookie),
 * both set up as its README shows, and sessionware through `sessionMiddleware` of
 * `sessionware/adapters/hono`.
 *
 * @module
 */

import { once } from 'node:events'
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Context, Hono as HonoApp } from 'hono'
import type { Session } from '../../src/core/session.ts'
import type { Target } from '../targets.ts'
import { type Data, FOURTEEN_DAYS_S, HOST, type Listening, secret } from './common.ts'
import { type Manager, readN, writeN } from './sessionware.ts'

type Route = (c: Context) => Promise<unknown> | unknown

function routes(app: HonoApp, read: Route, write: Route): void {
  app.get('/none', (c) => c.json({ n: 0 }))
  app.get('/read', async (c) => c.json({ n: (await read(c)) ?? null }))
  app.get('/write', async (c) => c.json({ n: await write(c) }))
}

/** hono-sessions' session object, as the routes use it. */
type HonoSession = { get(key: 'n'): number | undefined; set(key: 'n', value: number): void }

async function honoSessions(app: HonoApp, storage: Target['storage']): Promise<void> {
  const { CookieStore, MemoryStore, sessionMiddleware } = await import('hono-sessions')
  app.use(
    '*',
    sessionMiddleware({
      store: storage === 'cookie' ? new CookieStore() : new MemoryStore(),
      // Required for CookieStore, recommended for the others (its README).
      encryptionKey: secret(),
      expireAfterSeconds: FOURTEEN_DAYS_S,
      cookieOptions: { sameSite: 'Lax', path: '/', httpOnly: true },
    }),
  )
  const session = (c: Context): HonoSession => c.get('session' as never) as HonoSession
  routes(
    app,
    (c) => session(c).get('n'),
    (c) => {
      const n = (session(c).get('n') ?? 0) + 1
      session(c).set('n', n)
      return n
    },
  )
}

/** The adapter's lazy `session` variable, awaited: the request's session. */
const session = async (c: Context): Promise<Session<Data>> =>
  (await c.get('session')) as unknown as Session<Data>

async function sessionware(app: HonoApp, manager: Manager): Promise<void> {
  const { sessionMiddleware } = await import('../../src/adapters/hono.ts')
  app.use(sessionMiddleware(manager.sessions))
  routes(
    app,
    async (c) => readN(await session(c)),
    async (c) => writeN(await session(c)),
  )
}

/** Starts a Hono target. */
export async function startHono(target: Target, manager: Manager | undefined): Promise<Listening> {
  const { Hono } = await import('hono')
  const { serve } = await import('@hono/node-server')
  const app = new Hono()
  if (target.kind === 'bare') {
    routes(
      app,
      () => 1,
      () => 2,
    )
  } else if (manager !== undefined) {
    await sessionware(app, manager)
  } else if (target.name.startsWith('hono-sessions')) {
    await honoSessions(app, target.storage)
  } else {
    throw new Error(`unknown Hono target ${target.name}`)
  }
  const server = serve({ fetch: app.fetch, hostname: HOST, port: 0 }) as Server
  await once(server, 'listening')
  const port = (server.address() as AddressInfo).port
  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  return { port, stop }
}
