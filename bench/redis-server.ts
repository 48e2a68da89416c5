/**
 * The benchmark's own redis-server, for the Redis targets (bench/targets.ts): started by the
 * benchmark (bench/phase.ts) on a free port of 127.0.0.1 with persistence off,
 * optionally pinned to a CPU, and stopped at the end of the run (also on errors and signals). Its
 * `INFO commandstats` counts the commands each route issues (a MONITOR connection tells which of
 * them ran inside Lua scripts), its `INFO cpu` the CPU time it used during a slice.
 *
 * @module
 */

import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { connect, createServer } from 'node:net'

/** The redis-server binary (`BENCH_REDIS_SERVER` overrides it). */
export const REDIS_SERVER = process.env.BENCH_REDIS_SERVER || '/usr/bin/redis-server'

export function hasRedisServer(): boolean {
  return existsSync(REDIS_SERVER)
}

/** Every redis-server started here and not yet exited. */
const live = new Set<ChildProcess>()

/**
 * Kills (SIGKILL) every redis-server started here that is still running: for exit and signal
 * handlers, which cannot wait for a clean stop. It keeps nothing worth saving.
 */
export function killRedisServers(): void {
  for (const child of live) child.kill('SIGKILL')
  live.clear()
}

/** The few node-redis client methods used here. */
interface InfoClient {
  info(section: string): Promise<string>
  close(): Promise<unknown>
}

export interface RedisServer {
  readonly url: string
  readonly port: number
  readonly version: string
  /** The CPU it is pinned to, or undefined when not pinned. */
  readonly cpu: number | undefined
  /** Calls per command so far (lowercase names, `INFO commandstats`). */
  commandCalls(): Promise<Map<string, number>>
  /**
   * The commands Redis ran while `work` ran, per command: all of them (`INFO commandstats` before
   * and after, its own `info` left out) and those called by Lua scripts (seen on a MONITOR
   * connection, open only meanwhile: MONITOR slows Redis down). Nothing else may use Redis then.
   */
  countCommands(work: () => Promise<void>): Promise<CommandCalls>
  /** CPU seconds (user + system, all threads) redis-server has used so far (`INFO cpu`). */
  cpuSeconds(): Promise<number>
  /** Bytes of memory Redis uses for its data (`INFO memory` `used_memory`). */
  memoryBytes(): Promise<number>
  /** Stops it (SIGTERM, then SIGKILL after 5 s). */
  stop(): Promise<void>
}

/** Calls per command name (lowercase). */
export interface CommandCalls {
  all: Map<string, number>
  /** The part of `all` that Lua scripts (EVAL, EVALSHA) called. */
  inScripts: Map<string, number>
}

/**
 * A MONITOR connection: every command Redis runs arrives as a line such as
 * `+1700000000.123456 [0 127.0.0.1:5000] "hgetall" "key"`, or `[0 lua]` when a script called it.
 */
async function openMonitor(port: number) {
  const socket = connect({ host: '127.0.0.1', port })
  const lines: string[] = []
  let rest = ''
  let changed: (() => void) | undefined
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    const parts = (rest + chunk).split('\r\n')
    rest = parts.pop() ?? ''
    lines.push(...parts)
    changed?.()
  })
  socket.on('error', () => {})
  /** Waits until `test` holds for the lines received so far, at most `ms`. */
  const until = (test: () => boolean, ms: number): Promise<boolean> =>
    new Promise((resolve) => {
      const timer = setTimeout(() => done(false), ms)
      const done = (ok: boolean): void => {
        clearTimeout(timer)
        changed = undefined
        resolve(ok)
      }
      changed = () => {
        if (test()) done(true)
      }
      changed()
    })
  socket.write('MONITOR\r\n')
  if (!(await until(() => lines.includes('+OK'), 5000))) {
    socket.destroy()
    throw new Error('redis-server: MONITOR did not answer')
  }
  return { lines, until, close: () => socket.destroy() }
}

/** The `[db source] "command"` of a MONITOR line. */
const MONITOR_LINE = /^\+\S+ \[\d+ ([^\]]+)\] "([^"]*)"/

/** A free TCP port of 127.0.0.1. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** `field:value` lines of an INFO reply. */
function infoFields(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1))
  }
  return fields
}

/**
 * Starts redis-server (`--port <free> --bind 127.0.0.1 --save '' --appendonly no`, working
 * directory `dir`), pinned to `cpu` with taskset when given, and waits until it answers.
 */
export async function startRedis(dir: string, cpu: number | undefined): Promise<RedisServer> {
  const port = await freePort()
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
  ]
  const command = cpu === undefined ? REDIS_SERVER : 'taskset'
  const argv = cpu === undefined ? args : ['-c', String(cpu), REDIS_SERVER, ...args]
  const child: ChildProcess = spawn(command, argv, { stdio: ['ignore', 'pipe', 'pipe'] })
  live.add(child)
  let output = ''
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk
  })
  let exited = false
  child.once('exit', () => {
    exited = true
    live.delete(child)
  })
  const spawnError = new Promise<never>((_, reject) => child.once('error', reject))
  spawnError.catch(() => {})
  const kill = (): void => {
    if (!exited) child.kill('SIGKILL')
  }
  const url = `redis://127.0.0.1:${port}`
  const { createClient } = await import('redis')
  let client: InfoClient | undefined
  const deadline = Date.now() + 10_000
  while (client === undefined) {
    if (exited || Date.now() > deadline) {
      kill()
      throw new Error(`redis-server did not start on port ${port}:\n${output.trim()}`)
    }
    const attempt = createClient({ url, socket: { reconnectStrategy: false } })
    attempt.on('error', () => {})
    try {
      await Promise.race([attempt.connect(), spawnError])
      client = attempt as unknown as InfoClient
    } catch {
      attempt.destroy()
      await sleep(50)
    }
  }
  const info = client
  const version = infoFields(await info.info('server')).get('redis_version') ?? 'unknown'
  const commandCalls = async (): Promise<Map<string, number>> => {
    const calls = new Map<string, number>()
    for (const [field, value] of infoFields(await info.info('commandstats'))) {
      // cmdstat_hgetall:calls=200,usec=…,usec_per_call=…,rejected_calls=0,failed_calls=0
      const n = /(?:^|,)calls=(\d+)/.exec(value)?.[1]
      if (field.startsWith('cmdstat_') && n !== undefined) {
        calls.set(field.slice('cmdstat_'.length).toLowerCase(), Number(n))
      }
    }
    return calls
  }
  return {
    url,
    port,
    version,
    cpu,
    commandCalls,
    async countCommands(work) {
      const monitor = await openMonitor(port)
      try {
        const before = await commandCalls()
        await work()
        const after = await commandCalls()
        // The two snapshots are the markers: count the script calls between them.
        const snapshots = (): number[] =>
          monitor.lines.flatMap((line, i) => (/"info" "commandstats"$/i.test(line) ? [i] : []))
        if (!(await monitor.until(() => snapshots().length >= 2, 5000))) {
          throw new Error('redis-server: MONITOR missed the INFO snapshots')
        }
        const [from, to] = snapshots() as [number, number]
        const inScripts = new Map<string, number>()
        for (const line of monitor.lines.slice(from + 1, to)) {
          const match = MONITOR_LINE.exec(line)
          if (match?.[1] !== 'lua') continue
          const name = (match[2] as string).toLowerCase()
          inScripts.set(name, (inScripts.get(name) ?? 0) + 1)
        }
        return { all: new Map(Object.entries(commandDelta(before, after))), inScripts }
      } finally {
        monitor.close()
      }
    },
    async cpuSeconds() {
      const fields = infoFields(await info.info('cpu'))
      return Number(fields.get('used_cpu_user') ?? 0) + Number(fields.get('used_cpu_sys') ?? 0)
    },
    async memoryBytes() {
      return Number(infoFields(await info.info('memory')).get('used_memory') ?? 0)
    },
    async stop() {
      await info.close().catch(() => {})
      if (exited) return
      await new Promise<void>((resolve) => {
        const timer = setTimeout(kill, 5000)
        child.once('exit', () => {
          clearTimeout(timer)
          resolve()
        })
        child.kill('SIGTERM')
      })
    },
  }
}

/**
 * The calls between two `commandCalls()` snapshots: every command whose count changed, without
 * `info` (the snapshots' own).
 */
export function commandDelta(
  before: Map<string, number>,
  after: Map<string, number>,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, calls] of after) {
    const delta = calls - (before.get(name) ?? 0)
    if (name !== 'info' && delta > 0) out[name] = delta
  }
  return out
}
