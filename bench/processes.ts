/**
 * The benchmark servers as child processes: compiled once with tsc to plain JavaScript (as
 * `npm run build` ships sessionware), each started pinned to the servers' CPU, asked for its CPU
 * time around every slice, profiled on request, and stopped.
 *
 * Compiled rather than run through tsx: tsx's transform wraps every function created at run time
 * in a `__name()` call, several per request, which would be measured too.
 *
 * @module
 */

import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { PrefillReport } from './servers/prefill.ts'
import type { Target } from './targets.ts'

export const ROOT = fileURLToPath(new URL('..', import.meta.url))
/** Where the servers are compiled to (inside the repository, so node_modules resolves). */
export const BUILD_DIR = join(ROOT, 'bench', 'results', 'build')
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))

/** A running benchmark server. */
export interface RunningServer {
  readonly target: Target
  readonly child: ChildProcess
  readonly port: number
  readonly prefill: PrefillReport | undefined
  stderr: string
}

/**
 * Compiles bench/server.ts and everything it imports (sessionware's sources included) with tsc
 * into bench/results/build; returns the compiled entry. `reuse` keeps an earlier build.
 */
export function buildServers(reuse: boolean): string {
  const entry = join(BUILD_DIR, relative(ROOT, SERVER).replace(/\.ts$/, '.js'))
  if (reuse && existsSync(entry)) return entry
  rmSync(BUILD_DIR, { recursive: true, force: true })
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = [
    tsc,
    SERVER,
    ...['--outDir', BUILD_DIR, '--rootDir', ROOT, '--module', 'nodenext'],
    ...['--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node'],
    '--rewriteRelativeImportExtensions',
    '--allowImportingTsExtensions',
    '--verbatimModuleSyntax',
    '--noCheck',
    '--skipLibCheck',
  ]
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000 })
  if (run.status !== 0) {
    throw new Error(`compiling the servers failed:\n${run.stdout}${run.stderr}${run.error ?? ''}`)
  }
  return entry
}

/** What a server process is started with. */
export interface StartOptions {
  readonly cpu: number | undefined
  readonly env: Record<string, string>
  /** Seconds to wait for the ready message (a prefill takes a while). */
  readonly readySeconds: number
  /**
   * A command that runs node (its arguments follow), instead of running node directly: valgrind
   * for bench/instructions.ts. Not combined with `cpu`.
   */
  readonly launcher?: readonly string[]
  /**
   * Keep V8's memory reducer (default: off, `--no-memory-reducer`). An idle process's memory
   * reducer compacts its heap and leaves it slower for seconds of load afterwards (bench/README.md,
   * "Cold servers"); a server under steady load never idles long enough to run it.
   */
  readonly memoryReducer?: boolean
}

/** Starts one server and waits for its ready message. */
export function startServer(
  entry: string,
  target: Target,
  options: StartOptions,
): Promise<RunningServer> {
  const nodeArgs = target.prefill === undefined ? [] : ['--expose-gc', '--max-old-space-size=8192']
  if (options.memoryReducer !== true) nodeArgs.push('--no-memory-reducer')
  const args = [...nodeArgs, entry, target.name]
  const [command, ...prefix] =
    options.launcher ?? (options.cpu === undefined ? [] : ['taskset', '-c', String(options.cpu)])
  const child = spawn(
    command ?? process.execPath,
    command === undefined ? args : [...prefix, process.execPath, ...args],
    {
      cwd: ROOT,
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      env: { ...process.env, ...options.env, NODE_ENV: 'production' },
    },
  )
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${target.name}: not ready within ${options.readySeconds} s\n${stderr}`))
    }, options.readySeconds * 1000)
    const exited = (code: number | null): void => {
      clearTimeout(timer)
      reject(new Error(`${target.name}: exited with ${code} before it was ready\n${stderr}`))
    }
    child.once('exit', exited)
    child.on('message', (message: { type?: string; port?: number; prefill?: PrefillReport }) => {
      if (message?.type !== 'ready' || typeof message.port !== 'number') return
      clearTimeout(timer)
      child.off('exit', exited)
      const server: RunningServer = {
        target,
        child,
        port: message.port,
        prefill: message.prefill,
        stderr,
      }
      child.stderr?.on('data', (chunk: string) => {
        server.stderr += chunk
      })
      resolve(server)
    })
  })
}

/** Sends a message and waits for the answer of the same type. */
function ask<T>(server: RunningServer, message: object, type: string): Promise<T> {
  const child = server.child
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listen)
      reject(new Error(`${server.target.name}: no answer to ${type}`))
    }, 30_000)
    const listen = (answer: { type?: string }): void => {
      if (answer?.type !== type) return
      clearTimeout(timer)
      child.off('message', listen)
      resolve(answer as T)
    }
    child.on('message', listen)
    child.send(message)
  })
}

/** CPU seconds the server process has used so far (all its threads). */
export async function cpuSeconds(server: RunningServer): Promise<number> {
  const answer = await ask<{ micros: number }>(server, { type: 'cpu' }, 'cpu')
  return answer.micros / 1e6
}

/** Starts the server's CPU profiler. */
export async function startProfile(server: RunningServer): Promise<void> {
  await ask(server, { type: 'profile', action: 'start' }, 'profile')
}

/** Stops the server's CPU profiler and writes the profile to `file`. */
export async function stopProfile(server: RunningServer, file: string): Promise<void> {
  const answer = await ask<{ ok: boolean; error?: string }>(
    server,
    { type: 'profile', action: 'stop', file },
    'profile',
  )
  if (!answer.ok) throw new Error(`${server.target.name}: profile failed: ${answer.error}`)
}

/** Stops a server (asks, then SIGKILL after 5 s). */
export function stopServer(server: RunningServer): Promise<void> {
  const child = server.child
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000)
    child.once('exit', () => {
      clearTimeout(timer)
      resolve()
    })
    if (child.connected) child.send({ type: 'stop' })
    else child.kill('SIGTERM')
  })
}
