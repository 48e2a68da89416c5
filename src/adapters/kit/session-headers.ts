/**
 * Adding the session's headers (`Vary: Cookie` and its Set-Cookie values) to a node:http
 * response, after the application's own. Internal to the adapter kit.
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { AttachedRequest } from '../../core/request.ts'
import { varyOnCookie } from './vary.ts'
import { takeHeader } from './write-head.ts'

/**
 * Adds the session's headers to `res`: `Vary: Cookie` when the session was read, and the
 * Set-Cookie values after the application's. `head`: the arguments of a held `writeHead`, whose
 * headers take precedence over those set with `setHeader` (node's own rule).
 */
export function addSessionHeaders(
  res: ServerResponse,
  attached: AttachedRequest,
  cookies: string[],
  head: unknown[] | undefined,
): void {
  // A writeHead given only a status (node's own, for write and end) names no header.
  const headers = head !== undefined && head.length > 1 ? head : undefined
  if (attached.active) {
    const app = headers ? takeHeader(headers, 'vary') : null
    res.setHeader('vary', varyOnCookie(app === null ? res.getHeader('vary') : app))
  }
  if (cookies.length > 0) {
    // Cookies given to writeHead replace those set with setHeader (node's own precedence); the
    // session's cookies are added to whichever the application chose.
    let app = headers ? takeHeader(headers, 'set-cookie') : null
    if (app === null) {
      const existing = res.getHeader('set-cookie')
      app = existing === undefined ? [] : [existing].flat().map(String)
    }
    res.setHeader('set-cookie', app.length === 0 ? cookies : app.concat(cookies))
  }
}
