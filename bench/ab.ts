/**
 * A/B of one benchmark server in two variants: two commits, or two settings (environment
 * variables of the server process), each in its own process, loaded in alternation (A B, B A, …)
 * on the same route with the same cookies. It prints the server's CPU time per request for each
 * variant (median and min–max over the rounds) and the median of the paired ratios B ÷ A, the
 * number to read: CPU time per request is less disturbed by the rest of a shared machine than
 * requests per second, and the alternation pairs each B slice with an A slice run right before
 * or after it.
 *
 * ```sh
 * node --import tsx bench/ab.ts --target sessionware-sealed --route read --cookies 10000 \
 *   --a @HEAD~1 --b @HEAD                               # two commits
 * node --import tsx bench/ab.ts --target sessionware-sealed --route read --cookies 10000 \
 *   --a BENCH_COOKIE_CACHE=1000 --b BENCH_COOKIE_CACHE=0   # two settings of the working tree
 * ```
 *
 * A variant is a comma-separated list of `@<git ref>` (that commit, built in a git worktree under
 * bench/results/ab; without one, the working tree), `NAME=value` environment variables and at most
 * one server's name (instead of `--target`: `--a node --b sessionware-sealed` compares a server
 * with bare node:http by CPU time per request, which varies far less than req/s). Each
 * variant mints its own cookies (`--cookies` rotating ones; 0: the seed cookie alone). The server
 * runs on CPU 0, wrk and redis-server on CPU 1, as in `npm run bench`.
 *
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { join, relative } from 'node:path'
import { parseArgs } from 'node:util'
import { prepare } from './client.ts'
import { runLoad, wrkVersion } from './load.ts'
import { bounded } from './options.ts'
import {
  buildServers,
  cpuSeconds,
  ROOT,
  type RunningServer,
  startServer,
  stopServer,
} from './processes.ts'
import { killRedisServers, type RedisServer, startRedis } from './redis-server.ts'
import { needsPostgres, needsRedis, type Route, type Target, targetByName } from './targets.ts'

const { values } = parseArgs({
  options: {
    target: { type: 'string', default: 'sessionware-sealed' },
    route: { type: 'string', default: 'read' },
    cookies: { type: 'string', default: '0' },
    a: { type: 'string', default: '' },
    b: { type: 'string', default: '' },
    rounds: { type: 'string', default: '7' },
    seconds: { type: 'string', default: '2' },
    connections: { type: 'string', default: '32' },
    processes: { type: 'string', default: '3' },
  },
})

const target = targetByName(values.target)
if (target === undefined)
  throw new Error(`unknown target ${values.target} (npm run bench -- --list)`)
if (needsPostgres(target)) throw new Error('bench/ab.ts does not start PostgreSQL')
const route = values.route as Route
if (!['none', 'read', 'write'].includes(route)) throw new Error('--route: none, read or write')
const cookies = bounded('cookies', values.cookies, Number.NaN, 0, 20_000)
const rounds = bounded('rounds', values.rounds, Number.NaN, 1, 30)
const seconds = bounded('seconds', values.seconds, Number.NaN, 1, 10)
const connections = bounded('connections', values.connections, Number.NaN, 1, 256)
const processes = bounded('processes', values.processes, Number.NaN, 1, rounds)
wrkVersion()

/** One variant: the server build it runs, the server it starts and the environment it gets. */
interface Variant {
  readonly label: string
  readonly entry: string
  readonly target: Target
  readonly env: Record<string, string>
}

/** Compiles the benchmark servers of commit `ref` (a worktree in bench/results/ab). */
function buildRef(ref: string): string {
  const sha = execFileSync('git', ['rev-parse', '--short', ref], { cwd: ROOT, encoding: 'utf8' })
  const base = join(ROOT, 'bench', 'results', 'ab')
  const tree = join(base, `tree-${sha.trim()}`)
  const out = join(base, `build-${sha.trim()}`)
  const entry = join(out, 'bench', 'server.js')
  if (existsSync(entry)) return entry
  mkdirSync(base, { recursive: true })
  if (!existsSync(tree)) {
    execFileSync('git', ['worktree', 'add', '--detach', tree, sha.trim()], { cwd: ROOT })
  }
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const run = spawnSync(
    process.execPath,
    [
      tsc,
      join(tree, 'bench', 'server.ts'),
      ...['--outDir', out, '--rootDir', tree, '--module', 'nodenext'],
      ...['--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node'],
      ...['--rewriteRelativeImportExtensions', '--allowImportingTsExtensions'],
      ...['--verbatimModuleSyntax', '--noCheck', '--skipLibCheck'],
    ],
    { cwd: ROOT, encoding: 'utf8', timeout: 180_000 },
  )
  if (run.status !== 0) throw new Error(`compiling ${ref} failed:\n${run.stdout}${run.stderr}`)
  return entry
}

let workingTree: string | undefined
function variant(spec: string, name: string): Variant {
  let entry: string | undefined
  let server = target as Target
  const env: Record<string, string> = {}
  for (const part of spec.split(',').filter(Boolean)) {
    if (part.startsWith('@')) entry = buildRef(part.slice(1))
    else if (part.includes('=')) {
      const eq = part.indexOf('=')
      if (eq === 0) throw new Error(`--${name}: ${part} has no variable name`)
      env[part.slice(0, eq)] = part.slice(eq + 1)
    } else {
      const other = targetByName(part)
      if (other === undefined || needsPostgres(other)) {
        throw new Error(`--${name}: ${part} is neither @<ref>, NAME=value nor a server's name`)
      }
      server = other
    }
  }
  if (entry === undefined) {
    workingTree ??= buildServers(false)
    entry = workingTree
  }
  return { label: spec || 'working tree', entry, target: server, env }
}

const median = (xs: number[]): number => {
  const sorted = [...xs].sort((x, y) => x - y)
  const mid = sorted.length >> 1
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}
const spread = (xs: number[], digits: number): string =>
  `${median(xs).toFixed(digits)} (${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)})`

async function main(): Promise<void> {
  const variants = [variant(values.a, 'a'), variant(values.b, 'b')]
  const dir = mkdtempSync(join(ROOT, 'bench', 'results', 'ab-run-'))
  let redis: RedisServer | undefined
  let servers: RunningServer[] = []
  const micros: number[][] = [[], []]
  const rps: number[][] = [[], []]
  try {
    if (variants.some((v) => needsRedis(v.target))) redis = await startRedis(dir, 1)
    // Fresh processes for each block of rounds: one process of a variant can run a few percent
    // faster or slower than another of the same code ("process luck"), so no variant keeps one.
    let round = 0
    for (let block = 0; block < processes; block++) {
      const files: string[] = []
      servers = []
      for (const [i, v] of variants.entries()) {
        const env = { ...v.env, ...(redis ? { BENCH_REDIS_URL: redis.url } : {}) }
        const server = await startServer(v.entry, v.target, { cpu: 0, env, readySeconds: 180 })
        servers.push(server)
        const sub = join(dir, `${block}-${i}`)
        mkdirSync(sub)
        const p = await prepare(server, sub, cookies, 90, 1)
        files.push(cookies > 0 ? p.manyFile : p.oneFile)
        // Warm-up, unmeasured.
        await runLoad({
          port: server.port,
          path: `/${route}`,
          cookieFile: p.oneFile,
          connections,
          seconds: 1,
          cpu: 1,
        })
      }
      const end = Math.round(((block + 1) * rounds) / processes)
      for (; round < end; round++) {
        const order = round % 2 === 0 ? [0, 1] : [1, 0]
        for (const i of order) {
          const server = servers[i] as RunningServer
          const before = await cpuSeconds(server)
          const load = await runLoad({
            port: server.port,
            path: `/${route}`,
            cookieFile: files[i] as string,
            connections,
            seconds,
            cpu: 1,
          })
          const cpu = (await cpuSeconds(server)) - before
          if (load.errors > 0 || load.non2xx > 0) throw new Error(`${variants[i]?.label}: errors`)
          ;(micros[i] as number[]).push((cpu * 1e6) / load.requests)
          ;(rps[i] as number[]).push(load.rps)
        }
      }
      await Promise.allSettled(servers.map((server) => stopServer(server)))
    }
    const [a, b] = micros as [number[], number[]]
    console.log(
      `${[...new Set(variants.map((v) => v.target.name))].join(' against ')} /${route}, ${cookies} rotating cookies, ${rounds} rounds of ${seconds} s, ${processes} process pairs`,
    )
    for (const [i, v] of variants.entries()) {
      console.log(
        `  ${i === 0 ? 'A' : 'B'} ${v.label} (${relative(ROOT, v.entry)}): ` +
          `${spread(micros[i] as number[], 1)} µs of CPU per request, ${spread(rps[i] as number[], 0)} req/s`,
      )
    }
    console.log(
      `  B ÷ A, CPU per request, median of the paired rounds: ${spread(
        b.map((x, i) => x / (a[i] as number)),
        3,
      )}`,
    )
  } finally {
    await Promise.allSettled(servers.map((server) => stopServer(server)))
    await redis?.stop()
    killRedisServers()
    rmSync(dir, { recursive: true, force: true })
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
