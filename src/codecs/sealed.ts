/**
 * The sealed codec: the session payload is encrypted and authenticated with AES-256-GCM, so the
 * client can neither read nor change it. This is the recommended codec for cookie storage.
 *
 * Subpath: `sessionware/codecs/sealed`.
 *
 * Token: `<kid>.<base64url(iv ‖ ciphertext ‖ tag)>` with a 6-character key id, a random 12-byte
 * IV per seal, the ciphertext of the UTF-8 payload and a 16-byte tag; the key id is additional
 * authenticated data. The AES key is derived once per configured key with HKDF-SHA256
 * (info `sessionware sealed v1`), so the same key string gives unrelated keys in other codecs.
 *
 * @module
 */

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionDecodeError } from '../errors.ts'
import { createKeyRing, KID_LENGTH } from '../lib/keys.ts'
import { decodeTokenPart, malformed, tokenProblem } from '../lib/token.ts'

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
}

const ALGORITHM = 'aes-256-gcm'
/** HKDF info: separates sealed-codec keys from the keys every other codec derives. */
const HKDF_INFO = 'sessionware sealed v1'
/** GCM nonce length in bytes (96 bits, the size GCM is designed for). */
const IV_BYTES = 12
/** GCM tag length in bytes. */
const TAG_BYTES = 16
/** How many IVs one refill of the IV pool holds. */
const IV_POOL_SIZE = 512

let ivPool: Buffer = Buffer.alloc(0)
let ivOffset = 0

/**
 * A fresh random IV. IVs are cut from a pool of CSPRNG bytes refilled IV_POOL_SIZE IVs at a time
 * (as Node's randomUUID does): each byte is handed out once, and a refill allocates a new buffer so
 * an IV already handed out never changes. Measured: a per-call `randomBytes(12)` costs about 15%
 * of a whole encode + decode round trip.
 */
function nextIv(): Buffer {
  if (ivOffset + IV_BYTES > ivPool.length) {
    ivPool = randomBytes(IV_BYTES * IV_POOL_SIZE)
    ivOffset = 0
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + IV_BYTES)
  ivOffset += IV_BYTES
  return iv
}

/**
 * Creates the sealed codec: AES-256-GCM authenticated encryption of the session payload. The
 * cookie is opaque to the client and any change to it is detected.
 *
 * Keys are validated and derived once, here; `encode` and `decode` do no key derivation. `decode`
 * finds the key by the token's key id (a map lookup, never trial decryption) and throws only
 * {@link SessionDecodeError}: `malformed` (not a sealed token, or longer than 4096 characters),
 * `unknown-key` (a key id none of the keys has) or `tampered` (the tag did not verify).
 *
 * @example
 * ```ts
 * import { createSealedCodec } from 'sessionware/codecs/sealed'
 *
 * const codec = createSealedCodec({ keys: [process.env.SESSION_KEY ?? ''] })
 * const value = codec.encode('{"user":"ann"}')
 * codec.decode(value) // { payload: '{"user":"ann"}', rotated: false }
 * ```
 *
 * @throws {SessionConfigError} when `keys` is empty, holds a key shorter than 32 characters or
 *   bytes, or holds the same key twice.
 */
export function createSealedCodec(options: SealedCodecOptions): CookieCodec {
  const ring = createKeyRing(options?.keys, HKDF_INFO, 'sealed')
  const writer = ring.primary
  const prefix = `${writer.kid}.`

  return Object.freeze({
    name: 'sealed',

    encode(payload: string): string {
      const iv = nextIv()
      const cipher = createCipheriv(ALGORITHM, writer.secret, iv, { authTagLength: TAG_BYTES })
      cipher.setAAD(writer.kidBytes)
      const body = cipher.update(payload, 'utf8')
      const rest = cipher.final() // always empty for GCM, kept for correctness
      const tagStart = IV_BYTES + body.length + rest.length
      const sealed = Buffer.allocUnsafe(tagStart + TAG_BYTES)
      iv.copy(sealed, 0)
      body.copy(sealed, IV_BYTES)
      rest.copy(sealed, IV_BYTES + body.length)
      cipher.getAuthTag().copy(sealed, tagStart)
      return prefix + sealed.toString('base64url')
    },

    decode(value: string): DecodedCookie {
      const problem = tokenProblem(value)
      if (problem !== undefined) throw malformed(problem)
      if (value.indexOf('.') !== KID_LENGTH) throw malformed('expected <key id>.<sealed data>')
      const sealed = decodeTokenPart(value.slice(KID_LENGTH + 1))
      if (sealed === null) throw malformed('sealed data is not canonical base64url')
      if (sealed.length < IV_BYTES + TAG_BYTES) throw malformed('sealed data is too short')
      const key = ring.byKid.get(value.slice(0, KID_LENGTH))
      if (key === undefined) throw new SessionDecodeError('unknown-key')
      const tagStart = sealed.length - TAG_BYTES
      let payload: string
      try {
        const decipher = createDecipheriv(ALGORITHM, key.secret, sealed.subarray(0, IV_BYTES), {
          authTagLength: TAG_BYTES,
        })
        decipher.setAAD(key.kidBytes)
        decipher.setAuthTag(sealed.subarray(tagStart))
        const opened = decipher.update(sealed.subarray(IV_BYTES, tagStart))
        decipher.final()
        payload = opened.toString('utf8')
      } catch (cause) {
        throw new SessionDecodeError('tampered', undefined, { cause })
      }
      return { payload, rotated: key.index !== 0 }
    },
  })
}
