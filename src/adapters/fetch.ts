/**
 * The Fetch-API adapter: Bun.serve, Deno.serve, Next.js route handlers, Workers, and anything else
 * with `(Request) => Response`.
 *
 * Subpath: `sessionware/adapters/fetch`.
 *
 * @module
 */
import type { RequestTransport } from '../core/cookie.ts'
import type { Sessions } from '../core/manager.ts'
import type { SessionData } from '../core/types.ts'

/** A Fetch-API handler; extra arguments (a server, an env, a context) are passed through. */
export type FetchHandler<Args extends unknown[]> = (
  request: Request,
  ...args: Args
) => Response | Promise<Response>

function transportOf(request: Request): () => RequestTransport {
  return () => {
    const url = new URL(request.url)
    return { encrypted: url.protocol === 'https:', host: url.host }
  }
}

/**
 * Wraps a Fetch-API handler: inside it, `getSession(request)` works, and after it returns, the
 * session is committed and its Set-Cookie headers are appended to the response (copied first when
 * its headers are immutable, as for `Response.redirect()`). Errors from the handler or the commit
 * reject the returned promise, for the runtime's or framework's error path.
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
  sessions: Sessions<Data, Flash>,
  handler: FetchHandler<Args>,
): (request: Request, ...args: Args) => Promise<Response> {
  return async (request, ...args) => {
    const rs = sessions.attach(request, request.headers.get('cookie'), transportOf(request))
    const response = await handler(request, ...args)
    if (!rs.active) return response
    let cookies: string[]
    try {
      cookies = await rs.commit()
    } catch (error) {
      await response.body?.cancel().catch(() => {}) // the response is dropped: release its body
      throw error
    }
    if (cookies.length === 0) return response
    let out = response
    try {
      out.headers.append('set-cookie', cookies[0] as string)
    } catch {
      out = new Response(response.body, response)
      out.headers.append('set-cookie', cookies[0] as string)
    }
    for (let i = 1; i < cookies.length; i++) out.headers.append('set-cookie', cookies[i] as string)
    return out
  }
}
