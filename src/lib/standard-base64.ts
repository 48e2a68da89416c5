/**
 * Internal: standard base64 with padding (the alphabet with `+` and `/`), as Python's
 * `base64.b64encode` writes it, for the nacl codec's boxes and keys: through Buffer where there is
 * one and `btoa`/`atob` elsewhere, and the check that padded text carries no stray bits. Never
 * exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer

/** The standard base64 alphabet, in digit order. */
const STANDARD_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 with padding, through Buffer where there is one and btoa elsewhere. */
export function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  }
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return btoa(binary)
}

/** Decodes text that is standard base64 with padding (checked by the caller). */
export function fromBase64(text: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, 'base64')
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * True when the digit before the padding carries no stray bits, so every box has exactly one
 * text (Python's `b64encode` writes only such text; its lenient decoder would also take others).
 */
export function canonicalPadding(text: string): boolean {
  if (!text.endsWith('=')) return true
  const double = text.endsWith('==')
  const last = STANDARD_DIGITS.indexOf(text.charAt(text.length - (double ? 3 : 2)))
  return (last & (double ? 0x0f : 0x03)) === 0
}
