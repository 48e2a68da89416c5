/**
 * Encryption of session data at rest: a serializer that seals every stored value with
 * AES-256-GCM, so a leaked store (a dump, a backup, a replica) reveals no session data and a
 * changed value is detected. Works with every server store through `createServerStorage({
 * serializer })`: memory, SQLite, Redis, memcached, PostgreSQL.
 *
 * Subpath: `sessionware/serializers/encrypted`.
 *
 * @module
 */

import { jsonSerializer } from '../core/serializer.ts'
import type { Serializer } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { gcmOpen, gcmSeal } from '../lib/aes-gcm.ts'
import { createKeyRing, KID_LENGTH } from '../lib/keys.ts'
import { decodeTokenPart } from '../lib/token.ts'

/** Options of {@link createEncryptedSerializer}. */
export interface EncryptedSerializerOptions {
  /**
   * Secret keys, newest first: the first seals, every key opens. A key is a string of at least 32
   * characters or a Uint8Array of at least 32 bytes (`npx sessionware keygen` prints one); keys
   * must be distinct. To rotate, put the new key first and keep the old one until every session
   * that may hold a value sealed with it has expired (the absolute timeout): a value is sealed
   * again with the new key only when it is written again.
   *
   * No default: there is no safe default secret.
   */
  readonly keys: ReadonlyArray<string | Uint8Array>
  /**
   * The serializer whose text is sealed.
   *
   * @default jsonSerializer
   */
  readonly serializer?: Serializer
  /**
   * Also read values that are not sealed, with `serializer` alone: for turning encryption on over
   * a store that already holds sessions (each value is sealed when it is next written). Leave it
   * off afterwards: with it on, anyone who can write to the store can plant a readable value.
   *
   * @default false
   */
  readonly acceptPlaintext?: boolean
}

const ALGORITHM = 'aes-256-gcm'
/** HKDF info: separates these keys from the ones every codec derives from the same key string. */
const HKDF_INFO = 'sessionware field v1'
/** `<key id>.<base64url>`: what a sealed value looks like. */
const SEALED = /^[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]+$/

/**
 * Creates a serializer that seals each value `serializer` writes: the stored text is
 * `<key id>.<base64url(iv ‖ ciphertext ‖ tag)>`, a random 12-byte IV per value, a 16-byte tag,
 * the key id as additional authenticated data, the AES key derived from each key with HKDF-SHA256
 * (so the same key string used by a cookie codec gives an unrelated key). Every data and flash
 * value is sealed on its own, as each is its own store field; the core's own metadata fields (the
 * session's idle timeout, the cookie mode) and the record's times and subject are not.
 *
 * A value that is tampered with, sealed with a key that is no longer configured, or not sealed
 * (unless `acceptPlaintext`) makes `parse` throw: the session reads as invalid, the request gets
 * a fresh session, and `onInvalidCookie` hears `malformed`; never an error response.
 *
 * What it does not do: a value is not bound to its session or its field (the serializer sees
 * neither), so someone who can write to the store can copy a sealed value from one session or
 * field to another; the ids, times and subjects in the store stay readable. Cost: one AES-GCM seal
 * per value written and one open per value read (see the README for the numbers).
 *
 * @example
 * ```ts
 * import { createServerStorage } from 'sessionware'
 * import { createEncryptedSerializer } from 'sessionware/serializers/encrypted'
 *
 * const storage = createServerStorage({
 *   store,
 *   serializer: createEncryptedSerializer({ keys: [process.env.SESSION_DATA_KEY ?? ''] }),
 * })
 * ```
 *
 * @throws {SessionConfigError} when `keys` is empty, holds a key shorter than 32 characters or
 *   bytes or the same key twice, or `serializer` is not a serializer.
 */
export function createEncryptedSerializer(options: EncryptedSerializerOptions): Serializer {
  const ring = createKeyRing(options?.keys, HKDF_INFO, 'encrypted serializer')
  const inner = options?.serializer ?? jsonSerializer
  if (typeof inner?.stringify !== 'function' || typeof inner.parse !== 'function') {
    throw new SessionConfigError(
      'encrypted serializer: options.serializer must have stringify and parse',
    )
  }
  const acceptPlaintext = options?.acceptPlaintext ?? false
  const writer = ring.primary
  const prefix = `${writer.kid}.`

  function open(text: string): string | undefined {
    if (!SEALED.test(text)) return undefined
    const key = ring.byKid.get(text.slice(0, KID_LENGTH))
    if (key === undefined) return undefined
    const sealed = decodeTokenPart(text.slice(KID_LENGTH + 1))
    if (sealed === null) throw new Error('encrypted serializer: the value is not a sealed value')
    try {
      return gcmOpen(ALGORITHM, key.secret, sealed, key.kidBytes).toString('utf8')
    } catch (cause) {
      throw new Error('encrypted serializer: the value was tampered with', { cause })
    }
  }

  return Object.freeze({
    stringify(value: unknown): string {
      const sealed = gcmSeal(ALGORITHM, writer.secret, inner.stringify(value), writer.kidBytes)
      return prefix + sealed.toString('base64url')
    },
    parse(text: string): unknown {
      const opened = open(text)
      if (opened !== undefined) return inner.parse(opened)
      if (acceptPlaintext) return inner.parse(text)
      throw new Error(
        SEALED.test(text)
          ? 'encrypted serializer: the value was sealed with a key that is not configured'
          : 'encrypted serializer: the value is not sealed',
      )
    },
  })
}
