/**
 * Merging `Cookie` into a `Vary` header value. Internal to the adapter kit.
 *
 * @module
 */

/**
 * The `Vary` value to send when the response depends on the Cookie header: `current` with `Cookie`
 * added, unless it already names it (in any case) or is `*` (which already varies on everything).
 * Absent or empty: just `Cookie`.
 */
export function varyOnCookie(
  current: string | number | readonly string[] | null | undefined,
): string {
  const text = Array.isArray(current) ? current.join(', ') : current == null ? '' : String(current)
  if (text.trim() === '') return 'Cookie'
  for (const token of text.split(',')) {
    const name = token.trim().toLowerCase()
    if (name === '*' || name === 'cookie') return text
  }
  return `${text}, Cookie`
}
