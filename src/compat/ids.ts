/**
 * Session ids as the Python seeds make them. Internal to `sessionware/compat`.
 *
 * @module
 */

/**
 * 32 lowercase hex digits from 16 random bytes: aiohttp-session's `uuid4().hex` layout (it reads
 * any id) and starsessions' `secrets.token_hex(16)`.
 */
export function hex32Id(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16))
  let out = ''
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0')
  return out
}
