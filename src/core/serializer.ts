/**
 * The default serializer: JSON, with a parser that cannot pollute prototypes. Re-exported from
 * `sessionware` as {@link jsonSerializer}.
 *
 * @module
 */
import type { Serializer } from './types.ts'

const DANGEROUS_KEY = /"(?:__proto__|constructor|prototype)"\s*:/

function dropDangerousKeys(this: unknown, key: string, value: unknown): unknown {
  if (key === '__proto__' || key === 'constructor' || key === 'prototype') return undefined
  return value
}

/**
 * JSON serializer whose `parse` drops every `__proto__`, `constructor` and `prototype` key at any
 * depth, so data decoded from a cookie or a store can never change an object's prototype. The
 * check is a fast scan; only text that contains such a key pays for the filtering reviver.
 */
export const jsonSerializer: Serializer = Object.freeze({
  stringify(value: unknown): string {
    return JSON.stringify(value)
  },
  parse(text: string): unknown {
    // A key may also be spelt with \u escapes ("__pr\u006fto__"): such text takes the slow path too.
    return DANGEROUS_KEY.test(text) || text.includes('\\u')
      ? JSON.parse(text, dropDangerousKeys)
      : JSON.parse(text)
  },
})
