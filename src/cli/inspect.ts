/**
 * `sessionware inspect`: decodes a session cookie with the application's keys and prints its
 * payload and which key opened it. For debugging. Keys come from the `SESSION_KEYS` environment
 * variable or from stdin, never from the command line, where `ps` and the shell history show them.
 *
 * Subpath: none (a command of the `sessionware` executable, `dist/cli/main.js`).
 *
 * @module
 */

import { readFileSync } from 'node:fs'
import { isatty } from 'node:tty'
import { parseArgs } from 'node:util'
import { createFernetCodec } from '../codecs/fernet.ts'
import { createItsdangerousCodec } from '../codecs/itsdangerous.ts'
import { createJwtCodec } from '../codecs/jwt.ts'
import { createNaclCodec } from '../codecs/nacl.ts'
import { createSealedCodec } from '../codecs/sealed.ts'
import { createSignedCodec } from '../codecs/signed.ts'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { keyId } from '../lib/keys.ts'
import { plainCodec } from '../lib/plain-codec.ts'

/** The environment variable that holds the keys: comma-separated, newest first (as in the demo). */
export const KEYS_VARIABLE = 'SESSION_KEYS'

/** Help text of `sessionware inspect`. */
export const INSPECT_USAGE: string = `Usage:
  sessionware inspect [--codec <name>] [--keys-from-stdin] <value>

Decodes a session cookie and prints its payload (pretty-printed when it is JSON) and which key
opened it. A cookie opened by any key but the first is "rotated": the application re-issues it
with the first key. <value> is the cookie value; name=value is accepted too. Put -- before a
cookie value that starts with '-'.

Keys are never given on the command line (ps and the shell history would show them). They come
from ${KEYS_VARIABLE}, comma-separated and newest first, as the application reads it, or with
--keys-from-stdin from stdin, one key per line, newest first (${KEYS_VARIABLE} is then ignored):
  sessionware inspect --keys-from-stdin <value> < keys.txt

Options:
  --keys-from-stdin  read the keys from stdin instead of ${KEYS_VARIABLE}
  --codec <name>     sealed (default), signed, fernet, nacl, itsdangerous, jwt, or plain
                     (plain takes no key)
  -h, --help         show this help

Exit status: 0 when the cookie decodes, 1 when it does not ("invalid cookie: <reason>" on
stderr, reason one of malformed, tampered, unknown-key), 2 on a usage error.
`

/** Why a key on the command line is refused, and what to do instead. */
const KEY_ARGUMENT_REFUSED = `keys are not accepted on the command line, where ps and the shell history show them.
Set ${KEYS_VARIABLE} (comma-separated, newest first), or pass --keys-from-stdin and write the
keys to stdin, one per line. A key typed on the command line may already be in the shell
history.`

type KeyedFactory = (options: { keys: string[] }) => CookieCodec

const KEYED_CODECS: Readonly<Record<string, KeyedFactory>> = {
  sealed: createSealedCodec,
  signed: createSignedCodec,
  fernet: createFernetCodec,
  nacl: createNaclCodec,
  itsdangerous: createItsdangerousCodec,
  jwt: createJwtCodec,
}

/** The codecs whose tokens carry a key id (the Python formats name no key). */
const WITH_KEY_ID = new Set(['sealed', 'signed'])

const REASON_HINTS: Readonly<Record<string, string>> = {
  malformed: 'this is not a value the codec writes (wrong codec, cut short, or garbled)',
  tampered: 'the value was changed, or written with another key that shares a key id',
  'unknown-key': 'none of the given keys wrote this cookie (its key id matches none of them)',
  expired: "the value is older than the codec's own age limit (itsdangerous maxAge, fernet ttl)",
}

/** The keys found, and where (for messages). */
interface FoundKeys {
  readonly keys: string[]
  readonly source: string
}

/**
 * Runs `sessionware inspect` with the arguments that follow the command name, reading keys from
 * `SESSION_KEYS` or stdin and writing to the process's stdout and stderr.
 *
 * @returns the exit code: 0 when the cookie decodes, 1 when it does not, 2 on a usage error
 *   (a key given as an argument included).
 */
export function inspect(args: readonly string[]): number {
  if (hasKeyOption(args)) return usageError(KEY_ARGUMENT_REFUSED)
  let fromStdin: boolean
  let codecName: string
  let positionals: string[]
  try {
    const parsed = parseArgs({
      args: [...args],
      options: {
        'keys-from-stdin': { type: 'boolean' },
        codec: { type: 'string', default: 'sealed' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: true,
    })
    if (parsed.values.help === true) {
      process.stdout.write(INSPECT_USAGE)
      return 0
    }
    fromStdin = parsed.values['keys-from-stdin'] === true
    codecName = parsed.values.codec
    positionals = parsed.positionals
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error))
  }
  const [input, ...extra] = positionals
  if (input === undefined || extra.length > 0) {
    return usageError(`expected exactly one cookie value, got ${positionals.length}`)
  }

  let codec: CookieCodec
  let factory: KeyedFactory | undefined
  let keys: string[] = []
  if (codecName === 'plain') {
    // SESSION_KEYS may be set for the application; the plain codec simply does not use it.
    if (fromStdin) return usageError('the plain codec takes no keys; drop --keys-from-stdin')
    codec = plainCodec
  } else {
    factory = KEYED_CODECS[codecName]
    if (factory === undefined) {
      return usageError(
        `unknown codec '${codecName}'; --codec must be ${Object.keys(KEYED_CODECS).join(', ')} or plain`,
      )
    }
    const found = fromStdin ? keysFromStdin() : keysFromEnvironment()
    if (typeof found === 'string') return usageError(found)
    if (found.keys.length === 0) {
      return usageError(
        `the ${codecName} codec needs at least one key: set ${KEYS_VARIABLE} (comma-separated, ` +
          'newest first), or pass --keys-from-stdin and write the keys to stdin, one per line',
      )
    }
    keys = found.keys
    try {
      codec = factory({ keys })
    } catch (error) {
      if (!(error instanceof SessionConfigError)) throw error
      // The codec's message counts keys from 0 and never repeats a key.
      return usageError(`the keys from ${found.source}: ${error.message}`)
    }
  }

  const value = cookieValue(input)
  let decoded: DecodedCookie
  try {
    decoded = codec.decode(value)
  } catch (error) {
    if (!(error instanceof SessionDecodeError)) throw error
    const hint = REASON_HINTS[error.reason]
    process.stderr.write(
      `invalid cookie: ${error.reason}\n${hint === undefined ? '' : `hint: ${hint}\n`}`,
    )
    return 1
  }

  const lines = [`codec:   ${codec.name}`]
  if (factory !== undefined) {
    const index = openingKey(factory, keys, value)
    const which = index === -1 ? 'unknown' : `#${index + 1} of ${keys.length}`
    const kid =
      index === -1 || !WITH_KEY_ID.has(codecName) ? '' : ` (key id ${keyId(keys[index] ?? '')})`
    lines.push(`key:     ${which}${kid}`)
    lines.push(
      `rotated: ${decoded.rotated ? 'yes (the application re-issues it with key #1)' : 'no'}`,
    )
  } else {
    lines.push('key:     none (plain: neither signed nor encrypted)')
  }
  lines.push('payload:', printable(pretty(decoded.payload)))
  process.stdout.write(`${lines.join('\n')}\n`)
  return 0
}

/** Whether the arguments (before a `--`) hold `--key`/`-k` in any spelling, with or without a value. */
function hasKeyOption(args: readonly string[]): boolean {
  const { tokens } = parseArgs({
    args: [...args],
    options: {
      key: { type: 'string', short: 'k', multiple: true },
      'keys-from-stdin': { type: 'boolean' },
      codec: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  return tokens.some((token) => token.kind === 'option' && token.name === 'key')
}

/** The keys in SESSION_KEYS: comma-separated, each trimmed; none when unset or blank. */
function keysFromEnvironment(): FoundKeys {
  const text = process.env[KEYS_VARIABLE]?.trim() ?? ''
  const keys = text === '' ? [] : text.split(',').map((key) => key.trim())
  return { keys, source: KEYS_VARIABLE }
}

/** The keys on stdin: one per line, each trimmed, blank lines skipped; or why they cannot be read. */
function keysFromStdin(): FoundKeys | string {
  if (isatty(0)) {
    process.stderr.write('Enter the keys, one per line, newest first; end with Ctrl-D.\n')
  }
  let text: string
  try {
    text = readFileSync(0, 'utf8')
  } catch (error) {
    return `cannot read the keys from stdin: ${error instanceof Error ? error.message : String(error)}`
  }
  const keys = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '')
  return { keys, source: 'stdin' }
}

/** Accepts `name=value` and a double-quoted value as well as the bare value. */
function cookieValue(input: string): string {
  let value = input.trim()
  const equals = value.indexOf('=')
  if (equals !== -1) value = value.slice(equals + 1).trim()
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1)
  return value
}

/** The index of the key that opens `value` on its own, or -1. */
function openingKey(factory: KeyedFactory, keys: readonly string[], value: string): number {
  return keys.findIndex((key) => {
    try {
      factory({ keys: [key] }).decode(value)
      return true
    } catch {
      return false
    }
  })
}

/** JSON pretty-printed with 2 spaces, or the text as it is when it is not JSON. */
function pretty(payload: string): string {
  try {
    return JSON.stringify(JSON.parse(payload), null, 2)
  } catch {
    return payload
  }
}

/**
 * Escapes control characters (other than newline and tab) so a hostile payload cannot send
 * escape sequences to the terminal. JSON.stringify already escapes C0 inside strings, not C1.
 */
function printable(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are the target
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g, (char) => {
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`
  })
}

function usageError(message: string): number {
  process.stderr.write(`sessionware inspect: ${message}\n\n${INSPECT_USAGE}`)
  return 2
}
