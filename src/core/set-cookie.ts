/**
 * Writing the session's Set-Cookie header quickly: the attributes that do not change from one
 * response to the next are serialized once per cookie options, and the `Expires` date once per
 * second, so a response pays for its value and `Max-Age` only. The text is exactly what the
 * `cookie` package's `stringifySetCookie` gives for the same cookie. The headers the package
 * writes itself take the cookie options' fields from {@link CookieAttributes}. Internal.
 *
 * @module
 */
import { type SetCookie, stringifySetCookie } from 'cookie'
import type { ResolvedCookieOptions } from './options.ts'

/** The fixed parts of a Set-Cookie header, around its value, `Max-Age` and `Expires`. */
export interface Layout {
  /** `; Domain=…; Path=…`, between `Max-Age` and `Expires`. */
  readonly middle: string
  /** `; HttpOnly; Secure; Partitioned; SameSite=…`, after `Expires`. */
  readonly tail: string
}

const SAME_SITE = { lax: '; SameSite=Lax', strict: '; SameSite=Strict', none: '; SameSite=None' }

/** Layouts by cookie options, for `Secure` off [0] and on [1]; null: the package's own path. */
const layouts = new WeakMap<ResolvedCookieOptions, Array<Layout | null | undefined>>()

/**
 * A cookie as the `cookie` package's `stringifySetCookie` takes it: the name and attributes of the
 * cookie options, with this response's `Secure`, and the value, `Max-Age` and `Expires` given. The
 * one place that maps the options to the package's fields. A class, not an object literal: a
 * cleared cookie makes one per request (see `RequestSessionState`).
 */
export class CookieAttributes implements SetCookie {
  readonly name: string
  readonly value: string
  readonly path: string
  readonly domain: string | undefined
  readonly httpOnly: boolean
  readonly secure: boolean
  readonly sameSite: ResolvedCookieOptions['sameSite']
  readonly partitioned: true | undefined
  readonly maxAge: number | undefined
  readonly expires: Date | undefined

  constructor(
    options: ResolvedCookieOptions,
    secure: boolean,
    value: string,
    maxAge?: number,
    expires?: Date,
  ) {
    this.name = options.name
    this.value = value
    this.path = options.path
    this.domain = options.domain
    this.httpOnly = options.httpOnly
    this.secure = secure
    this.sameSite = options.sameSite
    this.partitioned = options.partitioned || undefined
    this.maxAge = maxAge
    this.expires = expires
  }
}

/**
 * The layout of the options' cookie, built once and checked against the package's own text (which
 * also validates the attributes: when it throws, so does every header with them, as before). Null
 * when the package writes something else: the caller then lets it serialize every header.
 */
export function cookieLayout(options: ResolvedCookieOptions, secure: boolean): Layout | null {
  let known = layouts.get(options)
  const cached = known?.[secure ? 1 : 0]
  if (cached !== undefined) return cached
  const reference = stringifySetCookie(new CookieAttributes(options, secure, ''))
  let layout: Layout | null = {
    middle:
      (options.domain ? `; Domain=${options.domain}` : '') +
      (options.path ? `; Path=${options.path}` : ''),
    tail:
      (options.httpOnly ? '; HttpOnly' : '') +
      (secure ? '; Secure' : '') +
      (options.partitioned ? '; Partitioned' : '') +
      SAME_SITE[options.sameSite],
  }
  if (reference !== `${options.name}=${layout.middle}${layout.tail}`) layout = null
  if (known === undefined) {
    known = [undefined, undefined]
    layouts.set(options, known)
  }
  known[secure ? 1 : 0] = layout
  return layout
}

/** The latest `Expires` text and the second it names. */
let expiresSecond = Number.NaN
let expiresCached = ''

/** The largest time a `Date` holds, in ms. */
const MAX_DATE_MS = 8.64e15

/**
 * `new Date(ms).toUTCString()`, computed once per second; undefined for a time the package would
 * refuse (not a valid date) or before 1970.
 */
export function expiresText(ms: number): string | undefined {
  if (!(ms >= 0 && ms <= MAX_DATE_MS)) return undefined
  const second = Math.floor(ms / 1000)
  if (second !== expiresSecond) {
    expiresCached = new Date(ms).toUTCString()
    expiresSecond = second
  }
  return expiresCached
}

/** Characters `encodeURIComponent` leaves as they are. */
const UNRESERVED = /^[A-Za-z0-9\-_.!~*'()]*$/

/** The value as `stringifySetCookie` writes it: `encodeURIComponent`, skipped when it changes nothing. */
export function uriValue(value: string): string {
  return UNRESERVED.test(value) ? value : encodeURIComponent(value)
}
