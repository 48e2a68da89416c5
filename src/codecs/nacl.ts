/**
 * The nacl codec: the session payload in a NaCl secretbox (XSalsa20-Poly1305), byte-compatible
 * with aiohttp-session's `NaClCookieStorage` and PyNaCl's
 * `SecretBox(key).encrypt(data, encoder=Base64Encoder)`. Use it to share a session cookie with a
 * Python service; for Node alone the sealed codec is the better choice (key ids, no peer packages).
 *
 * Subpath: `sessionware/codecs/nacl`.
 *
 * Token: **standard** base64 (`+`, `/`) **with** `=` padding of
 * `24-byte random nonce ‖ 16-byte Poly1305 tag ‖ XSalsa20 ciphertext of the UTF-8 payload`, the key
 * used as given (no derivation). A box names no key: with several keys, `decode` tries each in
 * turn. Every character is a cookie-octet, so the value needs no quoting; aiohttp quotes it anyway
 * when it holds `=` or `/`, and unquoting is the cookie layer's business.
 *
 * Back ends, both optional peer dependencies: libsodium through `sodium-native` (prebuilt
 * binaries; the fastest) when it loads, otherwise the audited pure-JS `@noble/ciphers`, which runs
 * on Node, Bun, Deno and Cloudflare Workers. Both give the same bytes. They are loaded with a
 * synchronous `require()` inside `try` when the first codec is created, so importing this module
 * never fails; where there is no `require()` (Workers), pass noble's function as the
 * `xsalsa20poly1305` option.
 *
 * @module
 */

import type { SessionDecodeError } from '../errors.ts'
import {
  buildNaclCodec,
  type NaclBackendName,
  type NaclCodec,
  type XSalsa20Poly1305,
} from '../lib/secretbox.ts'

export type { NaclBackendName, NaclCodec, XSalsa20Poly1305 }

/** Options of {@link createNaclCodec}. */
export interface NaclCodecOptions {
  /**
   * Secretbox keys, newest first: the first encrypts, every key decrypts. A key is 32 bytes,
   * given as 64 hex digits (`nacl.utils.random(32).hex()` in Python), as base64 of the 32 bytes
   * (44 characters; the standard or url-safe alphabet, `=` optional) or as a Uint8Array of 32
   * bytes (what aiohttp-session's `NaClCookieStorage(secret_key)` takes). The bytes are the
   * secretbox key itself, so the same key opens the Python side's cookies. Keys must be distinct.
   * A value opened by any key but the first is reported as `rotated`, and the core re-issues it
   * with the first key.
   *
   * A box does not say which key sealed it, so a value that no key opens costs one trial per key:
   * keep the list short.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
  /**
   * Which implementation seals and opens: `'sodium'` (libsodium through the `sodium-native`
   * package; fails at creation when it cannot be loaded), `'js'` (the pure-JS `@noble/ciphers`,
   * or the `xsalsa20poly1305` option when given) or `'auto'` (sodium when it loads, else js).
   * Every choice writes and reads the same bytes; the created codec's `backend` says which runs.
   *
   * Default: `'auto'`.
   */
  readonly backend?: 'auto' | NaclBackendName | undefined
  /**
   * The `xsalsa20poly1305` function of `@noble/ciphers/salsa.js` (v2), for runtimes where the
   * package cannot be loaded with `require()` (Cloudflare Workers, some bundles):
   * `import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js'` and pass it here. Used by the
   * `'js'` back end, and by `'auto'` when sodium-native is not available.
   *
   * Default: undefined, `@noble/ciphers` is loaded with `require()` when installed.
   */
  readonly xsalsa20poly1305?: XSalsa20Poly1305 | undefined
}

/**
 * Creates the nacl codec: XSalsa20-Poly1305 secretbox cookies as aiohttp-session's
 * `NaClCookieStorage` writes and reads them, with a key list.
 *
 * Keys are validated and the back end chosen once, here. Each `encode` draws a fresh 24-byte nonce
 * from the back end's CSPRNG (`randombytes_buf`, or `crypto.getRandomValues`). `decode` throws
 * only {@link SessionDecodeError}: `malformed` (not canonical padded standard base64, longer than
 * 4096 characters, shorter than a nonce and a tag, or an opened payload that is not UTF-8) or
 * `tampered` (no key opened it: changed, truncated, or sealed with a key that is not configured;
 * a box has no key id, so never `unknown-key`). Decoding is stricter than PyNaCl in one way only:
 * Python's base64 decoder also skips stray characters and takes non-canonical final digits,
 * which no encoder writes.
 *
 * @example
 * ```ts
 * import { createNaclCodec } from 'sessionware/codecs/nacl'
 *
 * // The key of aiohttp-session's NaClCookieStorage(bytes.fromhex(KEY_HEX)).
 * const codec = createNaclCodec({ keys: [process.env.NACL_KEY_HEX ?? ''] })
 * const value = codec.encode('{"user": "ann"}')
 * codec.decode(value) // { payload: '{"user": "ann"}', rotated: false }
 * codec.backend // 'sodium' when sodium-native is installed, else 'js'
 * ```
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty list of distinct 32-byte keys (64
 *   hex digits, base64 of 32 bytes, or 32 bytes), `backend` is not `'auto'`, `'sodium'` or `'js'`,
 *   the chosen back end cannot be loaded, or neither `sodium-native` nor `@noble/ciphers` is
 *   installed (the message says what to install).
 */
export function createNaclCodec(options: NaclCodecOptions): NaclCodec {
  return buildNaclCodec(options)
}
