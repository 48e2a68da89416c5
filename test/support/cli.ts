/**
 * Runs the built `sessionware` executable (dist/cli/main.js) in a child process, building the
 * package first when the build is missing or older than the CLI's sources.
 *
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ROOT = fileURLToPath(new URL('../..', import.meta.url))
const MAIN = join(ROOT, 'dist', 'cli', 'main.js')
const SOURCES = ['src/cli', 'src/codecs', 'src/lib'].map((dir) => join(ROOT, dir))

/** What one run of the CLI produced. */
export interface CliResult {
  /** The exit code (null if a signal ended the process). */
  readonly status: number | null
  /** Everything written to stdout. */
  readonly stdout: string
  /** Everything written to stderr. */
  readonly stderr: string
}

function newestSource(): number {
  let newest = 0
  for (const dir of SOURCES) {
    for (const name of readdirSync(dir))
      newest = Math.max(newest, statSync(join(dir, name)).mtimeMs)
  }
  return newest
}

function isFresh(): boolean {
  return existsSync(MAIN) && statSync(MAIN).mtimeMs >= newestSource()
}

/**
 * Builds the package (`npm run build`) unless dist/cli/main.js is newer than its sources. tsc
 * still writes the output when some other file has a type error; that only fails here when the
 * CLI did not get built.
 */
export function ensureCliBuilt(): void {
  if (isFresh()) return
  try {
    execFileSync('npm', ['run', 'build'], { cwd: ROOT, stdio: 'pipe' })
  } catch (error) {
    if (!isFresh()) throw error
  }
}

/** Runs `node dist/cli/main.js ...args`. */
export function runCli(args: readonly string[]): CliResult {
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd: ROOT, encoding: 'utf8' })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}
