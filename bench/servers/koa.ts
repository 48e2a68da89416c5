/**
 * The Koa 3 servers: bare Koa, koa-session with its default storage (the session as base64 JSON in
 * a cookie signed with `app.keys`, not encrypted) as its README sets it up, and sessionware through
 * `sessionMiddleware` of `sessionware/adapters/koa`.
 *
 * @module
 */

import type { Context } from 'koa'
import type { Target } from '../targets.ts'
import {
  type Data,
  FOURTEEN_DAYS_S,
  type Handler,
  type Listening,
  listenNode,
  secret,
} from './common.ts'
import { type Manager, readN, writeN } from './sessionware.ts'

type Route = (ctx: Context) => Promise<unknown> | unknown

function router(read: Route, write: Route) {
  return async (ctx: Context): Promise<void> => {
    switch (ctx.path) {
      case '/none':
        ctx.body = { n: 0 }
        return
      case '/read':
        ctx.body = { n: (await read(ctx)) ?? null }
        return
      case '/write':
        ctx.body = { n: await write(ctx) }
        return
      default:
        ctx.status = 404
    }
  }
}

/** Starts a Koa target. */
export async function startKoa(target: Target, manager: Manager | undefined): Promise<Listening> {
  const { default: Koa } = await import('koa')
  const app = new Koa()
  if (target.kind === 'bare') {
    app.use(
      router(
        () => 1,
        () => 2,
      ),
    )
  } else if (manager !== undefined) {
    const { sessionMiddleware } = await import('../../src/adapters/koa.ts')
    app.use(sessionMiddleware(manager.sessions))
    app.use(
      router(
        async (ctx) => readN(await ctx.getSession<Data>()),
        async (ctx) => writeN(await ctx.getSession<Data>()),
      ),
    )
  } else if (target.name === 'koa-session') {
    const { default: session } = await import('koa-session')
    app.keys = [secret()]
    // Plain HTTP: `secure: false`, or Koa refuses to send the cookie.
    app.use(
      session(
        { maxAge: FOURTEEN_DAYS_S * 1000, sameSite: 'lax', secure: false, httpOnly: true },
        app,
      ),
    )
    app.use(
      router(
        (ctx) => (ctx.session as Partial<Data> | null)?.n,
        (ctx) => {
          const session = ctx.session as unknown as Partial<Data>
          session.n = (session.n ?? 0) + 1
          return session.n
        },
      ),
    )
  } else {
    throw new Error(`unknown Koa target ${target.name}`)
  }
  return listenNode(app.callback() as Handler)
}
