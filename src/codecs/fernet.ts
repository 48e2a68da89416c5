/**
 * The Fernet codec: the session payload as a Fernet token, byte-compatible with Python's
 * `cryptography.fernet` and so with aiohttp-session's `EncryptedCookieStorage`, starsessions'
 * `FernetEncryptor` and asgi-sessions' `fernet` sessions. Use it to share a session cookie with
 * a Python service; for Node alone the sealed codec is the better choice (AES-256-GCM, key ids).
 *
 * Subpath: `sessionware/codecs/fernet`.
 *
 * Token (the Fernet spec): url-safe base64 **with** `=` padding of
 * `0x80 ‖ 64-bit big-endian seconds ‖ 16-byte random IV ‖ AES-128-CBC-PKCS7(UTF-8 payload) ‖
 * HMAC-SHA256(everything before)`. Key bytes 0–15 sign, bytes 16–31 encrypt. A Fernet token has
 * no key id: with several keys, `decode` tries each key's HMAC in turn, as `MultiFernet` does.
 * Every character of a token is a cookie-octet (`=` included), so it needs no quoting; aiohttp
 * quotes it anyway when the token contains `=`, and unquoting is the cookie layer's business.
 *
 * @module
 */

import type { CookieCodec } from '../core/types.ts'
import type { SessionDecodeError } from '../errors.ts'
import { buildFernetCodec, randomIv } from '../lib/fernet.ts'

/** Options of {@link createFernetCodec}. */
export interface FernetCodecOptions {
  /**
   * Fernet keys, newest first, as `MultiFernet` takes them: the first encrypts, every key
   * decrypts. A key is either the 44-character url-safe base64 text (what Python's
   * `Fernet.generate_key()` returns, and what aiohttp-session, starsessions and asgi-sessions are
   * configured with) or its 32 raw bytes as a Uint8Array (as aiohttp's `EncryptedCookieStorage`
   * also accepts). Keys must be distinct. A token opened by any key but the first is reported as
   * `rotated`, and the core re-issues it with the first key.
   *
   * Each key in the list costs one HMAC-SHA256 when a token does not open with the keys before
   * it (a Fernet token does not say which key made it), so keep the list short.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
  /**
   * Maximum token age in seconds, checked against the timestamp inside the token as Python's
   * `Fernet.decrypt(token, ttl=…)` does (aiohttp-session passes its `max_age`): a token older
   * than `ttl` seconds, or dated more than 60 seconds in the future (Fernet's clock skew), is
   * rejected as `expired`. A positive whole number.
   *
   * Default: undefined, no age check (as Python without `ttl`; asgi-sessions and starsessions
   * decrypt that way). The session's own idle and absolute timeouts apply either way.
   */
  readonly ttl?: number | undefined
  /**
   * The clock, in epoch milliseconds: the timestamp written into new tokens and the `now` of the
   * `ttl` check (both in whole seconds, like Python's `int(time.time())`). For tests.
   *
   * Default: `Date.now`.
   */
  readonly clock?: (() => number) | undefined
}

/**
 * Creates the Fernet codec: Fernet tokens (AES-128-CBC + HMAC-SHA256) as Python's
 * `cryptography.fernet` writes and reads them, with a `MultiFernet`-style key list.
 *
 * Keys are validated and split once, here. `decode` throws only {@link SessionDecodeError}:
 * `malformed` (not padded url-safe base64, longer than 4096 characters, not a Fernet length or
 * version byte, or a decrypted payload that is not UTF-8), `tampered` (the HMAC did not verify
 * with any key, or no key whose HMAC verified could decrypt it), or `expired` (only with `ttl`:
 * the authenticated timestamp is too old or too far in the future). A Fernet token carries no key
 * id, so a token of a key that is not configured is `tampered`, never `unknown-key`.
 *
 * Decoding is stricter than Python in one way only: Python also accepts the standard base64
 * alphabet, missing bits and stray characters in a token, which no Fernet implementation writes.
 *
 * @example
 * ```ts
 * import { createFernetCodec } from 'sessionware/codecs/fernet'
 *
 * // The same key as aiohttp-session's EncryptedCookieStorage(key, max_age=3600).
 * const codec = createFernetCodec({ keys: [process.env.FERNET_KEY ?? ''], ttl: 3600 })
 * const value = codec.encode('{"user": "ann"}')
 * codec.decode(value) // { payload: '{"user": "ann"}', rotated: false }
 * ```
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty list of distinct Fernet keys
 *   (44-character url-safe base64 text or 32 bytes), `ttl` is not a positive whole number, or
 *   `clock` is not a function.
 */
export function createFernetCodec(options: FernetCodecOptions): CookieCodec {
  return buildFernetCodec(options, randomIv)
}
