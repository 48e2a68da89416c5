/**
 * The Redis scenario of the HTTP benchmark: the benchmark's own redis-server (bench/redis-server.ts,
 * re-exported here for bench/run.ts) and the **busy session** verdict.
 *
 * Busy session: 32 keep-alive connections send `GET /write` with ONE cookie, so every request
 * increments the counter `n` of one shared session: sessionware's Redis store against
 * express-session + connect-redis, in the same round on the same redis-server (bench/run.ts's
 * `write` scenario on the Redis targets). {@link busySessionReport} turns that scenario's figures
 * into req/s, p99 latency and errors per server, and checks the goals: no error responses, a p99
 * below 50 ms, and at least the req/s of express-session + connect-redis.
 *
 * On its own, `node --import tsx bench/redis.ts [--duration S] [other bench/run.ts options]` runs
 * just that scenario (`bench/run.ts --only redis --routes write --count-requests 0`, its output
 * shown as it runs) and prints the verdict from the results JSON.
 *
 * @module
 */

import { spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

export {
  type CommandCalls,
  commandDelta,
  hasRedisServer,
  killRedisServers,
  REDIS_SERVER,
  type RedisServer,
  startRedis,
} from './redis-server.ts'

/** The scenario (bench/targets.ts) that loads one session from every connection at once. */
export const BUSY_SCENARIO = 'write'
/** sessionware's Redis target and the one it must keep up with. */
export const BUSY_TARGET = 'sessionware-redis'
export const BUSY_BASELINE = 'express-session-redis'
/** The highest acceptable p99 latency of sessionware's Redis store in the busy session. */
export const BUSY_P99_GOAL_MS = 50

/** The part of bench/run.ts's per-server, per-scenario summary the verdict reads. */
export interface BusySummary {
  readonly target: string
  readonly scenario: string
  /** Requests per wall second. */
  readonly rps: number
  readonly latencyMs: { readonly p50: number; readonly p99: number }
  /** Connect, read, write errors and timeouts. */
  readonly errors: number
  /** Responses whose status was not 2xx or 3xx. */
  readonly non2xx: number
}

/** What the verdict found: one line per goal. */
export interface BusyVerdict {
  readonly noErrors: boolean
  readonly p99: boolean
  readonly throughput: boolean
  /** sessionware's req/s over express-session + connect-redis's. */
  readonly ratio: number
}

const fmt = (n: number): string => Math.round(n).toLocaleString('en')

/** The verdict, or undefined when either server's busy-session figures are missing. */
export function busySessionVerdict(summaries: readonly BusySummary[]): BusyVerdict | undefined {
  const mine = summaries.find((s) => s.target === BUSY_TARGET && s.scenario === BUSY_SCENARIO)
  const theirs = summaries.find((s) => s.target === BUSY_BASELINE && s.scenario === BUSY_SCENARIO)
  if (mine === undefined || theirs === undefined) return undefined
  return {
    noErrors: mine.errors + mine.non2xx === 0,
    p99: mine.latencyMs.p99 < BUSY_P99_GOAL_MS,
    throughput: mine.rps >= theirs.rps,
    ratio: theirs.rps > 0 ? mine.rps / theirs.rps : Number.POSITIVE_INFINITY,
  }
}

/**
 * The busy-session section of the report (Markdown): req/s, p50 and p99 latency and errors of both
 * Redis targets, then the goals with pass or FAIL. Empty when the scenario did not run on both.
 *
 * @param summaries - bench/run.ts's summaries (or the `results` of its JSON).
 * @param connections - The connections of the run (32 by default).
 * @param labels - Display names by target name.
 */
export function busySessionReport(
  summaries: readonly BusySummary[],
  connections: number,
  labels: Readonly<Record<string, string>> = {},
): string[] {
  const verdict = busySessionVerdict(summaries)
  if (verdict === undefined) return []
  const rows = [BUSY_TARGET, BUSY_BASELINE].map((name) => {
    const s = summaries.find(
      (x) => x.target === name && x.scenario === BUSY_SCENARIO,
    ) as BusySummary
    return [
      labels[name] ?? name,
      fmt(s.rps),
      s.latencyMs.p50.toFixed(1),
      s.latencyMs.p99.toFixed(1),
      String(s.errors + s.non2xx),
    ]
  })
  const head = ['server', 'req/s', 'p50 ms', 'p99 ms', 'errors + non-2xx']
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)))
  const line = (cells: string[]): string =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i] as number) : c.padStart(widths[i] as number))).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (i === 0 ? `:${'-'.repeat(w + 1)}` : `${'-'.repeat(w + 1)}:`)).join('|')}|`
  const word = (pass: boolean): string => (pass ? 'pass' : 'FAIL')
  const mine = rows[0] as string[]
  return [
    '',
    `### Busy session: ${connections} connections incrementing one counter in ONE session (/write, 1 cookie)`,
    '',
    line(head),
    rule,
    ...rows.map(line),
    '',
    `Goals for sessionware's Redis store: no errors: ${word(verdict.noErrors)} (${mine[4]}); ` +
      `p99 < ${BUSY_P99_GOAL_MS} ms: ${word(verdict.p99)} (${mine[3]} ms); ` +
      `req/s ≥ express-session + connect-redis: ${word(verdict.throughput)} (${verdict.ratio.toFixed(2)}×).`,
    'Both read n and write n + 1, so concurrent increments of the one key are last-write-wins on ' +
      'both sides. express-session writes the whole session back (GET + SET), so a concurrent ' +
      'change to any other key is lost too; sessionware patches only the changed field inside ' +
      'Redis (HGETALL + one EVALSHA), so changes to different keys never overwrite each other.',
  ]
}

/** Runs bench/run.ts on the busy-session scenario alone and prints the verdict. */
async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-busy-'))
  const out = join(dir, 'busy.json')
  const run = fileURLToPath(new URL('./run.ts', import.meta.url))
  const args = [
    '--import',
    'tsx',
    run,
    '--only',
    'redis',
    '--routes',
    BUSY_SCENARIO,
    '--count-requests',
    '0',
    ...process.argv.slice(2),
    '--out',
    out,
  ]
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      const child = spawn(process.execPath, args, { stdio: 'inherit' })
      child.once('error', reject)
      child.once('exit', resolve)
    })
    if (code !== 0) throw new Error(`bench/run.ts exited with ${code}`)
    const results = JSON.parse(readFileSync(out, 'utf8')) as {
      connections: number
      targets: { name: string; label: string }[]
      results: BusySummary[]
    }
    const labels = Object.fromEntries(results.targets.map((t) => [t.name, t.label]))
    const report = busySessionReport(results.results, results.connections, labels)
    if (report.length === 0)
      throw new Error('the busy-session scenario did not run on both targets')
    console.log(report.join('\n'))
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    console.error(error)
    process.exit(1)
  })
}
