/**
 * Cookie values as the Python seeds read and write them: Python's `http.cookies` quoting (what
 * aiohttp writes: a value with any character outside its legal set is wrapped in `"…"`, with `\"`,
 * `\\` and `\ooo` octal escapes) and the readers of aiohttp, Starlette and asgi-tools (such a value
 * is unquoted; of duplicate names the last wins). Internal.
 *
 * @module
 */

/** Characters `http.cookies` writes bare. */
const LEGAL = /^[A-Za-z0-9!#$%&'*+\-.^_`|~:]*$/
/** Characters it writes unescaped inside quotes besides {@link LEGAL}'s. */
const QUOTED_PLAIN = /[A-Za-z0-9!#$%&'*+\-.^_`|~: ()/<=>?@[\]{}]/

/**
 * Quotes `value` as Python's `http.cookies._quote`: bare when every character is legal, else
 * `"…"` with `"` → `\"`, `\` → `\\` and every other character below U+0100 outside the legal set
 * as a 3-digit octal escape (`,` → `\054`, `;` → `\073`, `é` → `\351`); characters from U+0100 up
 * stay as they are, as in Python.
 */
export function pythonQuote(value: string): string {
  if (LEGAL.test(value)) return value
  let out = '"'
  for (const char of value) {
    const code = char.codePointAt(0) as number
    if (char === '"') out += '\\"'
    else if (char === '\\') out += '\\\\'
    else if (code >= 0x100 || QUOTED_PLAIN.test(char)) out += char
    else out += `\\${code.toString(8).padStart(3, '0')}`
  }
  return `${out}"`
}

const ESCAPE = /\\(?:([0-3][0-7][0-7])|(.))/gs

/** Undoes {@link pythonQuote} (Python's `_unquote`): a value not in double quotes is returned as is. */
export function pythonUnquote(value: string): string {
  if (value.length < 2 || value[0] !== '"' || value[value.length - 1] !== '"') return value
  return value
    .slice(1, -1)
    .replace(ESCAPE, (_, octal: string | undefined, char: string | undefined) =>
      octal === undefined ? (char as string) : String.fromCharCode(Number.parseInt(octal, 8)),
    )
}

/**
 * The value of cookie `name` in a Cookie header read as the Python seeds read it: split on `;`,
 * name and value split at the first `=` and trimmed, the last of duplicate names wins, the value
 * unquoted ({@link pythonUnquote}). Undefined when absent or empty.
 */
export function readPythonCookie(
  header: string | null | undefined,
  name: string,
): string | undefined {
  if (!header?.includes(name)) return undefined
  let found: string | undefined
  for (const part of header.split(';')) {
    const eq = part.indexOf('=')
    if (eq === -1 || part.slice(0, eq).trim() !== name) continue
    found = part.slice(eq + 1).trim()
  }
  if (found === undefined) return undefined
  const value = pythonUnquote(found)
  return value === '' ? undefined : value
}
