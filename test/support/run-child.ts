/**
 * Running a command to its end in a child process, with a time bound: for tests that run the test
 * files on another runtime, or npm and the CLI on a packed tarball. Not part of the package.
 *
 * @module
 */
import { spawn } from 'node:child_process'

/** How a child process ended, with its stdout and stderr interleaved as they arrived. */
export interface ChildResult {
  /** The exit code, or null when a signal ended the process. */
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly output: string
  /** Wall time from spawn to exit, in milliseconds. */
  readonly ms: number
  /** True when the process was killed for running past `timeoutMs`. */
  readonly timedOut: boolean
}

/** Options of {@link runChild}. */
export interface RunChildOptions {
  /** Working directory. @default the current one */
  cwd?: string
  /** The whole environment of the child. @default {@link childEnv}() */
  env?: NodeJS.ProcessEnv
  /** Milliseconds before the child and everything it started are killed. */
  timeoutMs: number
}

/**
 * This process's environment for a child that runs a test runner of its own: without
 * `NODE_TEST_CONTEXT` (which would make a Node child report to this runner in its binary format)
 * and without colours, plus `extra`.
 */
export function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', ...extra }
  delete env.NODE_TEST_CONTEXT
  delete env.FORCE_COLOR
  return env
}

/**
 * Runs `command args` to its end. The child leads a process group of its own, so a timeout kills
 * whatever it started too (a test runner's own children), and so does the exit of this process.
 */
export function runChild(
  command: string,
  args: readonly string[],
  options: RunChildOptions,
): Promise<ChildResult> {
  const started = performance.now()
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? childEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    const killGroup = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL')
      } catch {
        // already gone
      }
    }
    let output = ''
    let timedOut = false
    const append = (chunk: Buffer) => {
      output += chunk.toString('utf8')
    }
    child.stdout.on('data', append)
    child.stderr.on('data', append)
    const timer = setTimeout(() => {
      timedOut = true
      killGroup()
    }, options.timeoutMs)
    process.once('exit', killGroup)
    child.once('error', (error) => {
      clearTimeout(timer)
      process.off('exit', killGroup)
      reject(error)
    })
    child.once('exit', () => {
      // Whatever the child left running (a stray server, a stuck grandchild) goes with it, which
      // also closes the pipes it may hold.
      killGroup()
    })
    child.once('close', (code, signal) => {
      clearTimeout(timer)
      process.off('exit', killGroup)
      resolve({ code, signal, output, ms: Math.round(performance.now() - started), timedOut })
    })
  })
}
