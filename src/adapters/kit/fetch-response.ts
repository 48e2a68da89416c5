/**
 * Putting the session's Set-Cookie headers on a Fetch `Response`. Part of
 * `sessionware/adapters/kit`.
 *
 * @module
 */
import { varyOnCookie } from './vary.ts'

/**
 * A copy of `response` (same status, status text, headers and body stream) with the session's
 * Set-Cookie values appended after the application's own, and, with `vary`, `Cookie` added to its
 * `Vary` header (merged with an existing value, never duplicated; `*` is left as is).
 *
 * Always returns a new `Response` and never modifies the given one: a handler may return a shared,
 * module-level `Response`, and one visitor's cookie must never reach the next. (Its body stream,
 * if any, moves to the copy, as a body can be read only once anyway.) A `Response.error()` cannot
 * be copied and is returned as it is. Pass `vary: true` whenever the session was read
 * (`attached.active`), even with no cookie to send.
 */
export function withSessionCookies(
  response: Response,
  cookies: readonly string[],
  vary: boolean,
): Response {
  if (response.type === 'error') return response
  const headers = new Headers(response.headers)
  for (const cookie of cookies) headers.append('set-cookie', cookie)
  if (vary) headers.set('vary', varyOnCookie(headers.get('vary')))
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  })
}
