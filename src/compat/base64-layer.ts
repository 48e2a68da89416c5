/**
 * The standard base64 step of Starlette and starsessions' cookie store: they sign
 * `base64.b64encode(json)` (alphabet `+/`, `=` padding), not the JSON itself. Internal to
 * `sessionware/compat`.
 *
 * @module
 */
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { malformed } from '../lib/token.ts'

const STANDARD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const utf8 = new TextDecoder('utf-8', { fatal: true })

function encodeBase64(text: string): string {
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function decodeBase64(text: string): string {
  if (!STANDARD.test(text)) throw malformed('the signed value is not standard base64')
  const binary = atob(text)
  const bytes = Uint8Array.from(binary, (char) => char.charCodeAt(0))
  try {
    return utf8.decode(bytes)
  } catch {
    throw malformed('the signed value is not UTF-8')
  }
}

/** `codec` over the standard base64 of the payload (see the module). */
export function overStandardBase64(codec: CookieCodec): CookieCodec {
  return Object.freeze({
    name: codec.name,
    cacheable: codec.cacheable,
    encode: (payload: string): string => codec.encode(encodeBase64(payload)),
    decode(value: string): DecodedCookie {
      const decoded = codec.decode(value)
      return { payload: decodeBase64(decoded.payload), rotated: decoded.rotated }
    },
  })
}
