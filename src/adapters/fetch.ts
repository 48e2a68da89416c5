/**
 * The Fetch-API adapter: Bun.serve, Deno.serve, Next.js route handlers, Workers, and anything else
 * with `(Request) => Response`.
 *
 * Subpath: `sessionware/adapters/fetch`.
 *
 * @module
 */
import type { SessionManager } from '../core/manager.ts'
import type { SessionData } from '../core/types.ts'
import { attachRequest } from './kit/attach.ts'
import { withSessionCookies } from './kit/fetch-response.ts'
import { finishRequest } from './kit/policy.ts'
import { fetchTransport } from './kit/transport.ts'

/** A Fetch-API handler; extra arguments (a server, an env, a context) are passed through. */
export type FetchHandler<Args extends unknown[]> = (
  request: Request,
  ...args: Args
) => Response | Promise<Response>

/**
 * Wraps a Fetch-API handler: inside it, `getSession(request)` works, and after it returns, the
 * session is committed and a copy of the response is returned with the Set-Cookie headers and
 * `Vary: Cookie` (the handler's own `Response` is never modified: it may be shared). A handler
 * that never asked for its session gets its own `Response` back untouched. A handler that throws
 * or rejects saves nothing, and its error rejects the returned promise, as does a commit error,
 * for the runtime's or framework's error path.
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
>(
  sessions: SessionManager<Data, Flash>,
  handler: FetchHandler<Args>,
): (request: Request, ...args: Args) => Promise<Response> {
  return async (request, ...args) => {
    const attached = attachRequest(sessions, request, {
      cookieHeader: request.headers.get('cookie'),
      transport: () => fetchTransport(request),
    })
    let response: Response
    try {
      response = await handler(request, ...args)
    } catch (error) {
      finishRequest(attached, true)
      throw error
    }
    if (!attached.active) return response
    let cookies: string[]
    try {
      cookies = await finishRequest(attached, false)
    } catch (error) {
      await response.body?.cancel().catch(() => {}) // the response is dropped: release its body
      throw error
    }
    return withSessionCookies(response, cookies, true)
  }
}
