/**
 * Starting a server under Bun or Deno for a node:test test: find the runtime's binary (the dev
 * dependency in node_modules/.bin), spawn a script that listens on 127.0.0.1 and prints
 * `listening on <url>`, and stop it after the test. A missing runtime skips loudly; with
 * SESSIONWARE_REQUIRE_SERVICES=1 it fails instead.
 *
 * Not part of the package.
 *
 * @module
 */
import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { servicesRequired } from './services.ts'

/** The project's root directory (with a trailing slash). */
export const ROOT: string = fileURLToPath(new URL('../../', import.meta.url))

/** How long a server may take to print its URL (Deno compiles on first start). */
const START_TIMEOUT_MS = 60_000

/** A runtime the tests start servers on. */
export interface Runtime {
  readonly name: 'Bun' | 'Deno'
  /** Its binary, relative to the root. */
  readonly bin: string
  /** The arguments that run `script` (relative to the root) with network and env access. */
  args(script: string, extra?: readonly string[]): string[]
}

export const BUN: Runtime = {
  name: 'Bun',
  bin: 'node_modules/.bin/bun',
  args: (script, extra = []) => [...extra, script],
}

export const DENO: Runtime = {
  name: 'Deno',
  bin: 'node_modules/.bin/deno',
  // Types are checked by `npm run typecheck`, not a second time by Deno's own TypeScript.
  args: (script, extra = []) => [
    'run',
    '--no-check',
    '--allow-net',
    '--allow-env',
    ...extra,
    script,
  ],
}

/**
 * The runtime's binary when it is there and answers `--version`; otherwise null after
 * `t.skip(reason)` (said on stderr too), or an error with SESSIONWARE_REQUIRE_SERVICES=1.
 */
export function locate(t: TestContext, runtime: Runtime): string | null {
  const path = `${ROOT}${runtime.bin}`
  let reason: string | undefined
  if (!existsSync(path)) reason = `${runtime.name}: ${path} not found (npm ci installs it)`
  else {
    const version = spawnSync(path, ['--version'], { encoding: 'utf8', timeout: 30_000 })
    if (version.status !== 0) {
      reason = `${runtime.name}: ${path} --version failed: ${version.error ?? version.stderr}`
    }
  }
  if (reason === undefined) return path
  if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
  process.stderr.write(`\n  SKIPPED: ${reason}\n`)
  t.skip(reason)
  return null
}

/**
 * Runs `binary args` in the root with `env` added, waits for `listening on <url>` on its stdout
 * and resolves to the URL; the process is stopped after the test. Rejects with the output when it
 * exits first or prints nothing within a minute.
 */
export function startServer(
  t: TestContext,
  binary: string,
  args: readonly string[],
  env: Record<string, string> = {},
): Promise<string> {
  const child = spawn(binary, args, {
    cwd: ROOT,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()))
  t.after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
      child.kill('SIGTERM')
      await exited
      clearTimeout(timer)
    }
  })
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${args.join(' ')}: no URL within ${START_TIMEOUT_MS} ms\n${output}`))
    }, START_TIMEOUT_MS)
    const collect = (chunk: Buffer): void => {
      output = (output + chunk.toString('utf8')).slice(-8000)
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match) {
        clearTimeout(timer)
        resolve(match[1] as string)
      }
    }
    child.stdout.on('data', collect)
    child.stderr.on('data', (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-8000)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`${args.join(' ')} exited (${code ?? signal}) before listening\n${output}`))
    })
  })
}
