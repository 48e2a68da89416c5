/**
 * A JSON reader that builds objects from decoded keys, for text whose object keys hold escapes.
 * V8's `JSON.parse` can read such a key as another key it has seen at the same place of an
 * earlier object: once `{"a":1,"x\\":1}` was parsed, `{"a":1,"x\"":1}` gives the key `x\`, not
 * `x"` (nodejs/node#63785; seen here on Node 24 and Deno 2.9, not on Node 20). `__proto__` keys
 * are dropped at any depth. Internal.
 *
 * @module
 */
import { KEY_ORDER } from './python-json.ts'

/** Deepest nesting accepted; hostile input gets a SyntaxError, not a stack overflow. */
const MAX_DEPTH = 256

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const WHITESPACE = /[ \t\n\r]*/y

class Parser {
  readonly text: string
  /** Python's extensions: `NaN`, `Infinity`, `-Infinity`, and the order of integer-like keys. */
  readonly python: boolean
  /** Keep `__proto__` keys as own data properties, as `JSON.parse` does, instead of dropping them. */
  readonly keepProto: boolean
  at = 0

  constructor(text: string, python: boolean, keepProto: boolean) {
    this.text = text
    this.python = python
    this.keepProto = keepProto
  }

  fail(): never {
    throw new SyntaxError(`invalid JSON at position ${this.at}`)
  }

  space(): void {
    WHITESPACE.lastIndex = this.at
    WHITESPACE.test(this.text)
    this.at = WHITESPACE.lastIndex
  }

  literal(word: string, value: unknown): unknown {
    if (!this.text.startsWith(word, this.at)) this.fail()
    this.at += word.length
    return value
  }

  string(): string {
    const start = this.at
    let i = start + 1
    for (;;) {
      const char = this.text.charCodeAt(i)
      if (Number.isNaN(char)) this.fail()
      if (char === 0x22) break
      i += char === 0x5c ? 2 : 1
    }
    this.at = i + 1
    return JSON.parse(this.text.slice(start, this.at)) as string
  }

  number(): number {
    NUMBER.lastIndex = this.at
    const match = NUMBER.exec(this.text)
    if (match === null) this.fail()
    this.at = NUMBER.lastIndex
    return Number(match[0])
  }

  value(depth: number): unknown {
    if (depth > MAX_DEPTH) this.fail()
    this.space()
    const char = this.text[this.at]
    switch (char) {
      case '{':
        return this.object(depth)
      case '[':
        return this.array(depth)
      case '"':
        return this.string()
      case 't':
        return this.literal('true', true)
      case 'f':
        return this.literal('false', false)
      case 'n':
        return this.literal('null', null)
      case 'N':
        return this.python ? this.literal('NaN', Number.NaN) : this.fail()
      case 'I':
        return this.python ? this.literal('Infinity', Number.POSITIVE_INFINITY) : this.fail()
      case '-':
        if (this.python && this.text.startsWith('-Infinity', this.at)) {
          return this.literal('-Infinity', Number.NEGATIVE_INFINITY)
        }
        return this.number()
      default:
        return this.number()
    }
  }

  array(depth: number): unknown[] {
    this.at++
    const out: unknown[] = []
    this.space()
    if (this.text[this.at] === ']') {
      this.at++
      return out
    }
    for (;;) {
      out.push(this.value(depth + 1))
      this.space()
      const char = this.text[this.at++]
      if (char === ']') return out
      if (char !== ',') this.fail()
    }
  }

  object(depth: number): Record<string, unknown> {
    this.at++
    const out: Record<string, unknown> = {}
    const order: string[] = []
    this.space()
    if (this.text[this.at] === '}') {
      this.at++
      return out
    }
    for (;;) {
      this.space()
      if (this.text[this.at] !== '"') this.fail()
      const key = this.string()
      this.space()
      if (this.text[this.at++] !== ':') this.fail()
      const value = this.value(depth + 1)
      if (key !== '__proto__') {
        if (!Object.hasOwn(out, key)) order.push(key)
        out[key] = value
      } else if (this.keepProto) {
        if (!Object.hasOwn(out, key)) order.push(key)
        Object.defineProperty(out, key, {
          value,
          enumerable: true,
          writable: true,
          configurable: true,
        })
      }
      this.space()
      const char = this.text[this.at++]
      if (char === '}') break
      if (char !== ',') this.fail()
    }
    if (!this.python) return out
    const own = Object.keys(out)
    if (own.some((key, index) => key !== order[index])) {
      Object.defineProperty(out, KEY_ORDER, { value: order, writable: true })
    }
    return out
  }
}

/**
 * Parses `text` as JSON, building every object from its decoded keys; `__proto__` keys are
 * dropped. `python`: also accept `NaN`, `Infinity` and `-Infinity`, and keep the order of
 * integer-like keys under {@link KEY_ORDER}.
 *
 * @throws {SyntaxError} for text that is not JSON, or nested deeper than 256 levels.
 */
export function readJson(text: string, python = false): unknown {
  return read(new Parser(text, python, false))
}

const QUOTE = 0x22
const BACKSLASH = 0x5c
const COLON = 0x3a
/** JSON's white space: space, tab, line feed, carriage return. */
const WHITESPACE_CODES = new Set([0x20, 0x09, 0x0a, 0x0d])

/**
 * Whether `text` may hold an object key written with an escape (see the module): one pass over
 * its strings, looking for one that holds a backslash and is followed by a colon. Linear, also on
 * hostile text (a pattern tried at every quote took seconds on 50 KB of escaped quotes). On text
 * that is not JSON the answer only picks the parser, which then refuses it.
 */
export function hasEscapedKey(text: string): boolean {
  if (!text.includes('\\')) return false
  const length = text.length
  for (let at = text.indexOf('"'); at !== -1 && at < length; at = text.indexOf('"', at + 1)) {
    let escaped = false
    let end = at + 1
    for (; end < length; end++) {
      const char = text.charCodeAt(end)
      if (char === QUOTE) break
      if (char === BACKSLASH) {
        escaped = true
        end++
      }
    }
    if (escaped) {
      let next = end + 1
      while (next < length && WHITESPACE_CODES.has(text.charCodeAt(next))) next++
      if (text.charCodeAt(next) === COLON) return true
    }
    at = end // the closing quote: the next search starts after it
  }
  return false
}

/**
 * `JSON.parse(text)`, `__proto__` keys included as own properties, with escaped keys read
 * correctly (see the module): for stores, whose field names are whatever the application chose.
 *
 * @throws {SyntaxError} for text that is not JSON, or (when a key holds an escape) nested deeper
 * than 256 levels.
 */
export function parseJson(text: string): unknown {
  // The backslash test first, here: see jsonSerializer.parse (a store reads a record per request).
  return text.includes('\\') && hasEscapedKey(text)
    ? read(new Parser(text, false, true))
    : JSON.parse(text)
}

function read(parser: Parser): unknown {
  const value = parser.value(0)
  parser.space()
  if (parser.at !== parser.text.length) parser.fail()
  return value
}
