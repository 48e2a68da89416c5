/**
 * Internal to the Python layouts: the members of a JSON object as raw texts. A value the
 * application did not change is written back with the very bytes it was read with, so a Python
 * float such as `1.0`, an integer beyond 2^53 or `NaN` survives a write by sessionware unchanged.
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-redis` and the other Python layouts).
 *
 * @module
 */

import { pythonJsonStringify } from '../lib/python-json.ts'

const QUOTE = 0x22
const BACKSLASH = 0x5c
const OPEN_BRACE = 0x7b
const CLOSE_BRACE = 0x7d
const OPEN_BRACKET = 0x5b
const CLOSE_BRACKET = 0x5d
const COMMA = 0x2c
const COLON = 0x3a

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

function fail(at: number): never {
  throw new SyntaxError(`not a JSON object member list at position ${at}`)
}

function skipSpace(text: string, at: number): number {
  while (isSpace(text.charCodeAt(at))) at++
  return at
}

/** The index just past the string starting at `at` (its opening quote). */
function stringEnd(text: string, at: number): number {
  if (text.charCodeAt(at) !== QUOTE) fail(at)
  let i = at + 1
  for (;;) {
    const code = text.charCodeAt(i)
    if (Number.isNaN(code)) fail(i)
    if (code === QUOTE) return i + 1
    i += code === BACKSLASH ? 2 : 1
  }
}

/** The index just past the value starting at `at`: a string, a container or a bare token. */
function valueEnd(text: string, at: number): number {
  const first = text.charCodeAt(at)
  if (first === QUOTE) return stringEnd(text, at)
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    // Iterative, so hostile nesting cannot overflow the stack.
    let depth = 0
    for (let i = at; i < text.length; i++) {
      const code = text.charCodeAt(i)
      if (code === QUOTE) i = stringEnd(text, i) - 1
      else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++
      else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        depth--
        if (depth === 0) return i + 1
      }
    }
    fail(at)
  }
  let i = at
  for (;;) {
    const code = text.charCodeAt(i)
    if (Number.isNaN(code) || code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      break
    }
    if (isSpace(code)) break
    i++
  }
  if (i === at) fail(at)
  return i
}

/**
 * The members of the JSON object `text` as `[key, raw value text]`, in the order of the text, a
 * repeated key once at its first place with its last value (as Python's and JavaScript's parsers
 * keep it). `text` must be valid JSON (checked beforehand): this only finds where each value
 * starts and ends.
 *
 * @throws {SyntaxError} when `text` is not an object.
 */
export function objectMembers(text: string): Array<[string, string]> {
  const members = new Map<string, string>()
  let i = skipSpace(text, 0)
  if (text.charCodeAt(i) !== OPEN_BRACE) fail(i)
  i = skipSpace(text, i + 1)
  if (text.charCodeAt(i) === CLOSE_BRACE) return []
  for (;;) {
    i = skipSpace(text, i)
    const keyEnd = stringEnd(text, i)
    const key = JSON.parse(text.slice(i, keyEnd)) as string
    i = skipSpace(text, keyEnd)
    if (text.charCodeAt(i) !== COLON) fail(i)
    i = skipSpace(text, i + 1)
    const end = valueEnd(text, i)
    members.set(key, text.slice(i, end))
    i = skipSpace(text, end)
    const next = text.charCodeAt(i)
    if (next === CLOSE_BRACE) return [...members]
    if (next !== COMMA) fail(i)
    i++
  }
}

/**
 * A JSON object from keys and raw value texts, as Python's `json.dumps` separates them (`", "`
 * and `": "`), keys escaped as Python escapes them (`ensure_ascii`).
 */
export function pythonObject(members: ReadonlyArray<readonly [string, string]>): string {
  let out = '{'
  for (let i = 0; i < members.length; i++) {
    const [key, raw] = members[i] as readonly [string, string]
    if (i > 0) out += ', '
    out += `${pythonJsonStringify(key)}: ${raw}`
  }
  return `${out}}`
}
