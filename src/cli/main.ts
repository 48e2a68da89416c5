#!/usr/bin/env node
/**
 * The `sessionware` executable: dispatches to its commands (`keygen`, `inspect`). It reads
 * nothing but its arguments and sets the exit code instead of calling `process.exit`, so output
 * is flushed.
 *
 * Subpath: none (the package's `bin`, `dist/cli/main.js`).
 *
 * @module
 */

import { parseArgs } from 'node:util'
import { inspect } from './inspect.ts'
import { keygen } from './keygen.ts'

/** Help text of `sessionware`. */
export const USAGE: string = `Usage: sessionware <command> [options]

Commands:
  keygen   print a fresh secret key for the sealed or signed codec
  inspect  decode a session cookie and print its payload

Run 'sessionware <command> --help' for a command's options.
`

const COMMANDS: Readonly<Record<string, (args: readonly string[]) => number>> = {
  keygen,
  inspect,
}

/**
 * Runs the CLI with `argv` (the arguments after the executable) and returns the exit code: 0 on
 * success, 1 when a command fails (such as an invalid cookie), 2 on a usage error.
 */
export function main(argv: readonly string[]): number {
  // Non-strict: only the first token matters here; each command parses its own options.
  const { tokens } = parseArgs({
    args: [...argv],
    options: { help: { type: 'boolean', short: 'h' } },
    strict: false,
    allowPositionals: true,
    tokens: true,
  })
  const first = tokens[0]
  if (first?.kind === 'option' && first.name === 'help') {
    process.stdout.write(USAGE)
    return 0
  }
  if (first?.kind === 'positional') {
    if (first.value === 'help') {
      process.stdout.write(USAGE)
      return 0
    }
    const command = Object.hasOwn(COMMANDS, first.value) ? COMMANDS[first.value] : undefined
    if (command !== undefined) return command(argv.slice(first.index + 1))
    process.stderr.write(`sessionware: unknown command '${first.value}'\n\n${USAGE}`)
    return 2
  }
  const problem = first === undefined ? 'missing command' : `unexpected '${argv[0]}'`
  process.stderr.write(`sessionware: ${problem}\n\n${USAGE}`)
  return 2
}

process.exitCode = main(process.argv.slice(2))
