/**
 * The Koa adapter (Koa 2.15 and newer, Koa 3): a middleware, and `ctx.getSession()` /
 * `ctx.newSession()` typed from `Register`. Types come from `@types/koa`.
 *
 * Subpath: `sessionware/adapters/koa`.
 *
 * @module
 */
import type { ExtendableContext, Next } from 'koa'
import type { SessionManager } from '../core/manager.ts'
import { getSession, newSession } from '../core/request.ts'
import type { Session } from '../core/session.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from '../core/types.ts'
import { aliasRequest } from './kit/attach.ts'
import { holdNodeResponse } from './kit/node-response.ts'
import { finishRequest } from './kit/policy.ts'
import { addSessionHeaders } from './kit/session-headers.ts'
import { nodeTransport } from './kit/transport.ts'

declare module 'koa' {
  interface ExtendableContext {
    /**
     * The request's session, loaded on the first call (every later call shares that load); the
     * same as `getSession(ctx)`. Typed from `Register` unless given types.
     *
     * @throws {SessionStoreError} (as a rejection) when the store fails to load it.
     */
    getSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<Session<Data, Flash>>
    /**
     * A fresh, empty session replacing the one the cookie named (the way to log in); the same as
     * `newSession(ctx)`. Typed from `Register` unless given types.
     */
    newSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<Session<Data, Flash>>
  }
}

/** A Koa middleware that works with any context type. */
export type KoaSessionMiddleware = (ctx: ExtendableContext, next: Next) => Promise<void>

/** `ctx.getSession()` and `ctx.newSession()`, defined once on the prototype of an app's contexts. */
const ACCESSORS: PropertyDescriptorMap = {
  getSession: {
    configurable: true,
    writable: true,
    value(this: object) {
      return getSession(this)
    },
  },
  newSession: {
    configurable: true,
    writable: true,
    value(this: object) {
      return newSession(this)
    },
  },
}

/**
 * The session middleware: below it, `await ctx.getSession()` (or `getSession(ctx)`,
 * `getSession(ctx.req)`) gives the request's session, loaded only when asked for.
 *
 * After the middleware below it returned, the session is committed and its Set-Cookie values are
 * appended to the response's headers with `Vary: Cookie` whenever it was read, before Koa
 * writes the response: string, JSON, Buffer and stream bodies, redirects, HEAD and 204 alike, and
 * visible to the middleware above. A commit error (`SessionStoreError`, with `status` 503;
 * `SessionCookieTooLargeError`) is thrown from the middleware to the error handling above it and
 * then Koa's (`app.on('error')`). An error thrown below it commits nothing: the session is
 * discarded (reads still work, writes throw `ERR_SESSION_COMMITTED`) and the error goes on, a
 * `SessionStoreError` with `status` 503.
 *
 * A response written to `ctx.res` directly (`ctx.respond = false`) is held from its first write
 * until the commit has finished; a commit error there goes to `ctx.onerror`. A session first asked
 * for above the middleware, after it returned, is committed the same way when Koa writes.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions))
 * app.use(async (ctx) => {
 *   const session = await ctx.getSession()
 *   session.set('visits', (session.get('visits') ?? 0) + 1)
 *   ctx.body = { visits: session.get('visits') }
 * })
 * ```
 */
export function sessionMiddleware<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
): KoaSessionMiddleware {
  return async (ctx, next) => {
    // Once per app: the accessors go on the prototype of its contexts.
    if ((ctx as { getSession?: unknown }).getSession === undefined) {
      Object.defineProperties(ctx.app.context, ACCESSORS)
    }
    const { req, res } = ctx
    // The manager's attach, called directly (no options object: measurably cheaper, see fastify.ts).
    const attached = sessions.attach(
      req,
      req.headers.cookie,
      () => nodeTransport(req),
      (active) => {
        holdNodeResponse(req, res, active, (error) => ctx.onerror(error as Error))
      },
    )
    aliasRequest(ctx, req)
    try {
      await next()
    } catch (error) {
      finishRequest(attached, true)
      throw error
    }
    if (!attached.active) return
    const result = finishRequest(attached, false)
    const cookies = Array.isArray(result) ? result : await result
    // Straight onto the node response, where Koa keeps its headers (`ctx.append` and `ctx.vary`
    // would copy every header first); like them, nothing once the headers are out.
    if (!res.headersSent) addSessionHeaders(res, attached, cookies, undefined)
  }
}
