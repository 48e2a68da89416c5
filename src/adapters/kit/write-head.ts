/**
 * Taking one header out of the arguments of a held `res.writeHead(status, [message], headers)`
 * call, whatever form its headers take. Internal to the adapter kit.
 *
 * @module
 */
import type { OutgoingHttpHeaders } from 'node:http'

/** A header value as one or more strings. */
function values(value: unknown): string[] {
  return value === undefined ? [] : [value].flat().map(String)
}

/**
 * Removes header `name` (lower case) from the headers argument of the writeHead arguments `args`
 * (an object, a flat raw array or an array of pairs; the arguments are changed in place, the
 * application's own object is never modified) and returns its values, or null when the call does
 * not name it.
 */
export function takeHeader(args: unknown[], name: string): string[] | null {
  const index = typeof args[1] === 'string' ? 2 : 1
  const headers = args[index]
  if (headers === null || typeof headers !== 'object') return null
  const found: string[] = []
  let named = false
  if (Array.isArray(headers)) {
    const kept: unknown[] = []
    if (Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) {
        if (String(pair[0]).toLowerCase() === name) {
          named = true
          found.push(...values(pair[1]))
        } else kept.push(pair)
      }
    } else {
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === name) {
          named = true
          found.push(...values(headers[i + 1]))
        } else kept.push(headers[i], headers[i + 1])
      }
    }
    if (named) args[index] = kept
    return named ? found : null
  }
  let copy: OutgoingHttpHeaders | undefined
  for (const key of Object.keys(headers)) {
    if (key.toLowerCase() !== name) continue
    named = true
    copy ??= { ...(headers as OutgoingHttpHeaders) }
    found.push(...values(copy[key]))
    delete copy[key]
  }
  if (copy !== undefined) args[index] = copy
  return named ? found : null
}
