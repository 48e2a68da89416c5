/**
 * The Fetch-API adapter: Bun.serve, Deno.serve, Next.js route handlers, Workers, and anything else
 * with `(Request) => Response`.
 *
 * Subpath: `sessionware/adapters/fetch`.
 *
 * @module
 */
import type { RequestTransport } from '../core/cookie.ts'
import type { SessionManager } from '../core/manager.ts'
import type { SessionData } from '../core/types.ts'
import { addSessionCookies, undecorated } from './kit/fetch-response.ts'
import { finishRequest } from './kit/policy.ts'
import { fetchTransport } from './kit/transport.ts'
import { attachUpgrade, isWebSocketUpgrade } from './kit/upgrade.ts'

/**
 * A Fetch-API handler; extra arguments (a server, an env, a context) are passed through. `Result`
 * may include `undefined` for Bun, whose handler answers nothing after `server.upgrade()`.
 */
export type FetchHandler<Args extends unknown[], Result extends Response | undefined = Response> = (
  request: Request,
  ...args: Args
) => Result | Promise<Result>

/**
 * Wraps a Fetch-API handler: inside it, `getSession(request)` works, and after it returns, the
 * session is committed and the response is returned with the Set-Cookie headers and
 * `Vary: Cookie`. A handler that never asked for its session gets its own `Response` back
 * untouched. A handler that throws or rejects saves nothing, and its error rejects the returned
 * promise, as does a commit error, for the runtime's or framework's error path.
 *
 * The headers go into the handler's own `Response` when its headers are mutable and its status
 * is 200–299 (not 204 or 205) or 400–599: no copy of the response and its body. A copy is
 * returned instead for immutable headers (`Response.redirect()` on Node.js and Deno, a `fetch()`
 * result), for redirects and 204/205/304 answers (which an application may build once and
 * share), and for a `Response` object returned again after an earlier request got its cookie in
 * it: that copy has the object's headers as they were before, never the earlier visitor's
 * cookie. A response shared between requests is still best built per request: the object keeps
 * the last cookie put in it, for whatever else sends it outside this wrapper.
 *
 * A WebSocket upgrade request (`Upgrade: websocket`) gets a read-only session: `getSession` reads
 * it, writes throw `SessionReadOnlyError`, and the handler's answer (Deno's 101 `Response`, or
 * nothing after Bun's `server.upgrade()`) is returned exactly as it is.
 *
 * @example
 * ```ts
 * Bun.serve({ fetch: withSessions(sessions, async (request) => {
 *   const session = await getSession(request)
 *   return Response.json(session.toJSON())
 * }) })
 * ```
 */
export function withSessions<
  Data extends SessionData,
  Flash extends SessionData,
  Args extends unknown[] = [],
  Result extends Response | undefined = Response,
>(
  sessions: SessionManager<Data, Flash>,
  handler: FetchHandler<Args, Result>,
): (request: Request, ...args: Args) => Promise<Result> {
  return async (request, ...args) => {
    const cookieHeader = request.headers.get('cookie')
    const transport = (): RequestTransport => fetchTransport(request)
    if (isWebSocketUpgrade(request.headers)) {
      attachUpgrade(sessions, request, { cookieHeader, transport })
      return handler(request, ...args)
    }
    // The manager's attach, called directly, as every adapter here does.
    const attached = sessions.attach(request, cookieHeader, transport)
    let response: Result
    try {
      response = await handler(request, ...args)
    } catch (error) {
      finishRequest(attached, true)
      throw error
    }
    if (response === undefined) {
      attached.discard() // no response to carry a cookie
      return response
    }
    if (!attached.active) {
      // A body stream that asks for its session later has no response to carry a cookie.
      attached.readOnly()
      return undecorated(request, response) as Result
    }
    let cookies: string[]
    try {
      cookies = await finishRequest(attached, false)
    } catch (error) {
      await response.body?.cancel().catch(() => {}) // the response is dropped: release its body
      throw error
    }
    return addSessionCookies(request, response, cookies, true) as Result
  }
}
