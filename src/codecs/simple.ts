/**
 * The simple codec, aiohttp-session's `SimpleCookieStorage`: the cookie value is the payload text
 * itself (aiohttp's JSON), so the client can read it and change it at will. It exists to share
 * sessions with an aiohttp app configured that way, and refuses to be created when `NODE_ENV` is
 * `production` unless `unsafeAllowInProduction` says the caller knows.
 *
 * Subpath: `sessionware/codecs/simple`.
 *
 * The value is NOT cookie-safe: JSON holds `"`, `,`, spaces and (unescaped) any character. The
 * cookie layer must quote it on the way out the way Python's `http.cookies` does (aiohttp:
 * `"…"` with `\"`, `\\` and `\ooo` octal escapes, e.g. `,` → `\054`) and unquote it on the way in;
 * this codec sees and returns the unquoted text.
 *
 * @module
 */

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, type SessionDecodeError } from '../errors.ts'
import { MAX_TOKEN_LENGTH, malformed } from '../lib/token.ts'

/** Options of {@link createSimpleCodec}. */
export interface SimpleCodecOptions {
  /**
   * Set to `true` to create the codec even when `NODE_ENV` is `production`, accepting that anyone
   * can read and forge the session (as with aiohttp-session's `SimpleCookieStorage` itself). Only
   * for sharing sessions with such an app; the session must then hold nothing a client may not
   * change.
   *
   * Default: `false` (refused in production).
   */
  readonly unsafeAllowInProduction?: boolean
}

/** Cookie value = the payload text; no encoding, no secrecy, no integrity. */
const simpleCodec: CookieCodec = Object.freeze({
  name: 'simple',

  encode(payload: string): string {
    return payload
  },

  decode(value: string): DecodedCookie {
    if (typeof value !== 'string') throw malformed(`expected a string, got ${typeof value}`)
    if (value.length === 0) throw malformed('empty value')
    if (value.length > MAX_TOKEN_LENGTH) {
      throw malformed(`${value.length} characters, over the ${MAX_TOKEN_LENGTH}-character limit`)
    }
    return { payload: value, rotated: false }
  },
})

/**
 * Creates the simple codec: the payload is the cookie value — anyone can read and forge the
 * session. Use it only to share sessions with an aiohttp app using `SimpleCookieStorage`; use
 * `createSealedCodec` (or the `fernet` codec for aiohttp) everywhere else.
 *
 * `encode` returns the payload unchanged (the empty payload included; aiohttp writes `{}` for an
 * empty session). `decode` returns the value unchanged and throws only {@link SessionDecodeError}
 * with reason `malformed` (not a string, empty — aiohttp fails on `""` too — or longer than 4096
 * characters); whether the text is JSON is the serializer's check. `rotated` is always false.
 *
 * @example
 * ```ts
 * import { createSimpleCodec } from 'sessionware/codecs/simple'
 *
 * const codec = createSimpleCodec()
 * codec.encode('{"created": 1700000000, "session": {"user": "alice"}}') // the same text
 * ```
 *
 * @throws {SessionConfigError} when `process.env.NODE_ENV` is `'production'` at creation time and
 *   `unsafeAllowInProduction` is not `true`.
 */
export function createSimpleCodec(options: SimpleCodecOptions = {}): CookieCodec {
  if (
    globalThis.process?.env?.NODE_ENV === 'production' &&
    options?.unsafeAllowInProduction !== true
  ) {
    throw new SessionConfigError(
      'the simple codec lets clients read and forge sessions; it refuses NODE_ENV=production ' +
        'unless unsafeAllowInProduction: true says you know (prefer the fernet codec for ' +
        'aiohttp-session, or createSealedCodec from sessionware/codecs/sealed)',
    )
  }
  return simpleCodec
}
