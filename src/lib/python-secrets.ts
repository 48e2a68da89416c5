/**
 * Internal: the secret lists of the Python-compatible keyed codecs (`itsdangerous`, `jwt`). These
 * formats carry no key id and use the secret as the Python side configures it (a Starlette
 * `secret_key`, a PyJWT secret), so, unlike `src/lib/keys.ts`, a secret is used as given: any
 * non-empty string (UTF-8) or Uint8Array, no minimum length, no HKDF. Never exported from the
 * package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { createHmac, type KeyObject, timingSafeEqual } from 'node:crypto'
import { SessionConfigError } from '../errors.ts'

/**
 * Validates `keys` (from a codec's options) and returns each secret's bytes, in order. `codec`
 * names the codec in error messages (never the value of a key).
 *
 * @throws {SessionConfigError} when `keys` is not a non-empty array of distinct, non-empty
 *   strings or Uint8Arrays.
 */
export function secretList(keys: unknown, codec: string): Buffer[] {
  const where = `${codec} codec: options.keys`
  if (!Array.isArray(keys)) {
    throw new SessionConfigError(
      `${where} must be an array of secrets (the first writes, all read), got ${describe(keys)}`,
    )
  }
  if (keys.length === 0) {
    throw new SessionConfigError(`${where} is empty; give at least one secret`)
  }
  const secrets: Buffer[] = []
  for (let index = 0; index < keys.length; index++) {
    const key: unknown = keys[index]
    const name = `${where}[${index}]`
    let bytes: Buffer
    if (typeof key === 'string') bytes = Buffer.from(key, 'utf8')
    else if (key instanceof Uint8Array) bytes = Buffer.from(key)
    else
      throw new SessionConfigError(`${name} must be a string or a Uint8Array, got ${describe(key)}`)
    if (bytes.length === 0) throw new SessionConfigError(`${name} is empty`)
    const twin = secrets.findIndex((other) => other.equals(bytes))
    if (twin !== -1) {
      throw new SessionConfigError(
        `${where}[${twin}] and ${name} are the same secret; every secret must be different`,
      )
    }
    secrets.push(bytes)
  }
  return secrets
}

/**
 * The index of the first key whose HMAC (`algorithm`: `'sha1'`, `'sha256'`) of `signed` equals
 * `signature`, compared in constant time; -1 when none does. `signature` must already have the
 * digest's length (the callers take it from a fixed-width token part).
 */
export function signingKeyIndex(
  algorithm: string,
  keys: readonly KeyObject[],
  signed: string,
  signature: Buffer,
): number {
  for (let i = 0; i < keys.length; i++) {
    const expected = createHmac(algorithm, keys[i] as KeyObject)
      .update(signed, 'latin1')
      .digest()
    if (timingSafeEqual(expected, signature)) return i
  }
  return -1
}

/** A short description of a wrong value for error messages (never the value of a key). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}
