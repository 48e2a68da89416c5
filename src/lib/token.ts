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
 * Decodes one base64url part of a token strictly: returns null unless the part is exactly the
 * encoding of the bytes it decodes to (base64url digits only, no dot or padding, a length that
 * encodes whole bytes, zero bits after the last byte), so every byte string has exactly one
 * encoding and changing a character can never decode to the same bytes.
 *
 * Node's decoder alone would read `+` and `/` as `-` and `_`, skip dots, spaces and other junk,
 * stop at `=`, and read a wide character by its low byte; encoding its output again and comparing
 * refuses all of that in two native calls, with no scan of the text in JavaScript.
 */
export function decodeTokenPart(part: string): Buffer | null {
  const bytes = Buffer.from(part, 'base64url')
  return bytes.toString('base64url') === part ? bytes : null
}

/** A `malformed` decode error with a message for the CLI and debug hooks. */
export function malformed(message: string): SessionDecodeError {
  return new SessionDecodeError('malformed', `session cookie rejected: malformed (${message})`)
}
