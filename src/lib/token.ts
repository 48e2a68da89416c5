/**
 * Internal: strict parsing helpers shared by the codecs (token size limit, alphabet check,
 * canonical base64url). Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { SessionDecodeError } from '../errors.ts'

/**
 * The longest cookie value a codec will look at, in characters. Browsers cap a whole cookie at
 * 4096 bytes, so anything longer cannot have come from us and is rejected before any crypto.
 */
export const MAX_TOKEN_LENGTH = 4096

/** Base64url digits and the `.` separator: everything a codec token may contain. */
const TOKEN_TEXT = /^[A-Za-z0-9_.-]+$/

/**
 * What is wrong with `value` as a codec token, or undefined when it is a non-empty string of at
 * most {@link MAX_TOKEN_LENGTH} characters made of base64url digits and dots only. A codec checks
 * this first, before any crypto, so later steps can slice freely.
 */
export function tokenProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `expected a string, got ${typeof value}`
  if (value.length === 0) return 'empty value'
  if (value.length > MAX_TOKEN_LENGTH) {
    return `${value.length} characters, over the ${MAX_TOKEN_LENGTH}-character limit`
  }
  if (!TOKEN_TEXT.test(value)) return 'characters other than base64url digits and dots'
  return undefined
}

/**
 * The 6-bit value of one base64url digit (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`), or -1.
 */
function digitValue(code: number): number {
  if (code >= 65 && code <= 90) return code - 65
  if (code >= 97 && code <= 122) return code - 71
  if (code >= 48 && code <= 57) return code + 4
  if (code === 45) return 62
  if (code === 95) return 63
  return -1
}

/**
 * Decodes one base64url part of a token strictly: no dot, a length that encodes whole bytes, and
 * zero bits after the last byte (so every byte string has exactly one encoding and changing a
 * character can never decode to the same bytes). Returns null when the part is not canonical.
 *
 * `part` must be a slice of a value that {@link tokenProblem} accepted, so it holds only
 * base64url digits and dots (Node's own decoder would also accept `+`, `/`, `=` and skip junk).
 */
export function decodeTokenPart(part: string): Buffer | null {
  const length = part.length
  const rest = length % 4
  if (rest === 1 || part.includes('.')) return null
  if (rest !== 0) {
    const last = digitValue(part.charCodeAt(length - 1))
    // 2 digits carry 1 byte (4 spare bits), 3 digits carry 2 bytes (2 spare bits).
    if ((last & (rest === 2 ? 0x0f : 0x03)) !== 0) return null
  }
  return Buffer.from(part, 'base64url')
}

/** A `malformed` decode error with a message for the CLI and debug hooks. */
export function malformed(message: string): SessionDecodeError {
  return new SessionDecodeError('malformed', `session cookie rejected: malformed (${message})`)
}
