/**
 * `npm run example <name> [-- --runtime=node|bun|deno]`: starts `examples/<name>/main.ts` with the
 * current environment (HOST, PORT and the demo's variables, see `examples/demo/config.ts`), on
 * Node.js (through tsx) by default, or on the Bun or Deno binary that `npm ci` installed. Exits
 * with the example's exit code; SIGINT and SIGTERM are passed on.
 *
 * @module
 */
import { spawn } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const root = dirname(here)
const names = readdirSync(here, { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && existsSync(join(here, entry.name, 'main.ts')))
  .map((entry) => entry.name)
  .sort()

function usage(message: string): never {
  console.error(
    `${message}\nusage: npm run example <${names.join('|')}> [-- --runtime=node|bun|deno]`,
  )
  process.exit(2)
}

const args = process.argv.slice(2)
const runtime =
  args.find((arg) => arg.startsWith('--runtime='))?.slice('--runtime='.length) ?? 'node'
const name = args.find((arg) => !arg.startsWith('--'))
if (name === undefined) usage('which example?')
if (!names.includes(name)) usage(`no example named "${name}"`)
const main = join(here, name, 'main.ts')

const bin = (tool: string): string => join(root, 'node_modules', '.bin', tool)
let command: string
let commandArgs: string[]
if (runtime === 'node') {
  command = process.execPath
  commandArgs = ['--import', 'tsx', main]
} else if (runtime === 'bun') {
  command = bin('bun')
  commandArgs = [main]
} else if (runtime === 'deno') {
  command = bin('deno')
  commandArgs = [
    'run',
    '--allow-net',
    '--allow-env',
    '--allow-read',
    '--allow-write',
    '--allow-sys',
    // Deno does not read tsconfig paths: the import map sends 'sessionware' to src/ as they do.
    '--import-map',
    join(here, 'import-map.json'),
    main,
  ]
} else {
  usage(`unknown runtime "${runtime}"`)
}
if (runtime !== 'node' && !existsSync(command)) {
  console.error(`${runtime} is not installed here (expected ${command}; npm ci installs it)`)
  process.exit(1)
}

const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' })
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => child.kill(signal))
}
child.on('exit', (code, signal) => {
  process.exitCode = code ?? (signal === null ? 1 : 128)
})
