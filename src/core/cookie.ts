/**
 * Reading the session cookie and writing Set-Cookie headers, with the `cookie` package, secure
 * defaults and the 4096-byte guard. Internal.
 *
 * @module
 */
import { stringifySetCookie } from 'cookie'
import { SessionConfigError, SessionCookieTooLargeError } from '../errors.ts'
import type { CookieEncoding, ResolvedCookieOptions } from './options.ts'
import { pythonQuote, readPythonCookie } from './python-cookie.ts'
import { CookieAttributes, cookieLayout, expiresText, uriValue } from './set-cookie.ts'

/** Browsers drop a Set-Cookie header larger than this. */
export const MAX_COOKIE_BYTES = 4096

/**
 * The value of cookie `name` in a Cookie header. With the `'uri'` encoding: percent-decoded,
 * without surrounding double quotes, and of duplicate names the first wins (browsers send the most
 * specific path first). With `'raw'` and `'python'`: as the Python seeds read it (see
 * `readPythonCookie`: unquoted, the last duplicate wins).
 */
export function readCookie(
  header: string | null | undefined,
  name: string,
  encoding: CookieEncoding = 'uri',
): string | undefined {
  if (encoding !== 'uri') return readPythonCookie(header, name)
  if (!header?.includes(name)) return undefined
  const value = findCookie(header, name)
  if (value === undefined || value === '') return undefined
  if (
    value.length >= 2 &&
    value.charCodeAt(0) === 34 &&
    value.charCodeAt(value.length - 1) === 34
  ) {
    return value.slice(1, -1)
  }
  return value
}

/** Space or horizontal tab, which `parseCookie` trims around names and values. */
function isBlank(code: number): boolean {
  return code === 0x20 || code === 0x09
}

/** `str.slice(start, end)` without surrounding blanks, as `parseCookie` takes names and values. */
function trimmedSlice(str: string, start: number, end: number): string {
  while (start < end && isBlank(str.charCodeAt(start))) start++
  while (end > start && isBlank(str.charCodeAt(end - 1))) end--
  return str.slice(start, end)
}

/** True when `str` between `start` and `end`, without surrounding blanks, is `name`. */
function isName(str: string, start: number, end: number, name: string): boolean {
  while (start < end && isBlank(str.charCodeAt(start))) start++
  while (end > start && isBlank(str.charCodeAt(end - 1))) end--
  return end - start === name.length && str.startsWith(name, start)
}

/** Percent-decodes as `parseCookie` does: only with a `%`, and as it is when malformed. */
function decodeValue(value: string): string {
  if (value.indexOf('%') === -1) return value
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}

/**
 * The value `parseCookie(header)[name]` of the `cookie` package gives (the first pair named
 * `name`, trimmed and percent-decoded), found without building the object of every cookie: the
 * same walk over the pairs, comparing names in place.
 */
function findCookie(header: string, name: string): string | undefined {
  const length = header.length
  if (length < 2) return undefined
  let index = 0
  do {
    const eq = header.indexOf('=', index)
    if (eq === -1) break // no more pairs
    const semicolon = header.indexOf(';', index)
    const end = semicolon === -1 ? length : semicolon
    if (eq > end) {
      // A part without `=`: go on from the last `;` before the next `=`.
      index = header.lastIndexOf(';', eq - 1) + 1
      continue
    }
    if (isName(header, index, eq, name)) return decodeValue(trimmedSlice(header, eq + 1, end))
    index = end + 1
  } while (index < length)
  return undefined
}

const PLACEHOLDER = 'v'
/** RFC 6265 cookie-octets. */
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/

/**
 * The value as the `'raw'` or `'python'` encoding writes it: as it is, or Python-quoted.
 *
 * @throws {SessionConfigError} for `'raw'` and a value with characters a cookie may not hold.
 */
function quotedValue(options: ResolvedCookieOptions, value: string): string {
  if (options.encoding === 'raw' && !COOKIE_OCTETS.test(value)) {
    throw new SessionConfigError(
      "cookie.encoding 'raw' cannot carry this codec's values (they hold characters a cookie may not); use 'python'",
    )
  }
  return options.encoding === 'python' ? pythonQuote(value) : value
}

/**
 * Puts the raw or Python-quoted value into a header serialized with {@link PLACEHOLDER} (the
 * `cookie` package refuses a quoted value holding `\`, which Python's quoting can produce).
 */
function withValue(header: string, options: ResolvedCookieOptions, value: string): string {
  const quoted = quotedValue(options, value)
  return `${options.name}=${quoted}${header.slice(options.name.length + 1 + PLACEHOLDER.length)}`
}

/**
 * Serializes a Set-Cookie header. `maxAge` in seconds (undefined: browser-session cookie).
 * `uriSafe`: the value holds only characters `encodeURIComponent` keeps (not scanned again).
 *
 * @throws {SessionCookieTooLargeError} when the header would pass {@link MAX_COOKIE_BYTES}.
 */
export function setCookie(
  options: ResolvedCookieOptions,
  value: string,
  maxAge: number | undefined,
  secure: boolean,
  now: number,
  uriSafe = false,
): string {
  const layout = cookieLayout(options, secure)
  const expiresMs = maxAge === undefined ? 0 : now + maxAge * 1000
  const expires = maxAge === undefined ? '' : expiresText(expiresMs)
  let header: string
  if (
    layout !== null &&
    expires !== undefined &&
    (maxAge === undefined || Number.isInteger(maxAge))
  ) {
    // The usual case: the fixed attributes as serialized once, the date as formatted this second.
    const text =
      options.encoding !== 'uri' ? quotedValue(options, value) : uriSafe ? value : uriValue(value)
    header =
      maxAge === undefined
        ? `${options.name}=${text}${layout.middle}${layout.tail}`
        : `${options.name}=${text}; Max-Age=${maxAge}${layout.middle}; Expires=${expires}${layout.tail}`
  } else {
    header = stringifySetCookie(
      new CookieAttributes(
        options,
        secure,
        options.encoding === 'uri' ? value : PLACEHOLDER,
        maxAge,
        maxAge === undefined ? undefined : new Date(expiresMs),
      ),
    )
    if (options.encoding !== 'uri') header = withValue(header, options, value)
  }
  if (header.length > MAX_COOKIE_BYTES) {
    throw new SessionCookieTooLargeError(header.length, MAX_COOKIE_BYTES)
  }
  return header
}

/** A Set-Cookie header that makes the browser drop the cookie. */
export function clearCookie(options: ResolvedCookieOptions, secure: boolean): string {
  return stringifySetCookie(new CookieAttributes(options, secure, '', 0, new Date(0)))
}

/**
 * What an adapter knows about how the request reached the server (and, for `clientInfo`, who sent
 * it).
 */
export interface RequestTransport {
  /** True when the connection was TLS (https). */
  readonly encrypted: boolean
  /** The Host header or URL host, with or without a port. */
  readonly host: string | null | undefined
  /** The peer's IP address (the socket's remote address), when the adapter knows it. */
  readonly remoteAddress?: string | null | undefined
  /**
   * The `X-Forwarded-Proto` header, when present. It can only turn the Secure attribute on, never
   * off, so it is safe to pass whether or not a proxy is trusted.
   */
  readonly forwardedProto?: string | null | undefined
  /**
   * The `User-Agent` header, when present. Read only with the `clientInfo` option, when the
   * session's record is written.
   */
  readonly userAgent?: string | null | undefined
}

const LOCAL_HOST = /^(?:localhost|[^:]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i
const LOCAL_ADDRESS = /^(?:127(?:\.\d{1,3}){3}|::1|::ffff:127(?:\.\d{1,3}){3})$/i

/**
 * True when the automatic Secure attribute may be left off: outside production
 * (`NODE_ENV !== 'production'`), for plain HTTP whose Host is localhost, `*.localhost`,
 * 127.0.0.0/8 or [::1], from a loopback peer (when known), and with no `X-Forwarded-Proto: https`.
 * A TLS-terminating proxy that forwards `Host: 127.0.0.1:3000` therefore still gets Secure in
 * production.
 */
export function isLocalPlainHttp(transport: RequestTransport, production: boolean): boolean {
  if (production || transport.encrypted) return false
  if (typeof transport.host !== 'string' || !LOCAL_HOST.test(transport.host)) return false
  const peer = transport.remoteAddress
  if (typeof peer === 'string' && peer !== '' && !LOCAL_ADDRESS.test(peer)) return false
  const proto = transport.forwardedProto
  if (typeof proto === 'string' && /(?:^|,)\s*https\s*(?:,|$)/i.test(proto)) return false
  return true
}
