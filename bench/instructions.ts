/**
 * Instructions per request: each server runs under valgrind's callgrind, which counts the
 * instructions its process executes (every thread: the JIT's code, V8's builtins, node, libuv,
 * libsodium, the garbage collector). The count does not depend on what else the machine is doing,
 * so it separates what a server's code costs from the machine's noise, which `npm run bench` can
 * only average out. It is not time: a system call counts as one instruction, a cache miss as none.
 *
 * ```sh
 * node --import tsx bench/instructions.ts                    # the node:http servers of issue 9
 * node --import tsx bench/instructions.ts --only node,sessionware-sealed --routes write
 * ```
 *
 * Per server, in each of `--processes` fresh processes: start it under callgrind with counting off,
 * mint its cookies over HTTP (as `npm run bench` does), send `--warmup` requests per scenario (more
 * in each further process, so that no two processes share a history), leave it idle for
 * `--settle` seconds so that V8's background compilations finish (callgrind runs one thread at a
 * time, and they wait for the main thread to idle), then count `--requests` requests of each
 * scenario, `--repeats` times, with eight keep-alive connections from this process. The count is
 * the main thread's outside garbage collection: how often V8 scavenges depends on how large it has
 * grown the young generation, another state of the process (bare node:http, which keeps nothing,
 * paid 4,000 instructions per request in scavenges, sessionware's servers 300 to 900). The
 * collections' share, and what V8's helper threads ran in the window, are printed beside it.
 *
 * Bare node:http always runs first: each figure is also printed as bare node:http's over it, the
 * ratio a run would read if time followed instructions. The figure is the least of a server's
 * counts; the least count of each process is printed beside it, because processes of one build
 * differ: V8 may compile a hot function of node's own (`process.nextTick`, inlined into its
 * streams) into code that defines the tick object's symbol-keyed properties through its runtime,
 * about 35,000 instructions more per request, and keeps it for the life of the process.
 *
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { prepare } from './client.ts'
import { bounded } from './options.ts'
import { buildServers, ROOT, type RunningServer, startServer, stopServer } from './processes.ts'
import { killRedisServers, type RedisServer, startRedis } from './redis-server.ts'
import {
  needsPostgres,
  needsRedis,
  PAIR,
  SCENARIOS,
  type Scenario,
  type Target,
  targetByName,
} from './targets.ts'

/**
 * The default servers: issue 9's node:http servers with a cookie or the memory store, the sealed
 * ceiling and the fastest competitor. Not the Redis servers: a request's count there depends on how
 * requests overlap with Redis' answers, which callgrind's slowdown changes (sessionware's Redis
 * store read 145 and 217 thousand per `/read` in two counts of one process); `--only` takes them.
 */
const DEFAULT_SERVERS = [
  'sessionware-sealed',
  'node-sodium-cookie',
  'sessionware-memory',
  'fastify',
  'fastify-secure-session',
]

const { values } = parseArgs({
  options: {
    only: { type: 'string', default: DEFAULT_SERVERS.join(',') },
    routes: { type: 'string', default: SCENARIOS.map((s) => s.name).join(',') },
    requests: { type: 'string', default: '5000' },
    warmup: { type: 'string', default: '8000' },
    cookies: { type: 'string', default: '2000' },
    repeats: { type: 'string', default: '2' },
    processes: { type: 'string', default: '2' },
    settle: { type: 'string', default: '5' },
    'reuse-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
  },
})

const requests = bounded('requests', values.requests, Number.NaN, 1000, 100_000)
const warmup = bounded('warmup', values.warmup, Number.NaN, 0, 100_000)
const cookies = bounded('cookies', values.cookies, Number.NaN, 1, 20_000)
const repeats = bounded('repeats', values.repeats, Number.NaN, 1, 5)
const processes = bounded('processes', values.processes, Number.NaN, 1, 5)
const settle = bounded('settle', values.settle, Number.NaN, 0, 60)
/** More warm-up requests per scenario in each further process: a different history for each. */
const WARMUP_STEP = 1000
const scenarios: Scenario[] = values.routes.split(',').map((name) => {
  const scenario = SCENARIOS.find((s) => s.name === name)
  if (scenario === undefined) {
    throw new Error(`--routes: ${name} is not one of ${SCENARIOS.map((s) => s.name).join(', ')}`)
  }
  return scenario
})
const servers: Target[] = [PAIR, ...values.only.split(',').filter((n) => n && n !== PAIR)].map(
  (name) => {
    const target = targetByName(name)
    if (target === undefined)
      throw new Error(`--only: unknown server ${name} (npm run bench -- --list)`)
    if (needsPostgres(target) || target.prefill !== undefined) {
      throw new Error(
        `--only: ${name} needs PostgreSQL or a prefill, which this script does not do`,
      )
    }
    return target
  },
)
for (const tool of ['valgrind', 'callgrind_control']) {
  if (spawnSync(tool, ['--version']).error !== undefined) {
    throw new Error(`${tool} not found: apt-get install -y valgrind`)
  }
}

/** Keep-alive connections the requests are spread over. */
const CONNECTIONS = 8

/** Sends `count` GET requests, cycling through `cookies`; throws on any status but 200. */
async function drive(port: number, path: string, cookieList: string[], count: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS })
  let sent = 0
  const one = (cookie: string): Promise<void> =>
    new Promise((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, agent, headers: { cookie } }, (res) => {
        res.resume()
        res.on('end', () =>
          res.statusCode === 200 ? resolve() : reject(new Error(`${path}: ${res.statusCode}`)),
        )
      })
      req.setTimeout(120_000, () => req.destroy(new Error(`${path}: timeout`)))
      req.on('error', reject)
      req.end()
    })
  try {
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        while (sent < count) await one(cookieList[sent++ % cookieList.length] as string)
      }),
    )
  } finally {
    agent.destroy()
  }
}

/** Runs callgrind_control on the server's valgrind process. */
const control = (server: RunningServer, ...args: string[]): void => {
  execFileSync('callgrind_control', [...args, String(server.child.pid)], { stdio: 'pipe' })
}

/** Instructions of the main thread, of its garbage collections, and of all other threads. */
interface Split {
  main: number
  gc: number
  other: number
}

/** Where V8's collections start, whatever asked for them (allocation, idle time, a task). */
const COLLECT = 'v8::internal::Heap::CollectGarbage('

/** The instructions spent in and under {@link COLLECT} in one dump, by `callgrind_annotate`. */
function collected(file: string): number {
  const annotated = execFileSync(
    'callgrind_annotate',
    ['--inclusive=yes', '--threshold=100', file],
    {
      encoding: 'utf8',
      maxBuffer: 256 * 1024 * 1024,
    },
  )
  const line = annotated.split('\n').find((l) => l.includes(COLLECT))
  return line === undefined ? 0 : Number(line.trim().split(' ')[0]?.replaceAll(',', ''))
}

/**
 * The instructions of every dump in `dir` not read before. callgrind writes one file per thread
 * (`--separate-threads`): `callgrind.<pid>.<dump>-<thread>`, the main thread being `01`.
 */
function newInstructions(dir: string, seen: Set<string>): Split {
  const split: Split = { main: 0, gc: 0, other: 0 }
  for (const file of readdirSync(dir)) {
    if (seen.has(file) || !file.startsWith('callgrind.')) continue
    seen.add(file)
    // `totals:` closes a dump; its `summary:` line can read 0 after `--zero`.
    const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
    if (totals === null) continue
    const count = Number(totals[1])
    if (!file.endsWith('-01')) split.other += count
    else {
      split.main += count
      if (count > 0) split.gc += collected(join(dir, file))
    }
  }
  return split
}

/**
 * A process's counts per scenario name: thousands of main-thread instructions per request outside
 * garbage collection.
 */
type Counts = Map<string, number[]>

/** Measures `target` in one fresh process; `index` counts the processes before it. */
async function measure(
  entry: string,
  target: Target,
  dir: string,
  redis: RedisServer | undefined,
  index: number,
): Promise<Counts> {
  const out = join(dir, `${target.name}-${index}`)
  mkdirSync(out)
  const server = await startServer(entry, target, {
    cpu: undefined,
    env: redis ? { BENCH_REDIS_URL: redis.url } : {},
    readySeconds: 300,
    launcher: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      '--separate-threads=yes',
      `--callgrind-out-file=${join(out, 'callgrind.%p')}`,
    ],
  })
  const counts: Counts = new Map()
  try {
    const prepared = await prepare(server, out, cookies, 600, undefined)
    const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean)
    const one = lines(prepared.oneFile)
    const many = lines(prepared.manyFile)
    const cookiesOf = (s: Scenario) => (s.rotate ? many : one)
    const warm = warmup + index * WARMUP_STEP
    for (const s of scenarios) await drive(server.port, `/${s.route}`, cookiesOf(s), warm)
    await new Promise((resolve) => setTimeout(resolve, settle * 1000))
    const seen = new Set<string>()
    newInstructions(out, seen)
    for (let r = 0; r < repeats; r++) {
      for (const s of scenarios) {
        control(server, '--zero')
        control(server, '-i', 'on')
        await drive(server.port, `/${s.route}`, cookiesOf(s), requests)
        control(server, '-i', 'off')
        control(server, '--dump')
        const split = newInstructions(out, seen)
        const k = (n: number) => n / requests / 1000
        const count = k(split.main - split.gc)
        counts.set(s.name, [...(counts.get(s.name) ?? []), count])
        console.log(
          `  ${target.name} #${index + 1} ${s.name}: ${count.toFixed(1)} k instructions per request, garbage collection ${k(split.gc).toFixed(1)} k, other threads ${k(split.other).toFixed(1)} k`,
        )
      }
    }
  } finally {
    await stopServer(server)
  }
  return counts
}

async function main(): Promise<void> {
  const entry = buildServers(values['reuse-build'])
  const resultsDir = join(ROOT, 'bench', 'results')
  mkdirSync(resultsDir, { recursive: true })
  const dir = mkdtempSync(join(resultsDir, 'instructions-'))
  let redis: RedisServer | undefined
  const results = new Map<string, Counts[]>()
  try {
    if (servers.some(needsRedis)) redis = await startRedis(dir, undefined)
    for (const target of servers) {
      console.log(`${target.name} (${target.label}) under callgrind…`)
      const runs: Counts[] = []
      for (let i = 0; i < processes; i++) runs.push(await measure(entry, target, dir, redis, i))
      results.set(target.name, runs)
    }
  } finally {
    await redis?.stop()
    killRedisServers()
    if (values.keep) console.log(`callgrind's files: ${dir}`)
    else rmSync(dir, { recursive: true, force: true })
  }
  /** The least count of each process, for one scenario. */
  const leasts = (runs: Counts[], s: Scenario): number[] =>
    runs.map((counts) => Math.min(...(counts.get(s.name) ?? [])))
  const bare = results.get(PAIR) as Counts[]
  const cell = (runs: Counts[], s: Scenario): string => {
    const each = leasts(runs, s)
    const k = Math.min(...each)
    const spread = each.length > 1 ? ` (${each.map((x) => x.toFixed(1)).join(' / ')})` : ''
    return `${k.toFixed(1)}${spread} · ${(Math.min(...leasts(bare, s)) / k).toFixed(2)}`
  }
  console.log(
    `\nThousands of main-thread instructions per request outside garbage collection: the least count (each process's least) · bare node:http's least over it. ${processes} process(es) per server, ${repeats} count(s) of ${requests.toLocaleString('en')} requests per scenario each\n`,
  )
  console.log(`| server | ${scenarios.map((s) => s.name).join(' | ')} |`)
  console.log(`| --- | ${scenarios.map(() => '---:').join(' | ')} |`)
  for (const target of servers) {
    const runs = results.get(target.name) as Counts[]
    console.log(`| ${target.label} | ${scenarios.map((s) => cell(runs, s)).join(' | ')} |`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
