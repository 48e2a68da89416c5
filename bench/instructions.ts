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
 * Per server: start it under callgrind with counting off, mint its cookies over HTTP (as
 * `npm run bench` does), send `--warmup` requests per scenario, then count `--requests` requests of
 * each scenario, `--repeats` times, with eight keep-alive connections from this process. Bare
 * node:http always runs first: each count is also printed as bare node:http's count over it, the
 * ratio a run would read if time followed instructions. The figure is the least of the counts: a
 * count above it had a compilation (V8 optimizing or re-optimizing a function, tens of millions
 * of instructions) or a major collection fall into its window; the range is printed beside it.
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
    repeats: { type: 'string', default: '3' },
    'reuse-build': { type: 'boolean', default: false },
  },
})

const requests = bounded('requests', values.requests, Number.NaN, 1000, 100_000)
const warmup = bounded('warmup', values.warmup, Number.NaN, 0, 100_000)
const cookies = bounded('cookies', values.cookies, Number.NaN, 1, 20_000)
const repeats = bounded('repeats', values.repeats, Number.NaN, 1, 5)
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

/** The instructions of every dump in `dir` not read before. */
function newInstructions(dir: string, seen: Set<string>): number {
  let total = 0
  for (const file of readdirSync(dir)) {
    if (seen.has(file) || !file.startsWith('callgrind.')) continue
    seen.add(file)
    // `totals:` closes a dump; its `summary:` line can read 0 after `--zero`.
    const totals = /^totals: (\d+)/m.exec(readFileSync(join(dir, file), 'utf8'))
    if (totals) total += Number(totals[1])
  }
  return total
}

/** Counts per scenario name, in thousands of instructions per request, one per repeat. */
type Counts = Map<string, number[]>

async function measure(entry: string, target: Target, dir: string, redis: RedisServer | undefined) {
  const out = join(dir, target.name)
  mkdirSync(out)
  const server = await startServer(entry, target, {
    cpu: undefined,
    env: redis ? { BENCH_REDIS_URL: redis.url } : {},
    readySeconds: 300,
    launcher: [
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
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
    for (const s of scenarios) await drive(server.port, `/${s.route}`, cookiesOf(s), warmup)
    const seen = new Set<string>()
    newInstructions(out, seen)
    for (let r = 0; r < repeats; r++) {
      for (const s of scenarios) {
        control(server, '--zero')
        control(server, '-i', 'on')
        await drive(server.port, `/${s.route}`, cookiesOf(s), requests)
        control(server, '-i', 'off')
        control(server, '--dump')
        const k = newInstructions(out, seen) / requests / 1000
        counts.set(s.name, [...(counts.get(s.name) ?? []), k])
        console.log(`  ${target.name} ${s.name}: ${k.toFixed(1)} k instructions per request`)
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
  const results = new Map<string, Counts>()
  try {
    if (servers.some(needsRedis)) redis = await startRedis(dir, undefined)
    for (const target of servers) {
      console.log(`${target.name} (${target.label}) under callgrind…`)
      results.set(target.name, await measure(entry, target, dir, redis))
    }
  } finally {
    await redis?.stop()
    killRedisServers()
    rmSync(dir, { recursive: true, force: true })
  }
  const bare = results.get(PAIR) as Counts
  const cell = (counts: Counts, s: Scenario): string => {
    const ks = counts.get(s.name) ?? []
    const k = Math.min(...ks)
    const range =
      ks.length > 1 ? ` (${Math.min(...ks).toFixed(1)}–${Math.max(...ks).toFixed(1)})` : ''
    return `${k.toFixed(1)}${range} · ${(Math.min(...(bare.get(s.name) ?? [])) / k).toFixed(2)}`
  }
  console.log(
    `\nThousands of instructions per request, the least (min–max) of ${repeats} counts of ${requests.toLocaleString('en')} requests · bare node:http's least count over it\n`,
  )
  console.log(`| server | ${scenarios.map((s) => s.name).join(' | ')} |`)
  console.log(`| --- | ${scenarios.map(() => '---:').join(' | ')} |`)
  for (const target of servers) {
    const counts = results.get(target.name) as Counts
    console.log(`| ${target.label} | ${scenarios.map((s) => cell(counts, s)).join(' | ')} |`)
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exitCode = 1
})
