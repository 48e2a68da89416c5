/**
 * Starting a Koa app behind the session middleware on a fresh adapter fixture, and small helpers
 * the Koa adapter's test files share. Not part of the package.
 *
 * @module
 */
import type { TestContext } from 'node:test'
import Koa from 'koa'
import { sessionMiddleware } from '../../src/adapters/koa.ts'
import type { SessionManager } from '../../src/index.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type SessionView,
  type StorageKind,
  view,
} from './adapter-suite.ts'
import { Client, json, serve } from './http.ts'

/** A Koa app behind the session middleware, served on loopback. */
export interface Started {
  readonly client: Client
  readonly fixture: Fixture
  /** Errors Koa emitted on `app.on('error')`. */
  readonly appErrors: unknown[]
}

export interface StartOptions {
  readonly kind?: StorageKind
  readonly fixture?: FixtureOptions
  /** A middleware above the session middleware (error handling, logging). */
  readonly upstream?: Koa.Middleware
}

/** Serves `handler` below `sessionMiddleware` on a fresh fixture (cookie storage by default). */
export async function start(
  t: TestContext,
  handler: Koa.Middleware,
  options: StartOptions = {},
): Promise<Started> {
  const fixture = createFixture(options.kind ?? 'cookie', options.fixture)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const app = new Koa()
  const appErrors: unknown[] = []
  app.on('error', (error: unknown) => appErrors.push(error))
  if (options.upstream) app.use(options.upstream)
  app.use(sessionMiddleware(fixture.sessions as SessionManager))
  app.use(handler)
  const base = await serve(t, app.callback())
  return { client: new Client(base), fixture, appErrors }
}

/** Increments `n` in the context's session. */
export async function increment(ctx: Koa.Context): Promise<void> {
  const session = await ctx.getSession()
  session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
}

/** The session's `n`, as the next request sees it. */
export async function storedN(client: Client): Promise<unknown> {
  const result = await client.get('/')
  return json<SessionView>(result).data.n
}

/** Answers the session as {@link SessionView} on every path but those `handler` takes. */
export function orView(handler: Koa.Middleware): Koa.Middleware {
  return async (ctx, next) => {
    if (ctx.path === '/') ctx.body = view(await ctx.getSession())
    else await handler(ctx, next)
  }
}
