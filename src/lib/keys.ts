/**
 * Internal: the key ring shared by the keyed codecs. Validates the user's key list once, derives
 * one sub-key per key with HKDF-SHA256 (domain-separated per codec, so one key string used by two
 * codecs yields unrelated keys), computes each key's short id and keeps everything for the life
 * of the codec. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { createHash, createSecretKey, hkdfSync, type KeyObject } from 'node:crypto'
import { SessionConfigError } from '../errors.ts'

/** A key as users configure it: a string or raw bytes. */
export type KeyMaterial = string | Uint8Array

/** Shortest accepted key: 32 characters for a string, 32 bytes for a Uint8Array. */
export const MIN_KEY_LENGTH = 32

/** Length of a key id in characters (6 base64url digits = 36 bits of a SHA-256). */
export const KID_LENGTH = 6

/** Bytes of every derived sub-key (AES-256 and HMAC-SHA256 both take 32). */
const DERIVED_KEY_BYTES = 32

/** Domain separation for key ids, so a key id is never a prefix of any other hash of the key. */
const KID_PREFIX = Buffer.from('sessionware key id v1\0', 'utf8')

/** One configured key, ready to use. */
export interface RingKey {
  /** Position in the user's list; 0 is the writing key. */
  readonly index: number
  /** Short public id of the key, the same in every process and for every codec. */
  readonly kid: string
  /** The key id as ASCII bytes (additional authenticated data for the sealed codec). */
  readonly kidBytes: Buffer
  /** The derived sub-key for this codec. */
  readonly secret: KeyObject
}

/** Every configured key of one codec, looked up by id. */
export interface KeyRing {
  /** The writing key (the first in the list). */
  readonly primary: RingKey
  /** Every key, by key id. */
  readonly byKid: ReadonlyMap<string, RingKey>
}

/** The raw bytes of a key (UTF-8 for a string). */
function keyBytes(key: KeyMaterial): Buffer {
  return typeof key === 'string'
    ? Buffer.from(key, 'utf8')
    : Buffer.from(key.buffer, key.byteOffset, key.byteLength)
}

/**
 * The key id of a key: the first {@link KID_LENGTH} base64url digits of
 * SHA-256("sessionware key id v1\0" ‖ key bytes). It depends on the key only, so it is stable
 * across processes, codec instances and codecs, and reveals nothing usable about the key.
 */
export function keyId(key: KeyMaterial): string {
  return createHash('sha256')
    .update(KID_PREFIX)
    .update(keyBytes(key))
    .digest('base64url')
    .slice(0, KID_LENGTH)
}

/**
 * Validates `keys` (from a codec's options) and builds its key ring. `info` is the HKDF info
 * string that separates this codec's sub-keys from every other codec's, and `codec` names the
 * codec in error messages.
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty array of distinct keys of at least
 *   {@link MIN_KEY_LENGTH} characters (strings) or bytes (Uint8Arrays).
 */
export function createKeyRing(keys: unknown, info: string, codec: string): KeyRing {
  const where = `${codec} codec: options.keys`
  if (!Array.isArray(keys)) {
    throw new SessionConfigError(
      `${where} must be an array of keys (the first writes, all read), got ${describe(keys)}`,
    )
  }
  if (keys.length === 0) {
    throw new SessionConfigError(
      `${where} is empty; give at least one key (generate one with \`npx sessionware keygen\`)`,
    )
  }
  const byKid = new Map<string, RingKey>()
  let primary: RingKey | undefined
  const seen: Buffer[] = []
  const infoBytes = Buffer.from(info, 'utf8')
  for (let index = 0; index < keys.length; index++) {
    const key: unknown = keys[index]
    const name = `${where}[${index}]`
    if (typeof key === 'string') {
      if (key.length < MIN_KEY_LENGTH) {
        throw new SessionConfigError(
          `${name} is a string of ${key.length} characters; a key needs at least ` +
            `${MIN_KEY_LENGTH} (generate one with \`npx sessionware keygen\`)`,
        )
      }
    } else if (key instanceof Uint8Array) {
      if (key.byteLength < MIN_KEY_LENGTH) {
        throw new SessionConfigError(
          `${name} is a Uint8Array of ${key.byteLength} bytes; a key needs at least ` +
            `${MIN_KEY_LENGTH} bytes`,
        )
      }
    } else {
      throw new SessionConfigError(`${name} must be a string or a Uint8Array, got ${describe(key)}`)
    }
    const bytes = keyBytes(key)
    const twin = seen.findIndex((other) => other.equals(bytes))
    if (twin !== -1) {
      throw new SessionConfigError(
        `${where}[${twin}] and ${name} are the same key; every key must be different`,
      )
    }
    seen.push(bytes)
    const kid = keyId(key)
    const clash = byKid.get(kid)
    if (clash !== undefined) {
      // 36-bit ids: two distinct keys share one with probability 2^-36. Refuse rather than guess.
      throw new SessionConfigError(
        `${where}[${clash.index}] and ${name} have the same key id ${kid}; replace one of them`,
      )
    }
    const derived = Buffer.from(
      hkdfSync('sha256', bytes, Buffer.alloc(0), infoBytes, DERIVED_KEY_BYTES),
    )
    const ringKey: RingKey = {
      index,
      kid,
      kidBytes: Buffer.from(kid, 'latin1'),
      secret: createSecretKey(derived),
    }
    byKid.set(kid, ringKey)
    primary ??= ringKey
  }
  if (primary === undefined) throw new Error('unreachable: a non-empty list has a first key')
  return { primary, byKid }
}

/** A short description of a wrong value for error messages (never the value of a key). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}
