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

/** A character beyond one byte. Free on the one-byte strings HTTP headers give: it cannot match. */
const WIDE = /[\u0100-\uffff]/

/** The value of base64url digit `code` (`A`–`Z`, `a`–`z`, `0`–`9`, `-`, `_`). */
function digit(code: number): number {
  return code >= 97
    ? code - 71
    : code === 95
      ? 63
      : code >= 65
        ? code - 65
        : code >= 48
          ? code + 4
          : 62
}

/**
 * Whether `part`, before it is decoded, can be canonical base64url: a length that encodes whole
 * bytes, and none of the characters a decoder would read as data although base64url has no such
 * digit (`+` and `/`, standard base64's; a wide character, read by its low byte).
 */
function mayBeCanonical(part: string): boolean {
  return (
    (part.length & 3) !== 1 &&
    part.indexOf('+') === -1 &&
    part.indexOf('/') === -1 &&
    !WIDE.test(part)
  )
}

/**
 * Whether `part`, which passed {@link mayBeCanonical} and decoded to `decoded` bytes, is their
 * canonical encoding. Every other character (dots, `=`, blanks, junk, bytes over 0x7f) is skipped
 * by the decoder or stops it, which leaves fewer bytes than the length encodes; the bits after
 * the last byte must be zero.
 */
function isCanonical(part: string, decoded: number): boolean {
  const length = part.length
  if (decoded !== (length * 3) >>> 2) return false
  const tail = length & 3
  return tail === 0 || (digit(part.charCodeAt(length - 1)) & (tail === 2 ? 15 : 3)) === 0
}

/**
 * Decodes one base64url part of a token strictly: returns null unless the part is exactly the
 * encoding of the bytes it decodes to (base64url digits only, no dot or padding, a length that
 * encodes whole bytes, zero bits after the last byte), so every byte string has exactly one
 * encoding and changing a character can never decode to the same bytes.
 *
 * Decoders alone read `+` and `/` as `-` and `_`, skip dots, spaces and other junk, stop at `=`,
 * and read a wide character by its low byte. The checks cost two character searches and a
 * regular expression that cannot match a one-byte string, about 50 ns on a 400-character part;
 * encoding the bytes again and comparing, as this did before, cost 300 ns.
 */
export function decodeTokenPart(part: string): Buffer | null {
  if (!mayBeCanonical(part)) return null
  const bytes = Buffer.from(part, 'base64url')
  return isCanonical(part, bytes.length) ? bytes : null
}

/**
 * {@link decodeTokenPart} into `target` from its first byte, for a caller that decodes into a
 * buffer of its own: the number of bytes, or -1 when the part is not canonical base64url or does
 * not fit.
 */
export function decodeTokenPartInto(part: string, target: Buffer): number {
  if (!mayBeCanonical(part)) return -1
  const length = target.write(part, 'base64url')
  return isCanonical(part, length) ? length : -1
}

/** A `malformed` decode error with a message for the CLI and debug hooks. */
export function malformed(message: string): SessionDecodeError {
  return new SessionDecodeError('malformed', `session cookie rejected: malformed (${message})`)
}
