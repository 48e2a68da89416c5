/**
 * Internal: the plain codec itself, without the production guard of `createPlainCodec`, so the
 * CLI (which reads nothing but its arguments) can inspect plain cookies whatever NODE_ENV says.
 * Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { decodeTokenPart, malformed, tokenProblem } from './token.ts'

/** Rejects bytes that are not UTF-8 (nothing authenticates a plain cookie) and keeps a BOM. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/** Cookie value = base64url(UTF-8 payload); no secrecy, no integrity. */
export const plainCodec: CookieCodec = Object.freeze({
  name: 'plain',

  encode(payload: string): string {
    return Buffer.from(payload, 'utf8').toString('base64url')
  },

  decode(value: string): DecodedCookie {
    const problem = tokenProblem(value)
    if (problem !== undefined) throw malformed(problem)
    const bytes = decodeTokenPart(value)
    if (bytes === null) throw malformed('not canonical base64url')
    let payload: string
    try {
      payload = UTF8.decode(bytes)
    } catch {
      throw malformed('payload is not UTF-8')
    }
    return { payload, rotated: false }
  },
})
