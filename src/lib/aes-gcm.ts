/**
 * Internal: AES-GCM sealing as `iv (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`, with pooled random
 * IVs. Used by the encrypted serializer and starsessions' AES-GCM encryptor. Never exported from
 * the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { type CipherGCMTypes, createCipheriv, createDecipheriv, type KeyObject } from 'node:crypto'
import { randomPool } from './random-pool.ts'

/** GCM nonce length in bytes (96 bits, the size GCM is designed for). */
export const IV_BYTES = 12
/** GCM tag length in bytes. */
export const TAG_BYTES = 16
/** How many IVs one refill of the IV pool holds. */
const IV_POOL_SIZE = 512

/** A fresh random IV from a pool of CSPRNG bytes ({@link randomPool}). */
export const nextIv: () => Buffer = randomPool(IV_BYTES, IV_POOL_SIZE)

/** `iv ‖ ciphertext ‖ tag` of the UTF-8 `text`, with `aad` as associated data when given. */
export function gcmSeal(
  algorithm: CipherGCMTypes,
  key: KeyObject,
  text: string,
  aad?: Uint8Array,
  iv: Uint8Array = nextIv(),
): Buffer {
  const cipher = createCipheriv(algorithm, key, iv, { authTagLength: TAG_BYTES })
  if (aad !== undefined) cipher.setAAD(aad)
  const body = cipher.update(text, 'utf8')
  return Buffer.concat([iv, body, cipher.final(), cipher.getAuthTag()])
}

/**
 * The plaintext bytes of `sealed` (`iv ‖ ciphertext ‖ tag`).
 *
 * @throws when `sealed` is shorter than an IV and a tag, or the tag does not verify (wrong key,
 *   other associated data, any change).
 */
export function gcmOpen(
  algorithm: CipherGCMTypes,
  key: KeyObject,
  sealed: Uint8Array,
  aad?: Uint8Array,
): Buffer {
  if (sealed.byteLength < IV_BYTES + TAG_BYTES) {
    throw new RangeError('the sealed value is shorter than an IV and a tag')
  }
  const tagStart = sealed.byteLength - TAG_BYTES
  const decipher = createDecipheriv(algorithm, key, sealed.subarray(0, IV_BYTES), {
    authTagLength: TAG_BYTES,
  })
  if (aad !== undefined) decipher.setAAD(aad)
  decipher.setAuthTag(sealed.subarray(tagStart))
  const body = decipher.update(sealed.subarray(IV_BYTES, tagStart))
  return Buffer.concat([body, decipher.final()])
}
