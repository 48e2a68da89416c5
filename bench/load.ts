/**
 * The load generator: wrk (C, one thread, little CPU), pinned to its own core with taskset. It sends
 * `GET <path>` on a fixed number of keep-alive connections for a whole number of seconds, the
 * Cookie header cycling through a file of cookies (bench/rotate.lua), and reports requests,
 * errors and latency as one JSON line.
 *
 * wrk comes from the distribution: `apt-get install -y wrk` (Debian, Ubuntu).
 *
 * @module
 */

import { spawn, spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** What to load. */
export interface LoadOptions {
  readonly port: number
  /** One path, or several separated by commas (the warm-up). */
  readonly path: string
  /** A file of Cookie header values, one a line; every request takes the next one. */
  readonly cookieFile: string
  readonly connections: number
  /** Whole seconds. */
  readonly seconds: number
  /** A CPU to pin wrk to. */
  readonly cpu: number | undefined
}

/** What one load measured. */
export interface LoadResult {
  readonly requests: number
  /** Seconds wrk measured for. */
  readonly seconds: number
  readonly rps: number
  /** Connect, read, write errors and timeouts. */
  readonly errors: number
  /** Responses whose status was not 2xx or 3xx. */
  readonly non2xx: number
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
}

const SCRIPT = fileURLToPath(new URL('./rotate.lua', import.meta.url))

/** wrk's version, or throws with how to install it. */
export function wrkVersion(): string {
  const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8', timeout: 5000 })
  const text = `${probe.stdout ?? ''}${probe.stderr ?? ''}`
  const version = /^wrk (\S+)/m.exec(text)?.[1]
  if (probe.error !== undefined || version === undefined) {
    throw new Error('wrk is not installed: apt-get install -y wrk (Debian, Ubuntu)')
  }
  return version
}

interface WrkReport {
  requests: number
  durationUs: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latencyUs: { p50: number; p99: number; max: number }
}

/** Runs wrk once and returns its numbers. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(options.seconds))
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    SCRIPT,
    `http://127.0.0.1:${options.port}`,
    '--',
    options.path,
    options.cookieFile,
  ]
  const pinned = options.cpu !== undefined
  const command = pinned ? 'taskset' : 'wrk'
  const argv = pinned ? ['-c', String(options.cpu), 'wrk', ...args] : args
  return new Promise((resolve, reject) => {
    const child = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      err += chunk
    })
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      const line = /^RESULT (.*)$/m.exec(out)?.[1]
      if (code !== 0 || line === undefined) {
        reject(new Error(`wrk failed (exit ${code}): ${err || out}`))
        return
      }
      const report = JSON.parse(line) as WrkReport
      const measured = report.durationUs / 1e6
      const e = report.errors
      resolve({
        requests: report.requests,
        seconds: measured,
        rps: report.requests / measured,
        errors: e.connect + e.read + e.write + e.timeout,
        non2xx: e.status,
        latencyMs: {
          p50: report.latencyUs.p50 / 1000,
          p99: report.latencyUs.p99 / 1000,
          max: report.latencyUs.max / 1000,
        },
      })
    })
  })
}
