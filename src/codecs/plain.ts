/**
 * The plain codec, **for tests only**: the session payload is merely base64url-encoded, so the
 * client can read it and change it at will. It refuses to be created when `NODE_ENV` is
 * `production`.
 *
 * Subpath: `sessionware/codecs/plain`.
 *
 * Token: `base64url(UTF-8 payload)`, unpadded. The empty payload encodes to the empty value,
 * which a cookie cannot tell from no value, so `decode('')` rejects it as `malformed`.
 *
 * @module
 */

import type { CookieCodec } from '../core/types.ts'
import { SessionConfigError, type SessionDecodeError } from '../errors.ts'
import { plainCodec } from '../lib/plain-codec.ts'

/**
 * Creates the plain codec: no encryption, no signature — anyone can read and forge the session.
 * Use it in tests to see the payload in the cookie; use `createSealedCodec` everywhere else.
 *
 * `decode` throws only {@link SessionDecodeError} with reason `malformed` (not canonical
 * base64url of UTF-8 text, empty, or longer than 4096 characters); `rotated` is always false.
 *
 * @example
 * ```ts
 * import { createPlainCodec } from 'sessionware/codecs/plain'
 *
 * const codec = createPlainCodec()
 * codec.encode('{"n":1}') // 'eyJuIjoxfQ'
 * ```
 *
 * @throws {SessionConfigError} when `process.env.NODE_ENV` is `'production'` at creation time.
 */
export function createPlainCodec(): CookieCodec {
  if (globalThis.process?.env?.NODE_ENV === 'production') {
    throw new SessionConfigError(
      'the plain codec lets clients read and forge sessions and is for tests only; it refuses ' +
        'NODE_ENV=production (use createSealedCodec from sessionware/codecs/sealed)',
    )
  }
  return plainCodec
}
