/**
 * The jwt codec: an HS256 compact JWS, as asgi-sessions' `jwt` session type writes it with PyJWT
 * (`jwt.encode(session, secret, algorithm="HS256")`), so a Node service and a Python one can read
 * each other's session cookies. Integrity only: **the payload is readable by anyone who sees the
 * cookie**.
 *
 * Subpath: `sessionware/codecs/jwt`.
 *
 * Token: `<header>.<payload>.<signature>`, each base64url without padding: the header is exactly
 * `{"alg":"HS256","typ":"JWT"}` (PyJWT's), the payload is the UTF-8 of the payload text as given
 * (a JSON object; PyJWT writes compact JSON with ASCII escapes, and producing that text is the
 * caller's business), the signature is HMAC-SHA256 of `<header>.<payload>` keyed with the secret's
 * bytes. No claims are added or checked: `exp`, `nbf` and the like in the payload are data to this
 * codec.
 *
 * Built on node:crypto's HMAC: the codec contract is synchronous, and the `jose` library signs
 * and verifies only asynchronously (WebCrypto); node:crypto is also the faster of the two.
 *
 * @module
 */

import { createHmac, createSecretKey, type KeyObject } from 'node:crypto'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionDecodeError } from '../errors.ts'
import { secretList, signingKeyIndex } from '../lib/python-secrets.ts'
import { decodeTokenPart, malformed, tokenProblem } from '../lib/token.ts'

/** Options of {@link createJwtCodec}. */
export interface JwtCodecOptions {
  /**
   * Secrets, newest first: the first signs, every secret verifies (a token verified by any but the
   * first is reported as `rotated` and re-issued). A secret is the HMAC key as PyJWT takes it: a
   * string (its UTF-8 bytes, asgi-sessions' `secret_key`) or raw bytes. Any non-empty secret is
   * accepted, because the Python side decides; RFC 7518 asks for at least 32 bytes for HS256.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
}

/** base64url(`{"alg":"HS256","typ":"JWT"}`): PyJWT 2's header for HS256. */
const HEADER = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9'
/** Base64url length of a 32-byte HMAC-SHA256, unpadded. */
const SIG_CHARS = 43
const DOT = 46
const OPEN_BRACE = 123
/** Rejects bytes that are not UTF-8 (checked only after the signature) and keeps a BOM. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** True when `text` parses as JSON to a plain object (not an array, not null). */
function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text)
    return typeof value === 'object' && value !== null && !Array.isArray(value)
  } catch {
    return false
  }
}

/** True when the base64url header part decodes to a JSON object whose `alg` is `HS256`. */
function isHs256Header(part: string): boolean {
  if (part === HEADER) return true
  const bytes = decodeTokenPart(part)
  if (bytes === null) return false
  try {
    const header: unknown = JSON.parse(UTF8.decode(bytes))
    return (
      typeof header === 'object' &&
      header !== null &&
      !Array.isArray(header) &&
      (header as { alg?: unknown }).alg === 'HS256' &&
      !('crit' in header)
    )
  } catch {
    return false
  }
}

/**
 * Creates the jwt codec, byte-compatible with asgi-sessions' `jwt` type (PyJWT HS256).
 * Integrity only — **the payload is readable by anyone who sees the cookie**.
 *
 * `encode(payload)` signs the payload text as given; it must be a JSON object (checked cheaply:
 * it must start with `{`; a `TypeError` otherwise). `decode` throws only
 * {@link SessionDecodeError}: `malformed` (not three canonical base64url parts, a header that is
 * not a JSON object, or longer than 4096 characters), `tampered` (an `alg` other than `HS256` —
 * `none` included — or an HMAC that did not verify with any secret; the format has no key id, so a
 * token of an unknown secret is `tampered` too) and, after the signature verified, `malformed`
 * again when the payload is not UTF-8 JSON of an object. Signatures are compared with
 * `crypto.timingSafeEqual`. Headers other than PyJWT's are accepted when their `alg` is `HS256`
 * and they carry no `crit`.
 *
 * @example
 * ```ts
 * import { createJwtCodec } from 'sessionware/codecs/jwt'
 *
 * const codec = createJwtCodec({ keys: [process.env.SECRET_KEY ?? ''] })
 * const token = codec.encode('{"user":"alice","n":1}')
 * codec.decode(token) // { payload: '{"user":"alice","n":1}', rotated: false }
 * ```
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty array of distinct non-empty secrets.
 */
export function createJwtCodec(options: JwtCodecOptions): CookieCodec {
  const keys: KeyObject[] = secretList(options?.keys, 'jwt').map((secret) =>
    createSecretKey(secret),
  )
  const writer = keys[0] as KeyObject
  const prefix = `${HEADER}.`

  return Object.freeze({
    name: 'jwt',
    uriSafe: true,

    encode(payload: string): string {
      if (typeof payload !== 'string' || payload.charCodeAt(0) !== OPEN_BRACE) {
        throw new TypeError('jwt codec: the payload must be the JSON text of an object')
      }
      const signed = prefix + Buffer.from(payload, 'utf8').toString('base64url')
      return `${signed}.${createHmac('sha256', writer).update(signed, 'latin1').digest('base64url')}`
    },

    decode(value: string): DecodedCookie {
      const problem = tokenProblem(value)
      if (problem !== undefined) throw malformed(problem)
      const sigDot = value.length - SIG_CHARS - 1
      const headerDot = value.indexOf('.')
      if (sigDot < 1 || value.charCodeAt(sigDot) !== DOT || headerDot >= sigDot - 1) {
        throw malformed('expected <header>.<payload>.<signature>')
      }
      const sig = decodeTokenPart(value.slice(sigDot + 1))
      const body = decodeTokenPart(value.slice(headerDot + 1, sigDot))
      if (sig === null || body === null) throw malformed('a part is not canonical base64url')
      if (!isHs256Header(value.slice(0, headerDot))) {
        const header = decodeTokenPart(value.slice(0, headerDot))
        if (header === null || !isJsonObject(header.toString('utf8'))) {
          throw malformed('the header is not a JSON object')
        }
        throw new SessionDecodeError(
          'tampered',
          'session cookie rejected: tampered (the JWT alg is not HS256)',
        )
      }
      const signed = value.slice(0, sigDot)
      const index = signingKeyIndex('sha256', keys, signed, sig)
      if (index === -1) throw new SessionDecodeError('tampered')
      let payload: string
      try {
        payload = UTF8.decode(body)
      } catch {
        throw malformed('the payload is not UTF-8')
      }
      if (!isJsonObject(payload)) throw malformed('the payload is not a JSON object')
      return { payload, rotated: index !== 0 }
    },
  })
}
