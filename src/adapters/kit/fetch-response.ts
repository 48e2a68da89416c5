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

/** A response decorated in place: for which request, and its own headers from before. */
interface Decoration {
  /**
   * The {@link requestNumber} of the request whose session's headers were added (nested adapters
   * add theirs to the same); a number, as a cached response must not keep its request alive.
   */
  readonly request: number
  /** The response's own Set-Cookie values before any session's were added. */
  readonly cookies: readonly string[]
  /** Its own `Vary` before `Cookie` was added. */
  readonly vary: string | null
}

const NO_COOKIES: readonly string[] = []

const REQUEST_NUMBER: unique symbol = Symbol('sessionware.request-number')

/** A request, possibly numbered by {@link requestNumber}. */
interface Numbered {
  [REQUEST_NUMBER]?: number
}

let requests = 0

/** A number of its own for `request`, kept on it (the core hangs its state on it the same way). */
function requestNumber(request: Request): number {
  const numbered = request as Numbered
  let number = numbered[REQUEST_NUMBER]
  if (number === undefined) {
    number = ++requests
    numbered[REQUEST_NUMBER] = number
  }
  return number
}

/**
 * Marks a response given the session's headers in place, with its {@link Decoration}. A handler
 * that returns the same `Response` object for another request (a cached one) must not hand the
 * earlier request's cookie to the next visitor: such a response gets a copy built from the headers
 * it had before. (A property, not a WeakMap: a WeakMap entry per response costs about 1 µs of
 * insertion and collection on short-lived keys, measured on Node 20; the property, tens of ns.)
 */
const DECORATION: unique symbol = Symbol('sessionware.decoration')

/** A response, possibly marked with {@link DECORATION}. */
interface Marked {
  [DECORATION]?: Decoration
}

/**
 * Whether a response of this status may get the headers in place: 200–299 except 204 and 205,
 * and 400–599. Null-body answers (204, 205, 304) and redirects are what an application builds once
 * and returns on every request (no body to be used up), so they always get a copy; so do
 * `Response.error()` (status 0) and 1xx answers, as {@link withSessionCookies} handles them.
 */
function inPlace(status: number): boolean {
  return status >= 400 || (status >= 200 && status < 300 && status !== 204 && status !== 205)
}

/**
 * Puts the session's Set-Cookie values (after the application's own) and, with `vary`,
 * `Vary: Cookie` (merged as {@link withSessionCookies} does) on `response`, the answer to
 * `request`, in its own headers when it can, so the runtime sends the handler's `Response` as it
 * is (on Node.js, `@hono/node-server` keeps its fast path for a body it holds as a string or
 * bytes).
 *
 * A copy ({@link withSessionCookies}) instead when the headers are immutable (`Response.redirect()`
 * on most runtimes, a `fetch()` result) or the response is frozen, for redirects, 204, 205 and
 * 304 answers (often one shared object), and for a `Response` object this function decorated for
 * another request: that copy is built from the headers the object had before, so one visitor's
 * cookie never reaches the next. (Decorated again for the same request, by a second adapter
 * around the first, it keeps both's headers.) Use {@link undecorated} on the responses of
 * requests that never read their session.
 *
 * Returns `response` itself or its copy. Internal to the adapters.
 */
export function addSessionCookies(
  request: Request,
  response: Response,
  cookies: readonly string[],
  vary: boolean,
): Response {
  const earlier = (response as Marked)[DECORATION]
  if (earlier !== undefined && earlier.request !== (request as Numbered)[REQUEST_NUMBER]) {
    return cleanCopy(response, earlier, cookies, vary)
  }
  if (cookies.length === 0 && !vary) return response
  // Only `status` and `headers`: on @hono/node-server's Response, reading `body`, `type` or
  // `statusText` turns it into a full Fetch Response and loses the fast path.
  if (earlier === undefined && !(inPlace(response.status) && Object.isExtensible(response))) {
    return withSessionCookies(response, cookies, vary) // (a frozen response cannot be marked)
  }
  const headers = response.headers
  const ownVary = headers.get('vary')
  const ownCookies =
    earlier === undefined && headers.has('set-cookie') ? headers.getSetCookie() : NO_COOKIES
  let next = 0
  try {
    // The first change throws if the headers are immutable, and then nothing has changed.
    if (vary) headers.set('vary', varyOnCookie(ownVary))
    else headers.append('set-cookie', cookies[next++] as string)
  } catch {
    return withSessionCookies(response, cookies, vary)
  }
  for (; next < cookies.length; next++) headers.append('set-cookie', cookies[next] as string)
  if (earlier === undefined) {
    const decoration = { request: requestNumber(request), cookies: ownCookies, vary: ownVary }
    ;(response as Marked)[DECORATION] = decoration
  }
  return response
}

/**
 * `response`, the answer to `request`, as it should go out from a layer whose session was never
 * read: the object itself, or, if {@link addSessionCookies} put another request's cookies on this
 * same object, a copy without them. Internal to the adapters.
 */
export function undecorated(request: Request, response: Response): Response {
  const earlier = (response as Marked)[DECORATION]
  return earlier === undefined || earlier.request === (request as Numbered)[REQUEST_NUMBER]
    ? response
    : cleanCopy(response, earlier, NO_COOKIES, false)
}

/** A copy of a decorated `response` with its own headers as they were, plus `cookies` and Vary. */
function cleanCopy(
  response: Response,
  before: Decoration,
  cookies: readonly string[],
  vary: boolean,
): Response {
  const headers = new Headers(response.headers)
  headers.delete('set-cookie')
  for (const cookie of before.cookies) headers.append('set-cookie', cookie)
  for (const cookie of cookies) headers.append('set-cookie', cookie)
  if (vary) headers.set('vary', varyOnCookie(before.vary))
  else if (before.vary === null) headers.delete('vary')
  else headers.set('vary', before.vary)
  return new Response(response.body, {
    status: response.status,
    statusText: response.statusText,
    headers,
  })
}
