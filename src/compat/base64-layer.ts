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

/** Node's and Bun's Buffer where there is one (several times faster); the Web API otherwise. */
const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

function encodeBase64(text: string): string {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, 'utf8').toString('base64')
  let binary = ''
  for (const byte of new TextEncoder().encode(text)) binary += String.fromCharCode(byte)
  return btoa(binary)
}

function decodeBase64(text: string): string {
  if (!STANDARD.test(text)) throw malformed('the signed value is not standard base64')
  const bytes =
    NodeBuffer !== undefined
      ? NodeBuffer.from(text, 'base64')
      : Uint8Array.from(atob(text), (char) => char.charCodeAt(0))
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
