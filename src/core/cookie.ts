/**
 * Reading the session cookie and writing Set-Cookie headers, with the `cookie` package, secure
 * defaults and the 4096-byte guard. Internal.
 *
 * @module
 */
import { parseCookie, stringifySetCookie } from 'cookie'
import { SessionCookieTooLargeError } from '../errors.ts'
import type { ResolvedCookieOptions } from './options.ts'

/** Browsers drop a Set-Cookie header larger than this. */
export const MAX_COOKIE_BYTES = 4096

/**
 * The value of cookie `name` in a Cookie header, without surrounding double quotes. With duplicate
 * names the first wins (browsers send the most specific path first).
 */
export function readCookie(header: string | null | undefined, name: string): string | undefined {
  if (!header?.includes(name)) return undefined
  const value = parseCookie(header)[name]
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

/**
 * Serializes a Set-Cookie header. `maxAge` in seconds (undefined: browser-session cookie).
 *
 * @throws {SessionCookieTooLargeError} when the header would pass {@link MAX_COOKIE_BYTES}.
 */
export function setCookie(
  options: ResolvedCookieOptions,
  value: string,
  maxAge: number | undefined,
  secure: boolean,
  now: number,
): string {
  const header = stringifySetCookie({
    name: options.name,
    value,
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    secure,
    sameSite: options.sameSite,
    partitioned: options.partitioned || undefined,
    maxAge,
    expires: maxAge === undefined ? undefined : new Date(now + maxAge * 1000),
  })
  if (header.length > MAX_COOKIE_BYTES) {
    throw new SessionCookieTooLargeError(header.length, MAX_COOKIE_BYTES)
  }
  return header
}

/** A Set-Cookie header that makes the browser drop the cookie. */
export function clearCookie(options: ResolvedCookieOptions, secure: boolean): string {
  return stringifySetCookie({
    name: options.name,
    value: '',
    path: options.path,
    domain: options.domain,
    httpOnly: options.httpOnly,
    secure,
    sameSite: options.sameSite,
    partitioned: options.partitioned || undefined,
    maxAge: 0,
    expires: new Date(0),
  })
}

/** What an adapter knows about how the request reached the server. */
export interface RequestTransport {
  /** True when the connection was TLS (https). */
  readonly encrypted: boolean
  /** The Host header or URL host, with or without a port. */
  readonly host: string | null | undefined
}

const LOCAL_HOST = /^(?:localhost|[^:]+\.localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d+)?$/i

/** True for plain HTTP to localhost, `*.localhost`, 127.0.0.0/8 or [::1]: no Secure there. */
export function isLocalPlainHttp(transport: RequestTransport): boolean {
  return (
    !transport.encrypted && typeof transport.host === 'string' && LOCAL_HOST.test(transport.host)
  )
}
