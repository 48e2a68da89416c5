/**
 * The load generators: wrk (preferred: C, little CPU) and autocannon (the fallback, in this
 * process). Both send `GET <path>` on a fixed number of keep-alive connections for a fixed time,
 * with the Cookie header cycling through a file of cookies (one line is one cookie), and report
 * the same numbers.
 *
 * @module
 */

import { spawn, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export type ToolName = 'wrk' | 'autocannon'

export interface Tool {
  readonly name: ToolName
  readonly version: string
}

export interface LoadOptions {
  readonly port: number
  readonly path: string
  /** A file of `name=value` cookie pairs, one a line; every request takes the next one. */
  readonly cookieFile: string
  readonly connections: number
  /** Seconds (whole seconds for wrk). */
  readonly duration: number
  /** A CPU to pin the load generator to (wrk only; autocannon shares this process). */
  readonly cpu?: number
}

export interface LoadResult {
  readonly requests: number
  readonly seconds: number
  readonly rps: number
  /** Connect, read, write errors and timeouts. */
  readonly errors: number
  /** Responses whose status was not 2xx or 3xx. */
  readonly non2xx: number
  readonly latencyMs: { readonly p50: number; readonly p99: number; readonly max: number }
}

const WRK_SCRIPT = fileURLToPath(new URL('./rotate.lua', import.meta.url))

/** The load generator to use: wrk when installed (unless `preferred` says otherwise). */
export function pickTool(preferred: string | undefined): Tool {
  if (preferred !== undefined && preferred !== 'wrk' && preferred !== 'autocannon') {
    throw new Error(`--tool must be wrk or autocannon, got ${preferred}`)
  }
  if (preferred !== 'autocannon') {
    const probe = spawnSync('wrk', ['-v'], { encoding: 'utf8', timeout: 5000 })
    const text = `${probe.stdout ?? ''}${probe.stderr ?? ''}`
    if (probe.error === undefined && /^wrk /m.test(text)) {
      const version = /^wrk (\S+)/m.exec(text)?.[1] ?? 'unknown'
      return { name: 'wrk', version }
    }
    if (preferred === 'wrk') throw new Error('--tool wrk: wrk is not installed')
  }
  const { version } = JSON.parse(
    readFileSync(new URL('../node_modules/autocannon/package.json', import.meta.url), 'utf8'),
  ) as { version: string }
  return { name: 'autocannon', version }
}

/** Runs one load and returns its numbers. */
export function runLoad(tool: Tool, options: LoadOptions): Promise<LoadResult> {
  return tool.name === 'wrk' ? runWrk(options) : runAutocannon(options)
}

interface WrkReport {
  requests: number
  durationUs: number
  errors: { connect: number; read: number; write: number; status: number; timeout: number }
  latencyUs: { p50: number; p99: number; max: number }
}

function runWrk(options: LoadOptions): Promise<LoadResult> {
  const seconds = Math.max(1, Math.round(options.duration))
  const args = [
    '-t1',
    `-c${options.connections}`,
    `-d${seconds}s`,
    '--timeout',
    '5s',
    '-s',
    WRK_SCRIPT,
    `http://127.0.0.1:${options.port}`,
    '--',
    options.path,
    options.cookieFile,
  ]
  const command = options.cpu === undefined ? 'wrk' : 'taskset'
  const argv = options.cpu === undefined ? args : ['-c', String(options.cpu), 'wrk', ...args]
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
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000)
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
      const secondsRun = report.durationUs / 1e6
      const e = report.errors
      resolve({
        requests: report.requests,
        seconds: secondsRun,
        rps: report.requests / secondsRun,
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

async function runAutocannon(options: LoadOptions): Promise<LoadResult> {
  const { default: autocannon } = await import('autocannon')
  const cookies = readFileSync(options.cookieFile, 'utf8').split('\n').filter(Boolean)
  let index = 0
  const result = await autocannon({
    url: `http://127.0.0.1:${options.port}`,
    connections: options.connections,
    duration: options.duration,
    timeout: 5,
    requests: [
      {
        method: 'GET',
        path: options.path,
        setupRequest: (request) => {
          if (cookies.length === 0) return request
          const cookie = cookies[index] as string
          index = index + 1 === cookies.length ? 0 : index + 1
          return { ...request, headers: { ...request.headers, cookie } }
        },
      },
    ],
  })
  const total = result.requests.total
  return {
    requests: total,
    seconds: result.duration,
    rps: total / result.duration,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
    latencyMs: { p50: result.latency.p50, p99: result.latency.p99, max: result.latency.max },
  }
}
