/**
 * JSON as Python's `json.dumps` writes it by default, so that a payload sessionware writes is byte
 * for byte the one aiohttp-session, starsessions or Starlette would write for the same data:
 * `", "` and `": "` separators, `ensure_ascii` escapes (`\uXXXX` in lowercase hex, surrogate
 * pairs for astral characters, U+007F and above), floats in `repr()` form (`1e-07`, `1e+16`,
 * `1700000000.0` for a {@link PythonFloat}), and keys in the order the text had them, integer-like
 * keys included (a JavaScript object puts `"1"` before `"b"`; see {@link KEY_ORDER}). Also the
 * compact form asgi-sessions writes (`","`, `":"`, raw UTF-8). Internal.
 *
 * @module
 */

/**
 * Where a parsed object keeps the order its keys had in the text, when that order differs from
 * the object's own (integer-like keys). Non-enumerable; `pythonJsonStringify` writes the keys in
 * this order, then any key added later.
 */
export const KEY_ORDER: unique symbol = Symbol.for('sessionware.keyOrder') as never

/**
 * A float that Python wrote or must read as a float even when it is integral (`1700000000.0`):
 * starsessions' `created` and `last_access` times. JavaScript has one number type, so a plain
 * integral number is written as a Python int.
 */
export class PythonFloat {
  readonly value: number
  constructor(value: number) {
    this.value = value
  }
}

/** Options of {@link pythonJsonStringify}. */
export interface PythonJsonOptions {
  /**
   * `true`: `json.dumps(value)` (separators `", "`/`": "`, ASCII only). `false`: asgi-sessions'
   * `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`.
   *
   * @default true
   */
  readonly pythonDefaults?: boolean
}

const NON_ASCII = /[\u007f-\uffff]/g

function escapeNonAscii(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
}

/** Python's `repr(float)`: shortest round-trip digits, exponent below 1e-4 and from 1e16. */
export function pythonFloatRepr(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return 'Infinity'
  if (value === Number.NEGATIVE_INFINITY) return '-Infinity'
  if (value === 0) return Object.is(value, -0) ? '-0.0' : '0.0'
  const [mantissa, exp] = value.toExponential().split('e') as [string, string]
  const exponent = Number(exp)
  if (exponent < -4 || exponent >= 16) {
    const sign = exponent < 0 ? '-' : '+'
    return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`
  }
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  let text: string
  if (exponent < 0) text = `0.${'0'.repeat(-exponent - 1)}${digits}`
  else {
    const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0')
    const fraction = digits.slice(exponent + 1)
    text = `${whole}.${fraction === '' ? '0' : fraction}`
  }
  return negative ? `-${text}` : text
}

/**
 * A number: integral below 1e21 as a Python int (what `JSON.stringify` writes too, so Python reads
 * an int either way), anything else as a Python float.
 */
function number(value: number): string {
  if (Number.isInteger(value) && Math.abs(value) < 1e21) return value === 0 ? '0' : String(value)
  return pythonFloatRepr(value)
}

/** The keys of `object` in the order Python would write them (its {@link KEY_ORDER} first). */
export function orderedKeys(object: object): string[] {
  const own = Object.keys(object)
  const order = (object as { [KEY_ORDER]?: readonly string[] })[KEY_ORDER]
  if (order === undefined) return own
  const present = new Set(own)
  const out = order.filter((key) => present.has(key))
  const listed = new Set(out)
  for (const key of own) if (!listed.has(key)) out.push(key)
  return out
}

/**
 * Writes `value` as Python's `json.dumps` would (see the module). `undefined` members are left out
 * of objects and written as `null` in arrays, as `JSON.stringify` does; `toJSON` is honoured.
 *
 * @throws {TypeError} for a BigInt, a function or a symbol at the top level, or a cycle.
 */
export function pythonJsonStringify(value: unknown, options: PythonJsonOptions = {}): string {
  const python = options.pythonDefaults ?? true
  const comma = python ? ', ' : ','
  const colon = python ? ': ' : ':'
  const seen = new Set<object>()
  const string = (text: string): string => {
    const json = JSON.stringify(text)
    return python ? json.replace(NON_ASCII, escapeNonAscii) : json
  }
  const write = (item: unknown): string | undefined => {
    if (item === null) return 'null'
    if (item instanceof PythonFloat) return pythonFloatRepr(item.value)
    if (typeof item === 'object' && typeof (item as { toJSON?: unknown }).toJSON === 'function') {
      item = (item as { toJSON: () => unknown }).toJSON()
    }
    switch (typeof item) {
      case 'string':
        return string(item)
      case 'number':
        return number(item)
      case 'boolean':
        return item ? 'true' : 'false'
      case 'bigint':
        throw new TypeError('a BigInt cannot be written as session JSON')
      case 'object': {
        if (item === null) return 'null'
        if (seen.has(item)) throw new TypeError('session data contains a cycle')
        seen.add(item)
        let out: string
        if (Array.isArray(item)) {
          out = `[${item.map((element) => write(element) ?? 'null').join(comma)}]`
        } else {
          const parts: string[] = []
          for (const key of orderedKeys(item)) {
            const text = write((item as Record<string, unknown>)[key])
            if (text !== undefined) parts.push(`${string(key)}${colon}${text}`)
          }
          out = `{${parts.join(comma)}}`
        }
        seen.delete(item)
        return out
      }
      default:
        return undefined
    }
  }
  const text = write(value)
  if (text === undefined) throw new TypeError(`a ${typeof value} cannot be written as session JSON`)
  return text
}
