/**
 * The itsdangerous codec: the `TimestampSigner` format of Python's itsdangerous, as Starlette's
 * `SessionMiddleware` and starsessions' `CookieStore` write it, so a Node service and a Python one
 * can read each other's session cookies. Integrity only: **the payload is readable by anyone who
 * sees the cookie**.
 *
 * Subpath: `sessionware/codecs/itsdangerous`.
 *
 * Token: `<payload>.<timestamp>.<signature>`, itsdangerous' defaults throughout: the HMAC key is
 * SHA-1(`itsdangerous.Signer` ‖ `signer` ‖ secret) ("django-concat" derivation, salt
 * `itsdangerous.Signer`), the timestamp is the signing time in whole seconds as a big-endian
 * integer without leading zero bytes, the signature is HMAC-SHA1 of `<payload>.<timestamp>`, and
 * both are base64url without padding. The payload is signed as given: Starlette and starsessions
 * sign the standard base64 (with `+`, `/` and `=`) of their JSON, and producing that text is the
 * caller's business, not the codec's.
 *
 * @module
 */

import { createHash, createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { secretList, signingKeyIndex } from '../lib/python-secrets.ts'
import { decodeTokenPart, MAX_TOKEN_LENGTH, malformed } from '../lib/token.ts'

/** Options of {@link createItsdangerousCodec}. */
export interface ItsdangerousCodecOptions {
  /**
   * Secrets, newest first: the first signs, every secret verifies (a value verified by any but the
   * first is reported as `rotated` and re-issued). A secret is the Python side's secret as it is
   * configured there: Starlette's and starsessions' `secret_key` string (UTF-8), or raw bytes.
   * Any non-empty secret is accepted, because the Python side decides; a long random one (32
   * characters or more) is what makes the signature worth having. Starlette and starsessions use a
   * single secret, so a list of more than one is for rotation on the Node side only (itsdangerous
   * itself signs with the LAST of a list; here the FIRST signs).
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
  /**
   * The oldest signature accepted, in seconds, as itsdangerous' `unsign(value, max_age=…)`: a value
   * is rejected (reason `expired`) when `now - timestamp > maxAge`, and also when its timestamp
   * lies in the future (`now < timestamp`), as itsdangerous does. `now` and the timestamp are whole
   * seconds. `null`: no age check at all (itsdangerous' `max_age=None`).
   *
   * Match the Python side: Starlette's `max_age` (default 1209600), starsessions' `lifetime`
   * (31104000 when its lifetime is 0).
   *
   * Default: `1209600` (14 days, Starlette's default).
   */
  readonly maxAge?: number | null
  /**
   * Test-only: the clock, in epoch milliseconds, used for the timestamp written and for the age
   * check. Default: `Date.now`.
   */
  readonly clock?: () => number
}

/** itsdangerous' default salt, then the "django-concat" derivation's fixed word. */
const DERIVATION_PREFIX = Buffer.from('itsdangerous.Signersigner', 'latin1')
/** Base64url length of a 20-byte HMAC-SHA1, unpadded. */
const SIG_CHARS = 27
/** Starlette's default `max_age`. */
const DEFAULT_MAX_AGE = 1_209_600
const DOT = 46
/**
 * RFC 6265 cookie-octets: the only characters a payload (and so a value) may hold. Starlette's
 * standard base64 and every base64url text are inside this set.
 */
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*$/

/** The `<timestamp>` part for `seconds`: big-endian bytes without leading zeros, base64url. */
function encodeTimestamp(seconds: number): string {
  const bytes: number[] = []
  for (let rest = seconds; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256)
  return Buffer.from(bytes).toString('base64url')
}

/**
 * Creates the itsdangerous codec, byte-compatible with Starlette's `SessionMiddleware` and
 * starsessions' `CookieStore` (`TimestampSigner(secret).sign(…)` / `.unsign(…, max_age=…)`).
 * Integrity only — **the payload is readable by anyone who sees the cookie**.
 *
 * `encode(payload)` signs the payload text as given, which must consist of RFC 6265 cookie-octets
 * (base64 text, as Starlette and starsessions give; a `TypeError` otherwise, so a missing base64
 * step shows at once). `decode` throws only {@link SessionDecodeError}: `malformed` (not
 * `<payload>.<timestamp>.<signature>` of cookie-octets with canonical base64url parts, or longer
 * than 4096 characters), `tampered` (the HMAC did not verify with any secret; the format has no
 * key id, so a value signed with an unknown secret is `tampered` too) or `expired` (older than
 * `maxAge`, or a timestamp in the future). Signatures are compared with `crypto.timingSafeEqual`.
 *
 * @example
 * ```ts
 * import { createItsdangerousCodec } from 'sessionware/codecs/itsdangerous'
 *
 * // Starlette: SessionMiddleware(app, secret_key=SECRET)  (max_age 14 days)
 * const codec = createItsdangerousCodec({ keys: [process.env.SECRET_KEY ?? ''] })
 * const value = codec.encode('eyJ1c2VyIjogImFsaWNlIn0=') // base64 of {"user": "alice"}
 * codec.decode(value) // { payload: 'eyJ1c2VyIjogImFsaWNlIn0=', rotated: false }
 * ```
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty array of distinct non-empty secrets,
 *   `maxAge` is not `null` or a finite number of seconds ≥ 0, or `clock` is not a function.
 */
export function createItsdangerousCodec(options: ItsdangerousCodecOptions): CookieCodec {
  const secrets = secretList(options?.keys, 'itsdangerous')
  const maxAge = options.maxAge === undefined ? DEFAULT_MAX_AGE : options.maxAge
  if (maxAge !== null && (typeof maxAge !== 'number' || !Number.isFinite(maxAge) || maxAge < 0)) {
    throw new SessionConfigError(
      `itsdangerous codec: options.maxAge must be null or a finite number of seconds >= 0, got ${String(maxAge)}`,
    )
  }
  const clock = options.clock ?? Date.now
  if (typeof clock !== 'function') {
    throw new SessionConfigError('itsdangerous codec: options.clock must be a function')
  }
  const keys: KeyObject[] = secrets.map((secret) =>
    createSecretKey(createHash('sha1').update(DERIVATION_PREFIX).update(secret).digest()),
  )
  const writer = keys[0] as KeyObject

  // The timestamp part changes once a second: cache it.
  let cachedSecond = -1
  let cachedSuffix = ''

  return Object.freeze({
    name: 'itsdangerous',
    // With an age check, a value's validity changes with time: never cached by cookie storage.
    cacheable: maxAge === null,

    encode(payload: string): string {
      if (typeof payload !== 'string' || !COOKIE_OCTETS.test(payload)) {
        throw new TypeError(
          'itsdangerous codec: the payload must be cookie-safe text (RFC 6265 cookie-octets), ' +
            'such as the base64 Starlette and starsessions sign',
        )
      }
      const second = Math.floor(clock() / 1000)
      if (second !== cachedSecond) {
        cachedSecond = second
        cachedSuffix = `.${encodeTimestamp(second)}`
      }
      const signed = payload + cachedSuffix
      return `${signed}.${createHmac('sha1', writer).update(signed, 'latin1').digest('base64url')}`
    },

    decode(value: string): DecodedCookie {
      if (typeof value !== 'string') throw malformed(`expected a string, got ${typeof value}`)
      if (value.length === 0) throw malformed('empty value')
      if (value.length > MAX_TOKEN_LENGTH) {
        throw malformed(`${value.length} characters, over the ${MAX_TOKEN_LENGTH}-character limit`)
      }
      if (!COOKIE_OCTETS.test(value)) throw malformed('characters other than cookie-octets')
      const sigDot = value.length - SIG_CHARS - 1
      if (sigDot < 1 || value.charCodeAt(sigDot) !== DOT) {
        throw malformed('expected <payload>.<timestamp>.<signature>')
      }
      const tsDot = value.lastIndexOf('.', sigDot - 1)
      if (tsDot === -1) throw malformed('expected <payload>.<timestamp>.<signature>')
      const sigText = value.slice(sigDot + 1)
      const tsText = value.slice(tsDot + 1, sigDot)
      // decodeTokenPart refuses anything but the exact base64url of the bytes (dots included).
      const sig = decodeTokenPart(sigText)
      const ts = decodeTokenPart(tsText)
      if (sig === null || ts === null) throw malformed('a part is not canonical base64url')
      const signed = value.slice(0, sigDot)
      const index = signingKeyIndex('sha1', keys, signed, sig)
      if (index === -1) throw new SessionDecodeError('tampered')
      if (maxAge !== null) {
        // More than 6 bytes is past 2^48 seconds: in the future, so expired as well.
        if (ts.length > 6) throw new SessionDecodeError('expired')
        const age = Math.floor(clock() / 1000) - (ts.length === 0 ? 0 : ts.readUIntBE(0, ts.length))
        if (age > maxAge || age < 0) throw new SessionDecodeError('expired')
      }
      return { payload: value.slice(0, tsDot), rotated: index !== 0 }
    },
  })
}
