/**
 * Reading JSON that Python wrote: as `JSON.parse`, plus what Python's `json.loads` accepts and
 * `JSON.parse` does not (`NaN`, `Infinity`, `-Infinity`), and with the order of integer-like keys
 * kept (under {@link KEY_ORDER}) so that writing the data back gives Python's bytes. `__proto__`
 * keys are dropped at any depth, as the default serializer does. Internal.
 *
 * @module
 */
import { jsonSerializer } from '../core/serializer.ts'
import { KEY_ORDER } from './python-json.ts'

/** Text that needs the slow parser: an integer-like key, or a token `JSON.parse` refuses. */
const NEEDS_PARSER = /"(?:0|[1-9]\d*)"\s*:|NaN|Infinity/

/** Deepest nesting accepted; hostile input gets a SyntaxError, not a stack overflow. */
const MAX_DEPTH = 256

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y
const WHITESPACE = /[ \t\n\r]*/y

class Parser {
  readonly text: string
  at = 0

  constructor(text: string) {
    this.text = text
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
        return this.literal('NaN', Number.NaN)
      case 'I':
        return this.literal('Infinity', Number.POSITIVE_INFINITY)
      case '-':
        if (this.text.startsWith('-Infinity', this.at)) {
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
      }
      this.space()
      const char = this.text[this.at++]
      if (char === '}') break
      if (char !== ',') this.fail()
    }
    const own = Object.keys(out)
    if (own.some((key, index) => key !== order[index])) {
      Object.defineProperty(out, KEY_ORDER, { value: order, writable: true })
    }
    return out
  }
}

/**
 * Parses JSON that Python's `json.dumps` (or any JSON writer) produced; see the module.
 *
 * @throws {SyntaxError} for text that is not JSON (nor Python's `NaN`/`Infinity` extension).
 */
export function pythonJsonParse(text: string): unknown {
  if (!NEEDS_PARSER.test(text)) return jsonSerializer.parse(text)
  const parser = new Parser(text)
  const value = parser.value(0)
  parser.space()
  if (parser.at !== text.length) parser.fail()
  return value
}
