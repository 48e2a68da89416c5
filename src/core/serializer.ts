/**
 * The default serializer: JSON, with a parser that cannot pollute prototypes. Re-exported from
 * `sessionware` as {@link jsonSerializer}.
 *
 * @module
 */
import type { Serializer } from './types.ts'

function dropProtoKeys(key: string, value: unknown): unknown {
  return key === '__proto__' ? undefined : value
}

/**
 * JSON serializer whose `parse` drops every `__proto__` key at any depth, also when the key is
 * spelt with `\u` escapes. `JSON.parse` makes such a key an ordinary own property, but copying the
 * object later (`Object.assign`, spread, a deep merge) would set the copy's prototype; without the
 * key, decoded data can never change an object's prototype. Every other key is kept as it is,
 * `constructor` and `prototype` included: they are ordinary data (`{ constructor: 'Ann' }`). Code
 * that deep-merges decoded data into other objects should still descend only into own properties,
 * as with any JSON input.
 *
 * Cost: a scan of the text for `__proto__` and for `\u`; only text that contains either is parsed
 * with a reviver (several times slower), every other text with plain `JSON.parse`.
 */
export const jsonSerializer: Serializer = Object.freeze({
  stringify(value: unknown): string {
    return JSON.stringify(value)
  },
  parse(text: string): unknown {
    // Letters and underscores can be escaped only as \uXXXX, so text without "\u" spells the key
    // plainly if it holds it at all.
    return text.includes('__proto__') || text.includes('\\u')
      ? JSON.parse(text, dropProtoKeys)
      : JSON.parse(text)
  },
})
