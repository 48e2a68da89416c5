/**
 * The Hono 4 adapter: one middleware, on every runtime Hono runs on (Node.js with
 * `@hono/node-server`, Bun, Deno, Workers).
 *
 * Subpath: `sessionware/adapters/hono`.
 *
 * @module
 */
import type { Context, MiddlewareHandler } from 'hono'
import type { RequestTransport } from '../core/cookie.ts'
import type { SessionManager } from '../core/manager.ts'
import { getSession } from '../core/request.ts'
import type { Session } from '../core/session.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from '../core/types.ts'
import { aliasRequest } from './kit/attach.ts'
import { addSessionCookies, undecorated } from './kit/fetch-response.ts'
import { finishRequest } from './kit/policy.ts'
import { fetchTransport } from './kit/transport.ts'
import { attachUpgrade, isWebSocketUpgrade } from './kit/upgrade.ts'

/**
 * The value of the context variable `session`: the request's session, loaded when first awaited
 * (`await c.get('session')`, `await c.var.session`), once per request however often it is
 * awaited. A request that never awaits it loads nothing, stores nothing and gets no `Vary`.
 */
export interface LazySession<Data extends SessionData, Flash extends SessionData>
  extends PromiseLike<Session<Data, Flash>> {}

/** The context variables {@link sessionMiddleware} sets. */
export interface SessionVariables<
  Data extends SessionData = RegisteredData,
  Flash extends SessionData = RegisteredFlash<Data>,
> {
  /** The request's session, loaded when first awaited. */
  session: LazySession<Data, Flash>
}

declare module 'hono' {
  /** `c.get('session')` and `c.var.session`, typed by the application's `Register`. */
  interface ContextVariableMap extends SessionVariables {}
}

/** The `session` variable: a thenable that asks for the session only when awaited. */
class Lazy<Data extends SessionData, Flash extends SessionData>
  implements LazySession<Data, Flash>
{
  readonly #c: Context
  constructor(c: Context) {
    this.#c = c
  }
  // biome-ignore lint/suspicious/noThenProperty: awaiting the variable is how it loads the session
  then<A = Session<Data, Flash>, B = never>(
    fulfilled?: ((session: Session<Data, Flash>) => A | PromiseLike<A>) | null,
    rejected?: ((reason: unknown) => B | PromiseLike<B>) | null,
  ): Promise<A | B> {
    return getSession<Data, Flash>(this.#c).then(fulfilled, rejected)
  }
}

/**
 * A Hono middleware: in later handlers, `await c.get('session')`, `getSession(c)` and
 * `getSession(c.req.raw)` give the request's session (loaded on first use). After the handler, the
 * session is committed and the Set-Cookie headers and `Vary: Cookie` are added to `c.res`; `c.json`,
 * `c.text`, `c.redirect`, `c.body` with a stream, the streaming helpers and HEAD all get them. A
 * request that never asks for its session keeps its response untouched.
 *
 * - **The response**: the headers go into the handler's own `Response` when its headers are
 *   mutable and its status is 200–299 (not 204 or 205) or 400–599, so `@hono/node-server` sends it
 *   on its fast path. `c.res` becomes a copy for immutable headers (a `fetch()` result), for
 *   redirects and 204/205/304 answers (which an application may build once and share), and for a
 *   `Response` object returned again after an earlier request got its cookie in it: that copy
 *   has the object's headers as they were before, never the earlier visitor's cookie. A response
 *   shared between requests is still best built per request: the object keeps the last cookie
 *   put in it, for whatever else sends it outside this middleware.
 *
 * - **Errors**: a handler that throws commits nothing (no store write, no cookie); its error goes
 *   to `app.onError` as usual. A commit error (`SessionStoreError`,
 *   `SessionCookieTooLargeError`) goes to `app.onError` too, in place of the handler's response.
 * - **Streaming**: the commit happens when the handler returns its `Response`, before the first
 *   byte. Write the session before `stream()`/`streamText()`/`streamSSE()`; a write inside the
 *   stream callback after it awaited throws `SessionCommittedError` (the helper's `onError`, or
 *   `console.error`, reports it).
 * - **WebSocket upgrades** (`Upgrade: websocket`, any runtime's `upgradeWebSocket`): the session
 *   is readable in the handler and in the socket's events (keep `c`), read-only (writes throw
 *   `SessionReadOnlyError`), and the upgrade's answer passes through untouched.
 *
 * @example
 * ```ts
 * const app = new Hono()
 * app.use(sessionMiddleware(sessions))
 * app.get('/', async (c) => {
 *   const session = await c.get('session')
 *   session.set('visits', (session.get('visits') ?? 0) + 1)
 *   return c.json({ visits: session.get('visits') })
 * })
 * ```
 */
export function sessionMiddleware<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
): MiddlewareHandler<{ Variables: SessionVariables<Data, Flash> }> {
  return async (c, next) => {
    const request = c.req.raw
    const cookieHeader = request.headers.get('cookie')
    const transport = (): RequestTransport => fetchTransport(request)
    const upgrade = isWebSocketUpgrade(request.headers)
    // The manager's attach, called directly, as every adapter here does.
    const attached = upgrade
      ? attachUpgrade(sessions, request, { cookieHeader, transport })
      : sessions.attach(request, cookieHeader, transport)
    aliasRequest(c, request)
    c.set('session', new Lazy<Data, Flash>(c))
    if (upgrade) {
      await next() // the upgrade's answer (Deno's 101 Response) must reach the runtime as it is
      return
    }
    try {
      await next()
    } catch (error) {
      finishRequest(attached, true) // something other than an Error: Hono rethrows it
      throw error
    }
    if (!attached.active) {
      attached.readOnly() // asked for later (in a stream's callback, say): too late for a cookie
      replace(c, undecorated(request, c.res))
      return
    }
    const response = c.res
    let cookies: string[] = []
    if (c.error !== undefined) {
      finishRequest(attached, true) // the handler threw and app.onError answered: nothing saved
    } else {
      try {
        cookies = await finishRequest(attached, false)
      } catch (error) {
        c.res = undefined // app.onError's answer must not inherit the dropped response's headers
        await response.body?.cancel().catch(() => {})
        throw error
      }
    }
    replace(c, addSessionCookies(request, response, cookies, true))
  }
}

/** Makes `response` the context's response, unless it already is. */
function replace(c: Context, response: Response): void {
  if (response === c.res) return
  // Assigning c.res over an existing one copies the old headers onto the new (Set-Cookie
  // included), which would drop the session's cookie: clear it first.
  c.res = undefined
  c.res = response
}
