/**
 * The base64 codec, asgi-sessions' `base64` session type: the payload is merely url-safe base64
 * **with padding**, so the client can read it and change it at will. It exists to share sessions
 * with an asgi-sessions app configured that way, and refuses to be created when `NODE_ENV` is
 * `production` unless `unsafeAllowInProduction` says the caller knows.
 *
 * Subpath: `sessionware/codecs/base64`.
 *
 * Token: `urlsafe_b64encode(UTF-8 payload)`: the base64url alphabet (`-`, `_`) with `=` padding.
 * `{"user":"alice","n":1}` → `eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ==`. The empty payload encodes to the
 * empty value, which a cookie cannot tell from no value, so `decode('')` rejects it as `malformed`
 * (asgi-sessions never writes it: an empty session is `{}`).
 *
 * @module
 */

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, type SessionDecodeError } from '../errors.ts'
import { MAX_TOKEN_LENGTH, malformed } from '../lib/token.ts'

/** Options of {@link createBase64Codec}. */
export interface Base64CodecOptions {
  /**
   * Set to `true` to create the codec even when `NODE_ENV` is `production`, accepting that anyone
   * can read and forge the session (as with asgi-sessions' `base64` type itself). Only for sharing
   * sessions with such an app; the session must then hold nothing a client may not change.
   *
   * Default: `false` (refused in production).
   */
  readonly unsafeAllowInProduction?: boolean
}

/** Padded base64url: groups of four digits, the last one possibly ending in `=` or `==`. */
const PADDED_BASE64URL = /^(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2}==|[A-Za-z0-9_-]{3}=)?$/
/** Rejects bytes that are not UTF-8 (nothing authenticates the value) and keeps a BOM. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Cookie value = padded base64url(UTF-8 payload); no secrecy, no integrity. */
const base64Codec: CookieCodec = Object.freeze({
  name: 'base64',

  encode(payload: string): string {
    return Buffer.from(payload, 'utf8').toString('base64').replaceAll('+', '-').replaceAll('/', '_')
  },

  decode(value: string): DecodedCookie {
    if (typeof value !== 'string') throw malformed(`expected a string, got ${typeof value}`)
    if (value.length === 0) throw malformed('empty value')
    if (value.length > MAX_TOKEN_LENGTH) {
      throw malformed(`${value.length} characters, over the ${MAX_TOKEN_LENGTH}-character limit`)
    }
    if (!PADDED_BASE64URL.test(value)) throw malformed('not padded base64url')
    const bytes = Buffer.from(value, 'base64url')
    // Canonical only: the spare bits after the last byte must be zero (one encoding per payload).
    if (Buffer.from(bytes).toString('base64url') !== value.replace(/=+$/, '')) {
      throw malformed('not canonical base64url')
    }
    let payload: string
    try {
      payload = UTF8.decode(bytes)
    } catch {
      throw malformed('payload is not UTF-8')
    }
    return { payload, rotated: false }
  },
})

/**
 * Creates the base64 codec: no encryption, no signature — anyone can read and forge the session.
 * Use it only to share sessions with an asgi-sessions app of the `base64` type; use
 * `createSealedCodec` (or the `jwt` codec for asgi-sessions) everywhere else.
 *
 * `decode` throws only {@link SessionDecodeError} with reason `malformed` (not canonical padded
 * base64url of UTF-8 text, empty, or longer than 4096 characters); `rotated` is always false.
 * Python's decoder is laxer (it skips characters outside the alphabet); every value Python writes
 * is canonical.
 *
 * @example
 * ```ts
 * import { createBase64Codec } from 'sessionware/codecs/base64'
 *
 * const codec = createBase64Codec()
 * codec.encode('{"user":"alice","n":1}') // 'eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ=='
 * ```
 *
 * @throws {SessionConfigError} when `process.env.NODE_ENV` is `'production'` at creation time and
 *   `unsafeAllowInProduction` is not `true`.
 */
export function createBase64Codec(options: Base64CodecOptions = {}): CookieCodec {
  if (
    globalThis.process?.env?.NODE_ENV === 'production' &&
    options?.unsafeAllowInProduction !== true
  ) {
    throw new SessionConfigError(
      'the base64 codec lets clients read and forge sessions; it refuses NODE_ENV=production ' +
        'unless unsafeAllowInProduction: true says you know (prefer the jwt codec for ' +
        'asgi-sessions, or createSealedCodec from sessionware/codecs/sealed)',
    )
  }
  return base64Codec
}
