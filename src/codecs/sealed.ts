/**
 * The sealed codec: the session payload is encrypted and authenticated, so the client can neither
 * read nor change it. This is the recommended codec for cookie storage.
 *
 * Subpath: `sessionware/codecs/sealed`.
 *
 * Tokens, both always readable, one written (the `cipher` option):
 *
 * - `xchacha20-poly1305` (default): `<kid>~<base64url(nonce ‖ ciphertext ‖ tag)>` with a 6-character
 *   key id, a random 24-byte nonce per seal, the XChaCha20-Poly1305 (IETF) ciphertext of the UTF-8
 *   payload and a 16-byte tag; the key id is additional authenticated data. The key is derived
 *   once per configured key with HKDF-SHA256 (info `sessionware sealed v2`). Random 192-bit
 *   nonces never collide in practice, so a key can seal any number of cookies.
 * - `aes-256-gcm` (the format of sessionware 0.x): `<kid>.<base64url(iv ‖ ciphertext ‖ tag)>` with a
 *   random 12-byte IV, AES-256-GCM, the key id as additional data, HKDF info
 *   `sessionware sealed v1`.
 *
 * A token in the format the codec does not write is reported as `rotated`, so the core re-issues
 * it in the written format: upgrading moves every active cookie to XChaCha20-Poly1305 on its next
 * request, with the same keys (the README's "Sealed cookie formats" has the rollout order).
 *
 * XChaCha20-Poly1305 runs on libsodium (`sodium-native`, optional peer dependency, about five
 * times faster than node:crypto here), else on node:crypto's ChaCha20-Poly1305 (Node, Deno), else
 * on the pure-JS `@noble/ciphers` (optional; Bun, Workers). All give the same bytes.
 *
 * @module
 */

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { gcmOpen, gcmSeal } from '../lib/aes-gcm.ts'
import { createKeyRing, KID_LENGTH, type RingKey } from '../lib/keys.ts'
import { randomPool } from '../lib/random-pool.ts'
import {
  decodeTokenPart,
  decodeTokenPartInto,
  MAX_TOKEN_LENGTH,
  malformed,
  tokenProblem,
} from '../lib/token.ts'
import {
  chooseXChaCha,
  type XChaCha20Poly1305,
  type XChaChaBackend,
  type XChaChaBackendName,
  XNONCE_BYTES,
  XTAG_BYTES,
} from '../lib/xchacha.ts'

export type { XChaCha20Poly1305, XChaChaBackendName }

/** The cipher a sealed codec writes with, as the `cipher` option spells it. */
export type SealedCipher = 'xchacha20-poly1305' | 'aes-256-gcm'

/** Options of {@link createSealedCodec}. */
export interface SealedCodecOptions {
  /**
   * Secret keys, newest first: the first encrypts, every key decrypts. A key is a string of at
   * least 32 characters or a Uint8Array of at least 32 bytes (`npx sessionware keygen` prints a
   * fresh one); keys must be distinct. To rotate, put the new key first and keep the old one
   * second until every cookie sealed with it has expired: cookies opened with the old key are
   * reported as `rotated` and re-issued with the new one.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
  /**
   * The cipher new cookies are sealed with. Both formats are always read; a cookie in the other
   * one is re-issued in this one. Keep `'aes-256-gcm'` while a rolling upgrade still has processes
   * running sessionware 0.x (they read only that format), then drop the option.
   *
   * Default: `'xchacha20-poly1305'`.
   */
  readonly cipher?: SealedCipher | undefined
  /**
   * Which XChaCha20-Poly1305 implementation runs: `'sodium'` (libsodium through `sodium-native`),
   * `'node'` (node:crypto's ChaCha20-Poly1305 with HChaCha20), `'js'` (`@noble/ciphers`, or the
   * `xchacha20poly1305` option) or `'auto'` (the first of these that is available). Every choice
   * writes and reads the same bytes; the codec's `backend` says which runs.
   *
   * Default: `'auto'`.
   */
  readonly backend?: 'auto' | XChaChaBackendName | undefined
  /**
   * The `xchacha20poly1305` function of `@noble/ciphers/chacha.js` (v2), for runtimes where
   * neither libsodium nor node:crypto's ChaCha20-Poly1305 is available and the package cannot be
   * loaded with `require()` (Cloudflare Workers, some bundles).
   *
   * Default: undefined, `@noble/ciphers` is loaded with `require()` when installed.
   */
  readonly xchacha20poly1305?: XChaCha20Poly1305 | undefined
}

/** The sealed codec, with what it writes and what runs it. */
export interface SealedCodec extends CookieCodec {
  readonly name: 'sealed'
  /** The cipher new cookies are sealed with. */
  readonly cipher: SealedCipher
  /** The XChaCha20-Poly1305 implementation, or undefined when none is available (AES only). */
  readonly backend: XChaChaBackendName | undefined
}

/** HKDF info of the AES-256-GCM format (sessionware 0.x). */
const GCM_INFO = 'sessionware sealed v1'
/** HKDF info of the XChaCha20-Poly1305 format. */
const XCHACHA_INFO = 'sessionware sealed v2'
/**
 * A key id's shape. The data part is checked by `decodeTokenPart`, and a known key id by the key
 * lookup: this is only asked of an id no key has, to tell a malformed token from an unknown key.
 */
const KEY_ID = /^[A-Za-z0-9_-]{6}$/
/** `~`, the separator of the XChaCha20-Poly1305 format. */
const TILDE = 0x7e
/** `.`, the separator of the AES-256-GCM format. */
const DOT = 0x2e
/** What a token that has neither format's shape is told. */
const SHAPE = 'expected <key id>~<sealed data> or <key id>.<sealed data>'

/** How many nonces one refill of the nonce pool holds. */
const NONCE_POOL_SIZE = 256

/** The error for a token whose key id no key of the ring has. */
function noKey(kid: string): SessionDecodeError {
  return KEY_ID.test(kid)
    ? new SessionDecodeError('unknown-key')
    : malformed(tokenProblem(kid) ?? SHAPE)
}

/** A fresh random 24-byte nonce from a pool of CSPRNG bytes, as the AES IVs are. */
const nextNonce = randomPool(XNONCE_BYTES, NONCE_POOL_SIZE)

/** A key of the XChaCha ring with its raw bytes (libsodium and HChaCha20 take bytes). */
interface XKey {
  readonly ring: RingKey
  readonly bytes: Buffer
}

/**
 * Creates the sealed codec: authenticated encryption of the session payload with XChaCha20-Poly1305
 * (or AES-256-GCM, see `cipher`). The cookie is opaque to the client and any change to it is
 * detected.
 *
 * Keys are validated and derived and the implementation chosen once, here; `encode` and `decode`
 * do no key derivation. `decode` finds the key by the token's key id (a map lookup, never trial
 * decryption) and throws only {@link SessionDecodeError}: `malformed` (not a sealed token, or
 * longer than 4096 characters), `unknown-key` (a key id none of the keys has) or `tampered` (the
 * tag did not verify).
 *
 * @example
 * ```ts
 * import { createSealedCodec } from 'sessionware/codecs/sealed'
 *
 * const codec = createSealedCodec({ keys: [process.env.SESSION_KEY ?? ''] })
 * const value = codec.encode('{"user":"ann"}')
 * codec.decode(value) // { payload: '{"user":"ann"}', rotated: false }
 * codec.backend // 'sodium' with sodium-native installed, else 'node' on Node
 * ```
 *
 * @throws {SessionConfigError} when `keys` is empty, holds a key shorter than 32 characters or
 *   bytes, or holds the same key twice; when `cipher` or `backend` is not one of its values; or
 *   when the cipher is XChaCha20-Poly1305 and no implementation is available (the message says
 *   what to install).
 */
export function createSealedCodec(options: SealedCodecOptions): SealedCodec {
  const gcmRing = createKeyRing(options?.keys, GCM_INFO, 'sealed')
  const xRing = createKeyRing(options.keys, XCHACHA_INFO, 'sealed')
  const cipher = options.cipher ?? 'xchacha20-poly1305'
  if (cipher !== 'xchacha20-poly1305' && cipher !== 'aes-256-gcm') {
    throw new SessionConfigError(
      `sealed codec: cipher must be 'xchacha20-poly1305' or 'aes-256-gcm', got ${String(cipher)}`,
    )
  }
  const chosen = chooseXChaCha(options)
  if (typeof chosen === 'string' && (cipher === 'xchacha20-poly1305' || options.backend)) {
    throw new SessionConfigError(`sealed codec: ${chosen}`)
  }
  const xchacha: XChaChaBackend | undefined = typeof chosen === 'string' ? undefined : chosen
  const xKeys = new Map<string, XKey>()
  for (const [kid, ring] of xRing.byKid) xKeys.set(kid, { ring, bytes: ring.secret.export() })
  const xWriter = xKeys.get(xRing.primary.kid) as XKey
  const gcmWriter = gcmRing.primary
  const writesXChaCha = cipher === 'xchacha20-poly1305'

  function sealXChaCha(payload: string, backend: XChaChaBackend): string {
    const message = Buffer.from(payload, 'utf8')
    const box = Buffer.allocUnsafe(XNONCE_BYTES + message.length + XTAG_BYTES)
    const nonce = nextNonce()
    nonce.copy(box, 0)
    backend.seal(box.subarray(XNONCE_BYTES), message, xWriter.ring.kidBytes, nonce, xWriter.bytes)
    return `${xWriter.ring.kid}~${box.toString('base64url')}`
  }

  // The sealed data of the token being opened is decoded into one buffer of the codec's, with
  // its nonce view made once: the token is opened and its plaintext copied out before `decode`
  // returns, so nothing outlives the call. (A buffer per token and two views of it cost about
  // 1,000 instructions more per request.)
  const box = Buffer.allocUnsafeSlow((MAX_TOKEN_LENGTH * 3) >>> 2)
  const boxNonce = box.subarray(0, XNONCE_BYTES)

  function openXChaCha(value: string): DecodedCookie {
    const length = decodeTokenPartInto(value.slice(KID_LENGTH + 1), box)
    if (length < 0) throw malformed('sealed data is not canonical base64url')
    if (length < XNONCE_BYTES + XTAG_BYTES) throw malformed('sealed data is too short')
    // The writing key's id is compared in place; any other is looked up.
    const key = value.startsWith(xWriter.ring.kid) ? xWriter : xKeys.get(value.slice(0, KID_LENGTH))
    if (key === undefined) throw noKey(value.slice(0, KID_LENGTH))
    if (xchacha === undefined) {
      throw malformed('an XChaCha20-Poly1305 token, and no implementation is available here')
    }
    const opened = xchacha.open(
      box.subarray(XNONCE_BYTES, length),
      key.ring.kidBytes,
      boxNonce,
      key.bytes,
    )
    if (opened === null) throw new SessionDecodeError('tampered')
    return { payload: opened.toString('utf8'), rotated: key.ring.index !== 0 || !writesXChaCha }
  }

  function openGcm(value: string): DecodedCookie {
    const sealed = decodeTokenPart(value.slice(KID_LENGTH + 1))
    if (sealed === null) throw malformed('sealed data is not canonical base64url')
    if (sealed.length < 12 + 16) throw malformed('sealed data is too short')
    const kid = value.slice(0, KID_LENGTH)
    const key = gcmRing.byKid.get(kid)
    if (key === undefined) throw noKey(kid)
    let payload: string
    try {
      payload = gcmOpen('aes-256-gcm', key.secret, sealed, key.kidBytes).toString('utf8')
    } catch (cause) {
      throw new SessionDecodeError('tampered', undefined, { cause })
    }
    return { payload, rotated: key.index !== 0 || writesXChaCha }
  }

  return Object.freeze({
    name: 'sealed' as const,
    uriSafe: true,
    cipher,
    backend: xchacha?.name,

    encode(payload: string): string {
      if (writesXChaCha) return sealXChaCha(payload, xchacha as XChaChaBackend)
      const sealed = gcmSeal('aes-256-gcm', gcmWriter.secret, payload, gcmWriter.kidBytes)
      return `${gcmWriter.kid}.${sealed.toString('base64url')}`
    },

    decode(value: string): DecodedCookie {
      // No scan of the whole token here: decodeTokenPartInto checks the data part as it decodes
      // it (a regular expression over a 300-character token cost 2,000 instructions).
      if (
        typeof value === 'string' &&
        value.length > KID_LENGTH + 1 &&
        value.length <= MAX_TOKEN_LENGTH
      ) {
        const separator = value.charCodeAt(KID_LENGTH)
        if (separator === TILDE) return openXChaCha(value)
        if (separator === DOT) return openGcm(value)
      }
      throw malformed(tokenProblem(value) ?? SHAPE)
    },
  })
}
