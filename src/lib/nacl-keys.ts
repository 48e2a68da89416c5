/**
 * Internal: the nacl codec's key list, checked and turned into 32-byte secretbox keys. A key is
 * taken in the forms PyNaCl's `SecretBox` users keep: 64 hex digits, base64 of the 32 bytes (either
 * alphabet, `=` optional) or the raw bytes. Errors name what is wrong and never quote a key. Never
 * exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { SessionConfigError } from '../errors.ts'
import { canonicalPadding, fromBase64 } from './standard-base64.ts'

/** Bytes of a secretbox key. */
export const KEY_BYTES = 32

/** A key as 64 hex digits. */
const HEX_KEY = /^[0-9A-Fa-f]{64}$/
/** A key as base64 of 32 bytes: 43 digits of either alphabet, then an optional `=`. */
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/

/** A short description of a wrong value for error messages (never the value of a key). */
export function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.byteLength} bytes`
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}

/** The 32 key bytes of one configured key, or a SessionConfigError naming what is wrong. */
function parseKey(key: unknown, name: string): Uint8Array {
  const expected =
    'must be 64 hex digits, base64 of 32 bytes (44 characters) or a Uint8Array of 32 bytes, ' +
    `as PyNaCl's SecretBox takes (generate one with python3 -c "import nacl.utils; ` +
    `print(nacl.utils.random(32).hex())")`
  if (key instanceof Uint8Array) {
    if (key.byteLength !== KEY_BYTES) {
      throw new SessionConfigError(`${name} is ${describe(key)}; a nacl key ${expected}`)
    }
    return Uint8Array.from(key)
  }
  if (typeof key === 'string') {
    if (HEX_KEY.test(key)) {
      return Uint8Array.from({ length: KEY_BYTES }, (_, i) =>
        Number.parseInt(key.slice(2 * i, 2 * i + 2), 16),
      )
    }
    if (BASE64_KEY.test(key)) {
      const standard = key.replace(/-/g, '+').replace(/_/g, '/').replace(/=?$/, '=')
      // 43 digits carry 32 bytes and 2 spare bits; a last digit with spare bits set is a typo.
      if (!canonicalPadding(standard)) {
        throw new SessionConfigError(
          `${name} is not canonical base64 of 32 bytes; a nacl key ${expected}`,
        )
      }
      return Uint8Array.from(fromBase64(standard))
    }
    throw new SessionConfigError(`${name} is ${describe(key)}; a nacl key ${expected}`)
  }
  throw new SessionConfigError(`${name} ${expected}, got ${describe(key)}`)
}

/** Validates `keys` and returns their bytes, the writing key first. */
export function parseKeys(keys: unknown): Uint8Array[] {
  const where = 'nacl codec: options.keys'
  if (!Array.isArray(keys)) {
    throw new SessionConfigError(
      `${where} must be an array of keys (the first writes, all read), got ${describe(keys)}`,
    )
  }
  if (keys.length === 0) {
    throw new SessionConfigError(`${where} is empty; give at least one 32-byte key`)
  }
  const parsed: Uint8Array[] = []
  for (let index = 0; index < keys.length; index++) {
    const name = `${where}[${index}]`
    const bytes = parseKey(keys[index], name)
    const twin = parsed.findIndex((other) => other.every((byte, i) => byte === bytes[i]))
    if (twin !== -1) {
      throw new SessionConfigError(
        `${where}[${twin}] and ${name} are the same key; every key must be different`,
      )
    }
    parsed.push(bytes)
  }
  return parsed
}
