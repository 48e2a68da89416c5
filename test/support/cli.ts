/**
 * Runs the built `sessionware` executable (dist/cli/main.js) in a child process, building the
 * package first when the build is missing or older than the CLI's sources.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
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

/** How to run the CLI. */
export interface CliOptions {
  /**
   * Variables added to the child's environment, which is otherwise this process's environment
   * without `SESSION_KEYS` (so the caller's own keys never reach a test). Default: none.
   */
  readonly env?: Readonly<Record<string, string>>
  /** Written to the child's stdin, which is then closed. Default: an empty stdin. */
  readonly input?: string
}

function childEnv(env: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const base: NodeJS.ProcessEnv = { ...process.env }
  delete base.SESSION_KEYS
  return { ...base, ...env }
}

/** Runs `node dist/cli/main.js ...args` to its end. */
export function runCli(args: readonly string[], options: CliOptions = {}): CliResult {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: childEnv(options.env),
    input: options.input ?? '',
    timeout: 30_000,
  })
  return { status: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** A CLI process started by {@link startCli}, its stdin left open. */
export interface RunningCli {
  /** The child process (its stdin is a pipe). */
  readonly child: ChildProcess
  /** Settles when the process has ended, with what it wrote. */
  readonly done: Promise<CliResult>
}

/**
 * Starts `node dist/cli/main.js ...args` without waiting for it, its stdin open, so a test can
 * look at the running process. The process is killed after 30 s if it has not ended.
 */
export function startCli(
  args: readonly string[],
  options: Omit<CliOptions, 'input'> = {},
): RunningCli {
  const child = spawn(process.execPath, [MAIN, ...args], {
    cwd: ROOT,
    env: childEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
    timeout: 30_000,
  })
  let stdout = ''
  let stderr = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk
  })
  const done = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (status) => resolve({ status, stdout, stderr }))
  })
  return { child, done }
}
