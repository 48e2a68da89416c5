/**
 * `sessionware keygen`: prints one fresh secret key for the sealed or signed codec.
 *
 * Subpath: none (a command of the `sessionware` executable, `dist/cli/main.js`).
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'

/** Bytes of randomness in a generated key (printed as 43 base64url characters). */
export const KEY_BYTES = 32

/** Help text of `sessionware keygen`. */
export const KEYGEN_USAGE: string = `Usage: sessionware keygen [--codec sealed|signed]

Prints one fresh secret key: ${KEY_BYTES} random bytes from the system CSPRNG, base64url-encoded
(43 characters), followed by a newline. The sealed and signed codecs take keys of the same
format; --codec only documents which one the key is for.

Options:
  --codec <name>  sealed (default) or signed
  -h, --help      show this help
`

/**
 * Runs `sessionware keygen` with the arguments that follow the command name, writing to the
 * process's stdout and stderr.
 *
 * @returns the exit code: 0 on success, 2 on a usage error.
 */
export function keygen(args: readonly string[]): number {
  let codec: string
  try {
    const { values } = parseArgs({
      args: [...args],
      options: {
        codec: { type: 'string', default: 'sealed' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
      allowPositionals: false,
    })
    if (values.help === true) {
      process.stdout.write(KEYGEN_USAGE)
      return 0
    }
    codec = values.codec
  } catch (error) {
    return usageError(error instanceof Error ? error.message : String(error))
  }
  if (codec !== 'sealed' && codec !== 'signed') {
    const why = codec === 'plain' ? 'the plain codec takes no key' : `unknown codec '${codec}'`
    return usageError(`${why}; --codec must be sealed or signed`)
  }
  process.stdout.write(`${randomBytes(KEY_BYTES).toString('base64url')}\n`)
  return 0
}

function usageError(message: string): number {
  process.stderr.write(`sessionware keygen: ${message}\n\n${KEYGEN_USAGE}`)
  return 2
}
