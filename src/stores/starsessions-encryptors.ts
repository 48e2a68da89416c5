/**
 * starsessions' encryptors over the stored payload: Fernet (`FernetEncryptor`) and AES-GCM
 * (`AESGCMEncryptor`: `nonce12 ‖ ciphertext ‖ tag16`), each with a key list for rotation (the
 * first key encrypts, every key decrypts). Re-exported by `sessionware/stores/starsessions-redis`.
 *
 * @module
 */

import { isUtf8 } from 'node:buffer'
import { type CipherGCMTypes, createSecretKey } from 'node:crypto'
import { SessionConfigError } from '../errors.ts'
import { gcmOpen, gcmSeal, nextIv } from '../lib/aes-gcm.ts'
import { buildFernetCodec, type IvSource, randomIv } from '../lib/fernet.ts'

/**
 * Turns the serialized session into the stored value and back, as a starsessions `Encryptor`
 * does with `encrypt(bytes)` and `decrypt(bytes)`.
 */
export interface PayloadEncryptor {
  /** A short name for messages: `'none'`, `'fernet'`, `'aes-gcm'`. */
  readonly name: string
  /** The stored value of the serialized session. */
  encrypt(payload: string): string | Uint8Array
  /** The serialized session a stored value holds; throws when it cannot be opened. */
  decrypt(stored: Uint8Array): string
}

/** Options of {@link createFernetEncryptor}. */
export interface FernetEncryptorOptions {
  /**
   * Fernet keys, newest first: the first encrypts, every key decrypts (starsessions takes one;
   * give its key first). A key is the 44-character url-safe base64 text of Python's
   * `Fernet.generate_key()`, or its 32 raw bytes. No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
}

/** Options of {@link createAesGcmEncryptor}. */
export interface AesGcmEncryptorOptions {
  /**
   * AES keys of 16, 24 or 32 bytes (starsessions' `AESGCMEncryptor(key)` takes the same), newest
   * first: the first encrypts, every key decrypts (a value carries no key id, so each key is
   * tried in turn). No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<Uint8Array>
}

/** Returns a fresh 12-byte nonce on every call. */
export type NonceSource = () => Uint8Array

/** The AES-GCM variant of each key size. */
const ALGORITHMS: Readonly<Record<number, CipherGCMTypes>> = {
  16: 'aes-128-gcm',
  24: 'aes-192-gcm',
  32: 'aes-256-gcm',
}

/** UTF-8 text of decrypted bytes; throws when they are not UTF-8. */
function utf8(bytes: Uint8Array): string {
  if (!isUtf8(bytes)) throw new Error('the decrypted payload is not UTF-8 text')
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')
}

/** No encryption: the payload is stored as it is (starsessions' default `NoopEncryptor`). */
export const noEncryption: PayloadEncryptor = Object.freeze({
  name: 'none',
  encrypt: (payload: string): string => payload,
  decrypt: utf8,
})

/** The longest token the Fernet encryptor writes and reads back: 16 MiB, far above any session. */
const MAX_STORED_TOKEN = 16 * 1024 * 1024

/** The Fernet encryptor with the IV source as a parameter (tests pin it); see the public one. */
export function buildFernetEncryptor(
  options: FernetEncryptorOptions & { readonly clock?: () => number },
  nextIv: IvSource,
): PayloadEncryptor {
  const codec = buildFernetCodec(
    { keys: options?.keys, clock: options?.clock, maxTokenLength: MAX_STORED_TOKEN },
    nextIv,
  )
  return Object.freeze({
    name: 'fernet',
    encrypt(payload: string): string {
      const token = codec.encode(payload)
      if (token.length > MAX_STORED_TOKEN) {
        // Never write what cannot be read back.
        throw new RangeError(
          `fernet encryptor: the session makes a ${token.length}-character token, over the ${MAX_STORED_TOKEN} it reads back`,
        )
      }
      return token
    },
    decrypt(stored: Uint8Array): string {
      const token = Buffer.from(stored.buffer, stored.byteOffset, stored.byteLength)
      return codec.decode(token.toString('latin1')).payload
    },
  })
}

/**
 * Fernet over the stored payload, as starsessions' `FernetEncryptor(key)`: the value is the
 * token's ASCII. Python's `Fernet.decrypt` reads what this writes and the other way round; no
 * TTL is checked (starsessions passes none). A value that does not open with any key reads as no
 * session, as in starsessions.
 *
 * @throws {SessionConfigError} when `keys` is empty or holds an invalid or repeated key.
 */
export function createFernetEncryptor(options: FernetEncryptorOptions): PayloadEncryptor {
  return buildFernetEncryptor({ keys: options?.keys }, randomIv)
}

/** The AES-GCM encryptor with the nonce source as a parameter (tests pin it); see the public one. */
export function buildAesGcmEncryptor(
  options: AesGcmEncryptorOptions,
  nextNonce: NonceSource,
): PayloadEncryptor {
  const keys = options?.keys
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new SessionConfigError(
      'aes-gcm encryptor: options.keys must be a non-empty array of keys (the first writes, all read)',
    )
  }
  const ring = keys.map((key: unknown, index) => {
    if (!(key instanceof Uint8Array) || ALGORITHMS[key.byteLength] === undefined) {
      throw new SessionConfigError(
        `aes-gcm encryptor: options.keys[${index}] must be a Uint8Array of 16, 24 or 32 bytes`,
      )
    }
    const twin = keys.findIndex((other) => Buffer.compare(other, key) === 0)
    if (twin !== index) {
      throw new SessionConfigError(
        `aes-gcm encryptor: options.keys[${twin}] and options.keys[${index}] are the same key; every key must be different`,
      )
    }
    return {
      secret: createSecretKey(Buffer.from(key)),
      algorithm: ALGORITHMS[key.byteLength] as CipherGCMTypes,
    }
  })
  const writer = ring[0] as (typeof ring)[number]
  return Object.freeze({
    name: 'aes-gcm',
    encrypt(payload: string): Uint8Array {
      return gcmSeal(writer.algorithm, writer.secret, payload, undefined, nextNonce())
    },
    decrypt(stored: Uint8Array): string {
      for (const key of ring) {
        let plain: Buffer
        try {
          plain = gcmOpen(key.algorithm, key.secret, stored)
        } catch {
          continue // not this key (or tampered, or too short): try the next one
        }
        return utf8(plain)
      }
      throw new Error('aes-gcm encryptor: no key opens the value (unknown key, tampered or short)')
    },
  })
}

/**
 * AES-GCM over the stored payload, as starsessions' `AESGCMEncryptor(key)`: the value is
 * `nonce (12 random bytes) ‖ ciphertext ‖ tag (16 bytes)`, no associated data. Python's
 * `AESGCM(key).decrypt` reads what this writes and the other way round. A value that does not
 * open with any key (unknown key, tampered, too short) reads as no session, as in starsessions.
 *
 * @throws {SessionConfigError} when `keys` is empty or holds a key that is not 16, 24 or 32 bytes,
 *   or the same key twice.
 */
export function createAesGcmEncryptor(options: AesGcmEncryptorOptions): PayloadEncryptor {
  return buildAesGcmEncryptor(options, nextIv)
}
