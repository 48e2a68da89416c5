/**
 * The signed codec: the session payload travels in the clear, with an HMAC-SHA256 signature that
 * stops the client from changing it. The client CAN READ everything in the session (it is only
 * base64url-encoded): use the sealed codec unless the payload is meant to be public.
 *
 * Subpath: `sessionware/codecs/signed`.
 *
 * Token: `<base64url(payload)>.<kid>.<base64url(mac)>`, where `kid` is the 6-character key id and
 * `mac` is the 32-byte HMAC-SHA256 of everything before the last dot. The HMAC key is derived
 * once per configured key with HKDF-SHA256 (info `sessionware signed v1`), so the same key string
 * gives unrelated keys in other codecs.
 *
 * @module
 */

import { createHmac, timingSafeEqual } from 'node:crypto'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionDecodeError } from '../errors.ts'
import { createKeyRing, KID_LENGTH } from '../lib/keys.ts'
import { decodeTokenPart, malformed, tokenProblem } from '../lib/token.ts'

/** Options of {@link createSignedCodec}. */
export interface SignedCodecOptions {
  /**
   * Secret keys, newest first: the first signs, every key verifies. A key is a string of at least
   * 32 characters or a Uint8Array of at least 32 bytes (`npx sessionware keygen` prints a fresh
   * one); keys must be distinct. To rotate, put the new key first and keep the old one second
   * until every cookie signed with it has expired: cookies verified with the old key are reported
   * as `rotated` and re-issued with the new one.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
}

/** HKDF info: separates signed-codec keys from the keys every other codec derives. */
const HKDF_INFO = 'sessionware signed v1'
/** Base64url length of a 32-byte HMAC-SHA256. */
const MAC_CHARS = 43
/** Shortest token: empty payload, dot, key id, dot, MAC. */
const MIN_TOKEN_CHARS = 1 + KID_LENGTH + 1 + MAC_CHARS
const DOT = 46

/**
 * Creates the signed codec: the payload is base64url-encoded and signed with HMAC-SHA256.
 * Integrity only — **the payload is readable by anyone who sees the cookie**; prefer
 * `createSealedCodec` unless that is intended.
 *
 * Keys are validated and derived once, here. `decode` finds the key by the token's key id (a map
 * lookup), compares MACs with `crypto.timingSafeEqual`, and throws only
 * {@link SessionDecodeError}: `malformed` (not a signed token, or longer than 4096 characters),
 * `unknown-key` (a key id none of the keys has) or `tampered` (the MAC did not verify).
 *
 * @example
 * ```ts
 * import { createSignedCodec } from 'sessionware/codecs/signed'
 *
 * const codec = createSignedCodec({ keys: [process.env.SESSION_KEY ?? ''] })
 * const value = codec.encode('{"theme":"dark"}')
 * codec.decode(value) // { payload: '{"theme":"dark"}', rotated: false }
 * ```
 *
 * @throws {SessionConfigError} when `keys` is empty, holds a key shorter than 32 characters or
 *   bytes, or holds the same key twice.
 */
export function createSignedCodec(options: SignedCodecOptions): CookieCodec {
  const ring = createKeyRing(options?.keys, HKDF_INFO, 'signed')
  const writer = ring.primary
  const suffix = `.${writer.kid}`

  return Object.freeze({
    name: 'signed',
    uriSafe: true,

    encode(payload: string): string {
      const signed = Buffer.from(payload, 'utf8').toString('base64url') + suffix
      const mac = createHmac('sha256', writer.secret).update(signed, 'latin1').digest('base64url')
      return `${signed}.${mac}`
    },

    decode(value: string): DecodedCookie {
      const problem = tokenProblem(value)
      if (problem !== undefined) throw malformed(problem)
      const macDot = value.length - MAC_CHARS - 1
      const kidDot = macDot - KID_LENGTH - 1
      if (
        value.length < MIN_TOKEN_CHARS ||
        value.charCodeAt(macDot) !== DOT ||
        value.charCodeAt(kidDot) !== DOT
      ) {
        throw malformed('expected <payload>.<key id>.<signature>')
      }
      const kid = value.slice(kidDot + 1, macDot)
      const mac = decodeTokenPart(value.slice(macDot + 1))
      const payload = decodeTokenPart(value.slice(0, kidDot))
      if (kid.includes('.') || mac === null || payload === null) {
        throw malformed('a part is not canonical base64url')
      }
      const key = ring.byKid.get(kid)
      if (key === undefined) throw new SessionDecodeError('unknown-key')
      const expected = createHmac('sha256', key.secret)
        .update(value.slice(0, macDot), 'latin1')
        .digest()
      if (!timingSafeEqual(expected, mac)) throw new SessionDecodeError('tampered')
      return { payload: payload.toString('utf8'), rotated: key.index !== 0 }
    },
  })
}
