/**
 * The default serializer: JSON, with a parser that cannot pollute prototypes. Re-exported from
 * `sessionware` as {@link jsonSerializer}.
 *
 * @module
 */
import { hasEscapedKey, readJson } from '../lib/json-reader.ts'
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
 * Text with an escape in an object key (`"caf\u00e9"`, `"say \"hi\""`) is read by sessionware's
 * own reader: V8's `JSON.parse` may give such a key as a different key seen before
 * (nodejs/node#63785, on Node 24 and Deno).
 *
 * Cost: a scan of the text for `__proto__` and for a backslash; text with `__proto__` is parsed
 * with a reviver and text with an escaped key by the reader (both several times slower), every
 * other text with plain `JSON.parse`.
 */
export const jsonSerializer: Serializer = Object.freeze({
  stringify(value: unknown): string {
    return JSON.stringify(value)
  },
  parse(text: string): unknown {
    // A `__proto__` key spelt with escapes is an escaped key: the reader drops it too. The
    // backslash test stays here, outside `hasEscapedKey`: most text has none, and a call that
    // returns at once cost 800 instructions per request when the engine left it unoptimized.
    if (text.includes('\\') && hasEscapedKey(text)) return readJson(text)
    return text.includes('__proto__') ? JSON.parse(text, dropProtoKeys) : JSON.parse(text)
  },
})
