/**
 * The HTTP benchmark: sessionware against bare node:http and against the real competitor packages,
 * side by side in one run. `npm run bench [-- options]`; bench/README.md explains the scenarios
 * and how to read the ratios.
 *
 * Every server runs in its own child process (bench/server.ts, compiled with tsc together with the
 * sessionware sources into bench/results/build, as `npm run build` ships them) on a free port of
 * 127.0.0.1; the load generator (wrk, else autocannon) runs outside it. With `taskset` and 2+
 * cores the servers are pinned to CPU 0 and wrk to CPU 1, so the two never compete for one core.
 * Each scenario runs on every server before the next one starts, in slices that rotate through
 * the servers, so a baseline and the servers compared with it are measured seconds apart. Each
 * slice records req/s and the server's own CPU time (req/CPU-s), which other processes on the
 * machine disturb far less.
 *
 * The Redis targets (sessionware's Redis store, express-session with connect-redis) use the
 * benchmark's own redis-server (bench/redis.ts: /usr/bin/redis-server on a free port, no
 * persistence, pinned to the load generator's CPU), stopped at the end; without redis-server they
 * are skipped. Outside the timed load, 200 sequential requests per route count the Redis commands
 * each route issues (INFO commandstats before and after).
 *
 * Options (each also as an environment variable, e.g. BENCH_DURATION=5):
 *   --duration S     measured seconds per scenario and server (default 3)
 *   --slices N       split those seconds into N slices, interleaved across the servers
 *                    (default 3, so 3 slices of 1 s)
 *   --stat NAME      best (default): each server's best slice counts, the one least disturbed by
 *                    other processes; median: the median slice
 *   --warmup S       warm-up seconds per scenario and server, before its first slice (default 1)
 *   --retry-budget S seconds of extra slices in all (default 25): a server that never got 0.9 of
 *                    a core in its slices (other processes took it) is measured again, up to 3
 *                    more slices, until one slice is clean
 *   --connections N  keep-alive connections (default 32)
 *   --cookies N      distinct cookies for the rotating /read scenario (default 10000; 0 skips it)
 *   --only LIST      servers, comma-separated, by name or prefix: sessionware, sessionware-sealed,
 *                    sessionware-memory, sessionware-redis, iron, express, express-session-redis,
 *                    fastify, or redis (both Redis targets); the baselines needed for the ratios
 *                    are added
 *   --routes LIST    scenarios: none, read, read-many, write (`read` selects both /read scenarios)
 *   --tool NAME      wrk or autocannon (default: wrk when installed)
 *   --no-pin         do not pin servers and wrk to separate CPUs
 *   --no-redis-pin   do not pin redis-server to the load generator's CPU (it is by default)
 *   --count-requests N  sequential requests per route and Redis target for counting Redis
 *                    commands (default 200; 0 skips the count)
 *   --mint-timeout S upper bound on minting the rotating cookies, per server (default 30)
 *   --profile NAME   run that server under `node --cpu-prof` and print where its time went
 *   --out FILE       the JSON results (default bench/results/latest.json)
 *   --reuse-build    keep the servers compiled to bench/results/build by the previous run (to
 *                    try a change made to the compiled JavaScript there)
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { Agent, request } from 'node:http'
import { arch, cpus, loadavg, release, tmpdir, totalmem } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { type LoadOptions, type LoadResult, pickTool, runLoad, type Tool } from './load.ts'
import { summarizeProfile } from './profile.ts'
import {
  busySessionReport,
  commandDelta,
  hasRedisServer,
  killRedisServers,
  REDIS_SERVER,
  type RedisServer,
  startRedis,
} from './redis.ts'
import {
  frameworkBaseline,
  SCENARIOS,
  type Scenario,
  scenarioLabel,
  TARGETS,
  type Target,
} from './targets.ts'

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const SERVER = fileURLToPath(new URL('./server.ts', import.meta.url))
/** Where the servers are compiled to (inside the repository, so node_modules resolves). */
const BUILD_DIR = join(ROOT, 'bench', 'results', 'build')
const DEFAULT_OUT = join(ROOT, 'bench', 'results', 'latest.json')
const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles')
/** A slice in which the server used at least this much of a core was not starved. */
const CLEAN_CORES = 0.9
/** At most this many extra slices per server and scenario. */
const MAX_EXTRA_SLICES = 3
/** Connections used to mint cookies. */
const MINT_CONCURRENCY = 16

// ---------------------------------------------------------------------------------------------
// Options

interface Config {
  duration: number
  warmup: number
  connections: number
  cookies: number
  slices: number
  only: string[]
  routes: string[]
  tool: string | undefined
  pin: boolean
  mintTimeout: number
  profile: string | undefined
  out: string
  reuseBuild: boolean
  stat: Stat
  retryBudget: number
  /** Pin redis-server to the load generator's CPU (when the servers are pinned at all). */
  redisPin: boolean
  /** Sequential requests per route and Redis target for counting Redis commands. */
  countRequests: number
}

function readConfig(): Config {
  const argv = process.argv.slice(2)
  const flags = ['--no-pin', '--reuse-build', '--no-redis-pin', '--redis-pin']
  const noPin = argv.includes('--no-pin')
  const reuseBuild = argv.includes('--reuse-build')
  const { values } = parseArgs({
    args: argv.filter((a) => !flags.includes(a)),
    options: {
      duration: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      cookies: { type: 'string' },
      slices: { type: 'string' },
      only: { type: 'string' },
      routes: { type: 'string' },
      tool: { type: 'string' },
      'mint-timeout': { type: 'string' },
      profile: { type: 'string' },
      out: { type: 'string' },
      stat: { type: 'string' },
      'retry-budget': { type: 'string' },
      'count-requests': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  })
  if (values.help) {
    const source = readFileSync(fileURLToPath(import.meta.url), 'utf8')
    console.log(
      /\/\*\*([\s\S]*?)\*\//
        .exec(source)?.[1]
        ?.replace(/^ \* ?/gm, '')
        .replace('@module', '')
        .trim(),
    )
    process.exit(0)
  }
  const env = process.env
  const number = (name: string, value: string | undefined, fallback: number, min: number) => {
    const n = value === undefined || value === '' ? fallback : Number(value)
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number ≥ ${min}`)
    return n
  }
  const list = (value: string | undefined): string[] =>
    (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)
  return {
    duration: number('duration', values.duration ?? env.BENCH_DURATION, 3, 1),
    warmup: number('warmup', values.warmup ?? env.BENCH_WARMUP, 1, 0),
    connections: Math.round(
      number('connections', values.connections ?? env.BENCH_CONNECTIONS, 32, 1),
    ),
    cookies: Math.round(number('cookies', values.cookies ?? env.BENCH_COOKIES, 10_000, 0)),
    slices: Math.round(number('slices', values.slices ?? env.BENCH_SLICES, 3, 1)),
    only: list(values.only ?? env.BENCH_ONLY),
    routes: list(values.routes ?? env.BENCH_ROUTES),
    tool: values.tool ?? env.BENCH_TOOL,
    pin: !noPin && env.BENCH_PIN !== '0',
    mintTimeout: number('mint-timeout', values['mint-timeout'] ?? env.BENCH_MINT_TIMEOUT, 30, 1),
    profile: values.profile ?? env.BENCH_PROFILE,
    out: values.out ?? env.BENCH_OUT ?? DEFAULT_OUT,
    reuseBuild,
    stat: readStat(values.stat ?? env.BENCH_STAT),
    retryBudget: number('retry-budget', values['retry-budget'] ?? env.BENCH_RETRY_BUDGET, 25, 0),
    redisPin: argv.includes('--no-redis-pin')
      ? false
      : argv.includes('--redis-pin') || env.BENCH_REDIS_PIN !== '0',
    countRequests: Math.round(
      number('count-requests', values['count-requests'] ?? env.BENCH_COUNT_REQUESTS, 200, 0),
    ),
  }
}

function readStat(value: string | undefined): Stat {
  if (value === undefined || value === 'best' || value === 'median') return value ?? 'best'
  throw new Error(`--stat must be best or median, got ${value}`)
}

function selectTargets(only: string[], profile: string | undefined): Target[] {
  const wanted = new Set<string>()
  const named = (target: Target, o: string): boolean =>
    target.name === o || target.name.startsWith(o) || (o === 'redis' && target.redis === true)
  for (const target of TARGETS) {
    const hit = only.length === 0 || only.some((o) => named(target, o)) || target.name === profile
    if (!hit) continue
    wanted.add(target.name)
    wanted.add('node')
    wanted.add(frameworkBaseline(target))
  }
  for (const o of only) {
    if (!TARGETS.some((t) => named(t, o))) {
      throw new Error(`--only: no server named ${o}; known: ${TARGETS.map((t) => t.name)}, redis`)
    }
  }
  if (profile !== undefined && !TARGETS.some((t) => t.name === profile)) {
    throw new Error(`--profile: no server named ${profile}`)
  }
  return TARGETS.filter((t) => wanted.has(t.name))
}

function selectScenarios(routes: string[], cookies: number): Scenario[] {
  for (const r of routes) {
    if (!SCENARIOS.some((s) => s.name === r || s.route === r)) {
      throw new Error(`--routes: unknown ${r}; known: none, read, read-many, write`)
    }
  }
  return SCENARIOS.filter(
    (s) =>
      (routes.length === 0 || routes.some((r) => s.name === r || s.route === r)) &&
      (!s.rotate || cookies > 0),
  )
}

// ---------------------------------------------------------------------------------------------
// Machine

interface Machine {
  cpu: string
  cores: number
  arch: string
  memoryGb: number
  os: string
  node: string
}

function machine(): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    arch: arch(),
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `${process.platform} ${release()}`,
    node: process.version,
  }
}

function gitCommit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT })
      .toString()
      .trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: ROOT })
      .toString()
      .trim()
    return dirty ? `${head} + uncommitted src/ changes` : head
  } catch {
    return 'unknown'
  }
}

function packageVersion(name: string): string {
  try {
    const file = join(ROOT, 'node_modules', name, 'package.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
}

/** Seconds of one measured slice (whole seconds: wrk takes no fractions). */
function sliceSeconds(config: Config): number {
  return Math.max(1, Math.round(config.duration / config.slices))
}

function hasTaskset(): boolean {
  return spawnSync('taskset', ['-V'], { timeout: 5000 }).status === 0
}

// ---------------------------------------------------------------------------------------------
// Servers

interface RunningServer {
  readonly target: Target
  readonly child: ChildProcess
  readonly port: number
  stderr: string
}

/**
 * Compiles bench/server.ts and the sessionware sources it imports to plain JavaScript with tsc, as
 * `npm run build` ships them. Running them through tsx instead would measure tsx: its transform
 * wraps every function created at run time in a `__name()` call, several per request.
 */
function buildServers(reuse: boolean): string {
  const entry = join(BUILD_DIR, relative(ROOT, SERVER).replace(/\.ts$/, '.js'))
  if (reuse && existsSync(entry)) return entry
  rmSync(BUILD_DIR, { recursive: true, force: true })
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc')
  const args = [
    tsc,
    SERVER,
    '--outDir',
    BUILD_DIR,
    '--rootDir',
    ROOT,
    '--module',
    'nodenext',
    '--moduleResolution',
    'nodenext',
    '--target',
    'es2022',
    '--rewriteRelativeImportExtensions',
    '--allowImportingTsExtensions',
    '--verbatimModuleSyntax',
    '--noCheck',
    '--skipLibCheck',
    '--types',
    'node',
  ]
  const run = spawnSync(process.execPath, args, { cwd: ROOT, encoding: 'utf8', timeout: 120_000 })
  if (run.status !== 0) {
    throw new Error(`compiling the servers failed:\n${run.stdout}${run.stderr}${run.error ?? ''}`)
  }
  return entry
}

function startServer(
  entry: string,
  target: Target,
  cpu: number | undefined,
  profile: boolean,
  env: Record<string, string> = {},
): Promise<RunningServer> {
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []
  const args = [...nodeArgs, entry, target.name]
  const command = cpu === undefined ? process.execPath : 'taskset'
  const argv = cpu === undefined ? args : ['-c', String(cpu), process.execPath, ...args]
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, ...env, NODE_ENV: 'production' },
  })
  return new Promise((resolve, reject) => {
    let stderr = ''
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`${target.name}: no ready message within 30 s\n${stderr}`))
    }, 30_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${target.name}: exited with ${code} before it was ready\n${stderr}`))
    })
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message?.type !== 'ready' || typeof message.port !== 'number') return
      clearTimeout(timer)
      const server: RunningServer = { target, child, port: message.port, stderr }
      child.stderr?.on('data', (chunk: string) => {
        server.stderr += chunk
      })
      resolve(server)
    })
  })
}

/** CPU seconds the server process has used so far (all its threads). */
function cpuSeconds(server: RunningServer): Promise<number> {
  const child = server.child
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', listen)
      reject(new Error(`${server.target.name}: no answer to the CPU query`))
    }, 10_000)
    const listen = (message: { type?: string; micros?: number }): void => {
      if (message?.type !== 'cpu' || typeof message.micros !== 'number') return
      clearTimeout(timer)
      child.off('message', listen)
      resolve(message.micros / 1e6)
    }
    child.on('message', listen)
    child.send({ type: 'cpu' })
  })
}

function stopServer(server: RunningServer): Promise<void> {
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

// ---------------------------------------------------------------------------------------------
// HTTP client for minting cookies and checking answers

interface Answer {
  status: number
  body: string
  setCookie: string[]
}

function get(port: number, path: string, cookie: string | undefined, agent?: Agent) {
  return new Promise<Answer>((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {}, timeout: 10_000 },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

/** The `name=value` pairs of Set-Cookie headers, as one Cookie header. */
function cookieHeader(setCookie: string[]): string {
  return setCookie
    .map((line) => line.split(';', 1)[0]?.trim() ?? '')
    .filter((pair) => pair.includes('=') && !pair.endsWith('='))
    .join('; ')
}

function bodyN(answer: Answer): unknown {
  try {
    return (JSON.parse(answer.body) as { n?: unknown }).n
  } catch {
    return undefined
  }
}

/** Creates up to `count` sessions with `GET /write` (no cookie); stops at the deadline. */
async function mint(port: number, count: number, deadline: number): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: MINT_CONCURRENCY })
  const cookies: string[] = []
  let issued = 0
  const worker = async (): Promise<void> => {
    while (issued < count && Date.now() < deadline) {
      issued++
      const answer = await get(port, '/write', undefined, agent)
      const cookie = cookieHeader(answer.setCookie)
      if (answer.status !== 200 || cookie === '') {
        throw new Error(`GET /write answered ${answer.status} without a session cookie`)
      }
      cookies.push(cookie)
    }
  }
  try {
    await Promise.all(Array.from({ length: MINT_CONCURRENCY }, worker))
  } finally {
    agent.destroy()
  }
  return cookies
}

/** Cookies of about the size of a sealed sessionware cookie, for the bare servers. */
function syntheticCookies(count: number): string[] {
  return Array.from({ length: count }, () => `session=${randomBytes(75).toString('base64url')}`)
}

interface Prepared {
  oneFile: string
  manyFile: string
  minted: number
  mintSeconds: number
  /** Whether a response carried a Set-Cookie, per route, when sent the seed cookie. */
  setCookie: Record<string, boolean>
}

async function prepare(
  server: RunningServer,
  dir: string,
  cookies: number,
  mintTimeout: number,
): Promise<Prepared> {
  const { target, port } = server
  const oneFile = join(dir, `${target.name}-one.txt`)
  const manyFile = join(dir, `${target.name}-many.txt`)
  const started = Date.now()
  let seed: string
  let many: string[]
  if (target.sessions) {
    const [first] = await mint(port, 1, Number.POSITIVE_INFINITY)
    seed = first as string
    many = cookies > 0 ? await mint(port, cookies, started + mintTimeout * 1000) : []
  } else {
    ;[seed] = syntheticCookies(1) as [string]
    many = syntheticCookies(cookies)
  }
  const mintSeconds = (Date.now() - started) / 1000
  writeFileSync(oneFile, `${seed}\n`)
  writeFileSync(manyFile, many.length > 0 ? `${many.join('\n')}\n` : '')

  // Check that every route answers as intended before loading it.
  const setCookie: Record<string, boolean> = {}
  for (const route of ['none', 'read', 'write'] as const) {
    const answer = await get(port, `/${route}`, seed)
    if (answer.status !== 200) throw new Error(`${target.name} /${route}: status ${answer.status}`)
    setCookie[route] = answer.setCookie.length > 0
    if (target.sessions && route === 'read' && !(Number(bodyN(answer)) >= 1)) {
      throw new Error(
        `${target.name} /read with its cookie did not see the session: ${answer.body}`,
      )
    }
  }
  if (target.sessions && !setCookie.write) {
    throw new Error(`${target.name} /write did not send a Set-Cookie`)
  }
  if (target.sessions && many.length > 0) {
    const step = Math.max(1, Math.floor(many.length / 10))
    for (let i = 0; i < many.length; i += step) {
      const answer = await get(port, '/read', many[i])
      if (bodyN(answer) !== 1) {
        throw new Error(`${target.name}: minted cookie ${i} did not read back: ${answer.body}`)
      }
    }
  }
  return { oneFile, manyFile, minted: many.length, mintSeconds, setCookie }
}

// ---------------------------------------------------------------------------------------------
// Results

interface Measurement {
  target: string
  scenario: Scenario['name']
  /** Which slice of the measured time (0-based). */
  slice: number
  /** An extra slice, measured because no slice had a whole core (see CLEAN_CORES). */
  extra?: boolean
  result: LoadResult
  /** CPU seconds the server process used during the measured window. */
  cpuSeconds: number
  /** Wall seconds of the measured window, as this process saw it. */
  wallSeconds: number
  /** CPU seconds redis-server used during the measured window (Redis targets only). */
  redisCpuSeconds?: number
  /** Calls per Redis command during the measured window (Redis targets only). */
  redisCommands?: Record<string, number>
}

/** `rps`: requests per wall second; `cpu`: requests per second of the server's CPU time. */
type Metric = 'rps' | 'cpu'

/** How the slices of one server and scenario are combined. */
type Stat = 'best' | 'median'

interface Summary {
  target: string
  scenario: Scenario['name']
  /** Requests per wall second: the best slice (or the median with `--stat median`). */
  rps: number
  /** Requests per CPU second of the server process: the best slice (or the median). */
  cpu: number
  /**
   * CPU seconds the server used per wall second in its best req/s slice: 1.00 is one core busy
   * all the time; less means the server was starved (other processes) or the load generator
   * could not keep it busy.
   */
  cores: number
  medianRps: number
  medianCpu: number
  /** Every slice's numbers. */
  slices: Array<{ rps: number; cpu: number; cores: number }>
  latencyMs: { p50: number; p99: number }
  errors: number
  non2xx: number
}

interface Ratio {
  target: string
  scenario: Scenario['name']
  baseline: string
  metric: Metric
  ratio: number
  goal?: number
  pass?: boolean
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

function summarize(measurements: Measurement[], stat: Stat): Summary[] {
  const groups = new Map<string, Measurement[]>()
  for (const m of measurements) {
    const key = `${m.target}\t${m.scenario}`
    groups.set(key, [...(groups.get(key) ?? []), m])
  }
  return [...groups.values()].map((list) => {
    const first = list[0] as Measurement
    const slices = list.map((m) => ({
      rps: m.result.rps,
      cpu: m.cpuSeconds > 0 ? m.result.requests / m.cpuSeconds : 0,
      cores: m.cpuSeconds / m.wallSeconds,
    }))
    const best = slices.reduce((a, b) => (b.rps > a.rps ? b : a))
    const medianRps = median(slices.map((r) => r.rps))
    const medianCpu = median(slices.map((r) => r.cpu))
    return {
      target: first.target,
      scenario: first.scenario,
      rps: stat === 'best' ? best.rps : medianRps,
      cpu: stat === 'best' ? Math.max(...slices.map((r) => r.cpu)) : medianCpu,
      cores: stat === 'best' ? best.cores : median(slices.map((r) => r.cores)),
      medianRps,
      medianCpu,
      slices,
      latencyMs: {
        p50: median(list.map((m) => m.result.latencyMs.p50)),
        p99: median(list.map((m) => m.result.latencyMs.p99)),
      },
      errors: list.reduce((sum, m) => sum + m.result.errors, 0),
      non2xx: list.reduce((sum, m) => sum + m.result.non2xx, 0),
    }
  })
}

/** The baselines a target is compared with: its framework's bare server, then bare node:http. */
function baselinesOf(target: Target): string[] {
  if (target.name === 'node') return []
  const framework = frameworkBaseline(target)
  return framework !== 'node' && framework !== target.name ? [framework, 'node'] : ['node']
}

function ratios(summaries: Summary[], targets: Target[]): Ratio[] {
  const out: Ratio[] = []
  for (const s of summaries) {
    const target = targets.find((t) => t.name === s.target) as Target
    for (const baseline of baselinesOf(target)) {
      const base = summaries.find((b) => b.target === baseline && b.scenario === s.scenario)
      if (base === undefined) continue
      for (const metric of ['rps', 'cpu'] as const) {
        if (base[metric] === 0) continue
        const ratio: Ratio = {
          target: s.target,
          scenario: s.scenario,
          baseline,
          metric,
          ratio: s[metric] / base[metric],
        }
        const goal = baseline === 'node' ? target.goals?.[s.scenario] : undefined
        if (goal !== undefined) {
          ratio.goal = goal
          ratio.pass = ratio.ratio >= goal
        }
        out.push(ratio)
      }
    }
  }
  return out
}

const fmtInt = (n: number): string => Math.round(n).toLocaleString('en')

function table(rows: string[][], align: Array<'l' | 'r'>): string[] {
  const widths = align.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)))
  const cell = (c: string, i: number): string =>
    align[i] === 'r' ? c.padStart(widths[i] as number) : c.padEnd(widths[i] as number)
  const line = (r: string[]): string => `| ${r.map(cell).join(' | ')} |`
  const rule = `|${widths.map((w, i) => (align[i] === 'r' ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`
  const [head, ...body] = rows
  return [line(head as string[]), rule, ...body.map(line)]
}

function report(
  scenarios: Scenario[],
  targets: Target[],
  summaries: Summary[],
  allRatios: Ratio[],
  config: Config,
): string[] {
  const lines: string[] = []
  const ratioOf = (target: string, scenario: string, metric: Metric, node: boolean) =>
    allRatios.find(
      (r) =>
        r.target === target &&
        r.scenario === scenario &&
        r.metric === metric &&
        (r.baseline === 'node') === node,
    )
  const show = (target: Target, scenario: string, metric: Metric, node: boolean): string => {
    if (target.name === 'node') return node ? '1.00' : ''
    if (!node && target.framework === target.name) return '1.00'
    const r = ratioOf(target.name, scenario, metric, node)
    return r === undefined ? '' : r.ratio.toFixed(2)
  }
  for (const scenario of scenarios) {
    lines.push('', `### ${scenarioLabel(scenario, config.cookies)}`, '')
    const head = [
      'server',
      'req/s',
      '× node',
      '× framework',
      'req/CPU-s',
      '× node',
      '× framework',
      'cores',
      'goal: × node (req/s, CPU)',
    ]
    const rows: string[][] = [head]
    for (const target of targets) {
      const s = summaries.find((x) => x.target === target.name && x.scenario === scenario.name)
      if (s === undefined) continue
      const flags = s.errors + s.non2xx > 0 ? ` (!${s.errors} errors, ${s.non2xx} non-2xx)` : ''
      const goalRps = ratioOf(target.name, scenario.name, 'rps', true)
      const goalCpu = ratioOf(target.name, scenario.name, 'cpu', true)
      const verdict = (r: Ratio | undefined): string => (r?.pass ? 'pass' : 'FAIL')
      rows.push([
        target.label + flags,
        fmtInt(s.rps),
        show(target, scenario.name, 'rps', true),
        show(target, scenario.name, 'rps', false),
        fmtInt(s.cpu),
        show(target, scenario.name, 'cpu', true),
        show(target, scenario.name, 'cpu', false),
        s.cores.toFixed(2),
        goalRps?.goal === undefined
          ? ''
          : `≥ ${goalRps.goal.toFixed(2)}: ${verdict(goalRps)}, ${verdict(goalCpu)}`,
      ])
    }
    lines.push(...table(rows, ['l', 'r', 'r', 'r', 'r', 'r', 'r', 'r', 'l']))
    const base = summaries.find((x) => x.target === 'node' && x.scenario === scenario.name)
    if (base !== undefined && base.cores < 0.85) {
      lines.push(
        '',
        `Note: bare node:http had only ${base.cores.toFixed(2)} of a core here (other processes, or a load generator that cannot keep up), so its req/s is too low and the req/s ratios flatter the others; the req/CPU-s ratios hold better.`,
      )
    }
  }
  return lines
}

/**
 * All ratios of req/s in one table, a row per server and baseline, a column per scenario (the
 * README's table): ✓ or ✗ after a ratio that has one of sessionware's goals.
 */
function ratioTable(
  scenarios: Scenario[],
  targets: Target[],
  allRatios: Ratio[],
  config: Config,
): string[] {
  const rows: string[][] = [
    ['server', 'compared with', ...scenarios.map((s) => `\`${scenarioLabel(s, config.cookies)}\``)],
  ]
  const label = (name: string): string => targets.find((t) => t.name === name)?.label ?? name
  for (const target of targets) {
    for (const baseline of baselinesOf(target)) {
      const cells = scenarios.map((scenario) => {
        const r = allRatios.find(
          (x) =>
            x.target === target.name &&
            x.scenario === scenario.name &&
            x.baseline === baseline &&
            x.metric === 'rps',
        )
        if (r === undefined) return ''
        return r.ratio.toFixed(2) + (r.pass === undefined ? '' : r.pass ? ' ✓' : ' ✗')
      })
      rows.push([target.label, label(baseline), ...cells])
    }
  }
  if (rows.length === 1) return []
  return [
    '',
    `### Ratios of req/s (${config.stat} slice)`,
    '',
    ...table(rows, ['l', 'l', ...scenarios.map(() => 'r' as const)]),
    '',
    '✓ / ✗: meets / misses sessionware’s goal for that ratio.',
  ]
}

// ---------------------------------------------------------------------------------------------
// Main

async function measure(
  tool: Tool,
  server: RunningServer,
  options: LoadOptions,
  redis: RedisServer | undefined,
): Promise<Omit<Measurement, 'target' | 'scenario' | 'slice'>> {
  const withRedis = redis !== undefined && server.target.redis === true
  const redisBefore = withRedis ? await redis.cpuSeconds() : 0
  const callsBefore = withRedis ? await redis.commandCalls() : undefined
  const cpuBefore = await cpuSeconds(server)
  const started = performance.now()
  const result = await runLoad(tool, options)
  const wallSeconds = (performance.now() - started) / 1000
  const cpuAfter = await cpuSeconds(server)
  const m = { result, cpuSeconds: cpuAfter - cpuBefore, wallSeconds }
  if (!withRedis || callsBefore === undefined) return m
  const redisCpuSeconds = (await redis.cpuSeconds()) - redisBefore
  // Requests cut off at the end of the slice (sent, not answered) may add a few commands.
  const redisCommands = commandDelta(callsBefore, await redis.commandCalls())
  return { ...m, redisCpuSeconds, redisCommands }
}

interface CommandCount {
  target: string
  scenario: Scenario['name']
  requests: number
  /** Redis commands per request in all (`INFO commandstats`), those run by scripts included. */
  total: number
  /** Commands per request the server sent to Redis (`total` without those run by scripts). */
  sent: number
  /** Per command (lowercase name): calls per request, those run by scripts included. */
  commands: Record<string, number>
  /** Per command: calls per request that Lua scripts made (part of `commands`). */
  inScripts: Record<string, number>
}

/**
 * Counts the Redis commands a Redis target issues per request, outside the timed load: for every
 * scenario, `requests` sequential requests with a valid cookie (the seed cookie, or the first
 * `requests` rotating cookies), between two `INFO commandstats` snapshots. Nothing else talks to
 * Redis meanwhile: the other servers are idle.
 */
async function countCommands(
  redis: RedisServer,
  server: RunningServer,
  p: Prepared,
  scenarios: Scenario[],
  requests: number,
): Promise<CommandCount[]> {
  const seed = readFileSync(p.oneFile, 'utf8').trim()
  const many = readFileSync(p.manyFile, 'utf8').split('\n').filter(Boolean)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const perRequest = (map: Map<string, number>): Record<string, number> =>
    Object.fromEntries([...map].map(([name, n]) => [name, n / requests]))
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  const counts: CommandCount[] = []
  try {
    for (const scenario of scenarios) {
      if (scenario.rotate && many.length === 0) continue
      const calls = await redis.countCommands(async () => {
        for (let i = 0; i < requests; i++) {
          const cookie = scenario.rotate ? many[i % many.length] : seed
          const answer = await get(server.port, `/${scenario.route}`, cookie, agent)
          if (answer.status !== 200) {
            throw new Error(`${server.target.name} /${scenario.route}: status ${answer.status}`)
          }
        }
      })
      const commands = perRequest(calls.all)
      const inScripts = perRequest(calls.inScripts)
      counts.push({
        target: server.target.name,
        scenario: scenario.name,
        requests,
        total: sum(commands),
        sent: sum(commands) - sum(inScripts),
        commands,
        inScripts,
      })
    }
  } finally {
    agent.destroy()
  }
  return counts
}

/** Command names by how often `lists` call them, most first. */
function commandNames(lists: Array<Record<string, number>>): string[] {
  const totals = new Map<string, number>()
  for (const list of lists) {
    for (const [name, n] of Object.entries(list)) totals.set(name, (totals.get(name) ?? 0) + n)
  }
  return [...totals.keys()].sort(
    (a, b) => (totals.get(b) ?? 0) - (totals.get(a) ?? 0) || a.localeCompare(b),
  )
}

/**
 * The command counts as tables: per target and route, the commands the server sent (every
 * command the target sends on any route, so a 0.00 shows what a route does not do) and those its
 * Lua scripts ran; then the same during the timed load, from the slices' INFO commandstats.
 */
function commandTables(
  counts: CommandCount[],
  targets: Target[],
  scenarios: Scenario[],
  measurements: Measurement[],
  cookies: number,
): string[] {
  const lines: string[] = []
  const list = (names: string[], perRequest: (name: string) => number): string =>
    names.map((name) => `${name} ${perRequest(name).toFixed(2)}`).join(', ')
  if (counts.length > 0) {
    const rows: string[][] = [['server', 'route', 'sent', 'in scripts', 'per command']]
    for (const target of targets) {
      const mine = counts.filter((c) => c.target === target.name)
      const sent = (c: CommandCount, name: string): number =>
        (c.commands[name] ?? 0) - (c.inScripts[name] ?? 0)
      const sentNames = commandNames(
        mine.map((c) =>
          Object.fromEntries(Object.keys(c.commands).map((name) => [name, sent(c, name)])),
        ),
      ).filter((name) => mine.some((c) => sent(c, name) > 0))
      const scriptNames = commandNames(mine.map((c) => c.inScripts))
      for (const c of mine) {
        const scenario = SCENARIOS.find((s) => s.name === c.scenario) as Scenario
        const inScripts = list(scriptNames, (name) => c.inScripts[name] ?? 0)
        rows.push([
          target.label,
          scenarioLabel(scenario, cookies),
          c.sent.toFixed(2),
          (c.total - c.sent).toFixed(2),
          (list(sentNames, (name) => sent(c, name)) || '-') +
            (inScripts ? `; in scripts: ${inScripts}` : ''),
        ])
      }
    }
    lines.push(
      '',
      `### Redis commands per request (${counts[0]?.requests} sequential requests per route with a valid cookie, outside the timed load)`,
      '',
      ...table(rows, ['l', 'l', 'r', 'r', 'l']),
      '',
      'sent: commands the server sent to Redis; in scripts: commands its Lua scripts (EVALSHA) ran, counted by INFO commandstats as well.',
    )
  }
  const loaded = measurements.filter((m) => m.redisCommands !== undefined)
  if (loaded.length > 0) {
    const rows: string[][] = [['server', 'route', 'commands', 'per command']]
    for (const target of targets) {
      const mine = loaded.filter((m) => m.target === target.name)
      const names = commandNames(mine.map((m) => m.redisCommands ?? {}))
      for (const scenario of scenarios) {
        const slices = mine.filter((m) => m.scenario === scenario.name)
        const requests = slices.reduce((n, m) => n + m.result.requests, 0)
        if (requests === 0) continue
        const calls = (name: string): number =>
          slices.reduce((n, m) => n + (m.redisCommands?.[name] ?? 0), 0) / requests
        const total = names.reduce((n, name) => n + calls(name), 0)
        rows.push([
          target.label,
          scenarioLabel(scenario, cookies),
          total.toFixed(2),
          list(names, calls) || '-',
        ])
      }
    }
    lines.push(
      '',
      '### Redis commands per request during the timed load (all slices; scripts’ commands included)',
      '',
      ...table(rows, ['l', 'l', 'r', 'l']),
    )
  }
  return lines
}

async function main(): Promise<void> {
  const config = readConfig()
  let targets = selectTargets(config.only, config.profile)
  let redisNote: string | undefined
  if (targets.some((t) => t.redis) && !hasRedisServer()) {
    const skipped = targets.filter((t) => t.redis).map((t) => t.name)
    targets = targets.filter((t) => !t.redis)
    redisNote = `${REDIS_SERVER} is not installed: skipping ${skipped.join(', ')} (apt-get install redis-server)`
  }
  const useRedis = targets.some((t) => t.redis)
  const scenarios = selectScenarios(config.routes, config.cookies)
  const tool: Tool = pickTool(config.tool)
  const info = machine()
  const pinned = config.pin && info.cores >= 2 && hasTaskset()
  const serverCpu = pinned ? 0 : undefined
  const loadCpu = pinned ? 1 : undefined
  const redisCpu = pinned && config.redisPin ? loadCpu : undefined
  if (pinned && tool.name === 'autocannon') {
    // autocannon runs in this process: move it off the servers' CPU.
    spawnSync('taskset', ['-a', '-cp', String(loadCpu), String(process.pid)], { timeout: 5000 })
  }
  const slice = sliceSeconds(config)
  const estimate = targets.length * scenarios.length * (config.warmup + slice * config.slices)
  const load0 = loadAverage()

  console.log('sessionware HTTP benchmark')
  console.log(`machine:  ${info.cpu}, ${info.cores} cores, ${info.os}, Node ${info.node}`)
  console.log(
    `tool:     ${tool.name} ${tool.version}${tool.name === 'wrk' ? ' (1 thread)' : config.tool === 'autocannon' ? ' (in this process, as asked)' : ' (in this process: wrk is not installed)'}, ${config.connections} connections, keep-alive`,
  )
  console.log(
    `timing:   per scenario and server ${config.warmup} s warm-up, then ${config.slices} × ${slice} s measured (slices interleaved across servers, the ${config.stat} slice counts); about ${Math.round(estimate)} s of load, plus at most ${config.retryBudget} s of extra slices`,
  )
  console.log(`load:     ${load0} (1, 5, 15 min load average before the run)`)
  console.log(
    `cpus:     ${pinned ? `servers pinned to CPU ${serverCpu}, load generator to CPU ${loadCpu}` : 'not pinned'}`,
  )
  console.log(`servers:  ${targets.map((t) => t.name).join(', ')}`)
  console.log(`routes:   ${scenarios.map((s) => s.name).join(', ')}`)
  if (redisNote !== undefined) console.log(`note:     ${redisNote}`)

  mkdirSync(dirname(config.out), { recursive: true })
  if (config.profile) mkdirSync(PROFILE_DIR, { recursive: true })
  const profilesBefore = new Set(config.profile ? readdirSync(PROFILE_DIR) : [])
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-bench-'))
  const servers: RunningServer[] = []
  const prepared = new Map<string, Prepared>()
  const measurements: Measurement[] = []
  const began = Date.now()
  const needsMany = scenarios.some((s) => s.rotate)
  const commandCounts: CommandCount[] = []
  let retrySeconds = 0
  let redis: RedisServer | undefined
  // redis-server is no child that exits with this process: kill it however the run ends.
  process.once('exit', killRedisServers)
  const onSignal = (signal: NodeJS.Signals): void => {
    killRedisServers()
    for (const server of servers) server.child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
    console.error(`\n${signal}: benchmark stopped`)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  try {
    if (useRedis) {
      redis = await startRedis(dir, redisCpu)
      console.log(
        `redis:    redis-server ${redis.version} on 127.0.0.1:${redis.port} (no persistence), ${redis.cpu === undefined ? 'not pinned' : `pinned to CPU ${redis.cpu} with the load generator`}`,
      )
    }
    const entry = buildServers(config.reuseBuild)
    for (const target of targets) {
      const env: Record<string, string> =
        target.redis && redis !== undefined ? { BENCH_REDIS_URL: redis.url } : {}
      servers.push(await startServer(entry, target, serverCpu, target.name === config.profile, env))
    }
    for (const server of servers) {
      const p = await prepare(server, dir, needsMany ? config.cookies : 0, config.mintTimeout)
      prepared.set(server.target.name, p)
      if (server.target.sessions && needsMany) {
        const short =
          p.minted < config.cookies ? ` (stopped at the ${config.mintTimeout} s bound)` : ''
        console.log(
          `setup:    ${server.target.name}: ${fmtInt(p.minted)} cookies minted over HTTP in ${p.mintSeconds.toFixed(1)} s${short}`,
        )
      }
    }
    if (redis !== undefined && config.countRequests > 0) {
      for (const server of servers) {
        if (!server.target.redis) continue
        const p = prepared.get(server.target.name) as Prepared
        commandCounts.push(
          ...(await countCommands(redis, server, p, scenarios, config.countRequests)),
        )
      }
    }
    const setCookieOnNone = servers.filter(
      (s) => s.target.sessions && prepared.get(s.target.name)?.setCookie.none,
    )
    if (setCookieOnNone.length > 0) {
      console.log(
        `note:     Set-Cookie on /none (a route that never touches the session): ${setCookieOnNone.map((s) => s.target.name).join(', ')}`,
      )
    }
    console.log('')
    for (const scenario of scenarios) {
      const optionsFor = (server: RunningServer, duration: number): LoadOptions => {
        const p = prepared.get(server.target.name) as Prepared
        return {
          port: server.port,
          path: `/${scenario.route}`,
          cookieFile: scenario.rotate ? p.manyFile : p.oneFile,
          connections: config.connections,
          duration,
          cpu: loadCpu,
        }
      }
      if (config.warmup > 0) {
        for (const server of servers) await runLoad(tool, optionsFor(server, config.warmup))
      }
      for (let index = 0; index < config.slices; index++) {
        // Rotate the order every slice so no server always runs first or last.
        const shift = index % servers.length
        for (const server of [...servers.slice(shift), ...servers.slice(0, shift)]) {
          const m = await measure(tool, server, optionsFor(server, slice), redis)
          measurements.push({
            target: server.target.name,
            scenario: scenario.name,
            slice: index,
            ...m,
          })
        }
      }
      // A server that never had a whole core to itself (other processes ran) gets extra slices,
      // within the run's retry budget, until one is clean.
      for (const server of servers) {
        const mine = () =>
          measurements.filter(
            (m) => m.target === server.target.name && m.scenario === scenario.name,
          )
        const clean = () => mine().some((m) => m.cpuSeconds / m.wallSeconds >= CLEAN_CORES)
        for (let extra = 0; extra < MAX_EXTRA_SLICES && !clean(); extra++) {
          if (retrySeconds + slice > config.retryBudget) break
          retrySeconds += slice
          const m = await measure(tool, server, optionsFor(server, slice), redis)
          measurements.push({
            target: server.target.name,
            scenario: scenario.name,
            slice: mine().length,
            extra: true,
            ...m,
          })
        }
      }
      for (const server of servers) {
        const mine = measurements.filter(
          (m) => m.target === server.target.name && m.scenario === scenario.name,
        )
        const mark = (m: Measurement): string => (m.extra ? '+' : ' ')
        const rps = mine.map((m) => fmtInt(m.result.rps).padStart(6) + mark(m)).join('')
        const cpu = mine.map((m) => fmtInt(m.result.requests / m.cpuSeconds).padStart(6)).join(' ')
        const cores = mine.map((m) => (m.cpuSeconds / m.wallSeconds).toFixed(2)).join(' ')
        const errors = mine.reduce((n, m) => n + m.result.errors + m.result.non2xx, 0)
        const redisCores = server.target.redis
          ? `   redis cores ${mine.map((m) => ((m.redisCpuSeconds ?? 0) / m.wallSeconds).toFixed(2)).join(' ')}`
          : ''
        console.log(
          `  ${scenario.name.padEnd(9)} ${server.target.name.padEnd(22)} req/s ${rps}   req/CPU-s ${cpu}   cores ${cores}${redisCores}${errors > 0 ? `  !! ${errors} errors or non-2xx` : ''}`,
        )
      }
    }
    // The sessions must still be there after the load (nothing evicted, nothing expired).
    for (const server of servers) {
      if (!server.target.sessions) continue
      const p = prepared.get(server.target.name) as Prepared
      const seed = readFileSync(p.oneFile, 'utf8').trim()
      const answer = await get(server.port, '/read', seed)
      if (!(Number(bodyN(answer)) >= 1)) {
        console.log(`!! ${server.target.name}: the seed session did not survive the load`)
      }
    }
  } finally {
    await Promise.all(servers.map(stopServer))
    await redis?.stop()
    rmSync(dir, { recursive: true, force: true })
  }
  for (const server of servers) {
    if (/error/i.test(server.stderr)) {
      console.log(`stderr of ${server.target.name}:\n${server.stderr.trim()}`)
    }
  }

  const summaries = summarize(measurements, config.stat)
  const allRatios = ratios(summaries, targets)
  const elapsed = (Date.now() - began) / 1000
  console.log(report(scenarios, targets, summaries, allRatios, config).join('\n'))
  console.log(ratioTable(scenarios, targets, allRatios, config).join('\n'))
  const labels = Object.fromEntries(targets.map((t) => [t.name, t.label]))
  console.log(busySessionReport(summaries, config.connections, labels).join('\n'))
  console.log(
    commandTables(commandCounts, targets, scenarios, measurements, config.cookies).join('\n'),
  )
  if (redis !== undefined) {
    console.log(
      `\nredis-server ${redis.version} ran ${redis.cpu === undefined ? 'unpinned' : `pinned to CPU ${redis.cpu}, with the load generator`}; "redis cores" above: its CPU seconds per wall second in each slice.`,
    )
  }
  const goals = allRatios.filter((r) => r.goal !== undefined)
  const met = (metric: Metric) => goals.filter((r) => r.metric === metric && r.pass).length
  console.log(
    `\ngoals met: ${met('rps')} of ${goals.length / 2} by req/s, ${met('cpu')} of ${goals.length / 2} by req/CPU-s. Extra slices: ${retrySeconds} s. Total time ${elapsed.toFixed(0)} s.`,
  )

  const results = {
    date: new Date().toISOString(),
    commit: gitCommit(),
    machine: info,
    tool: { ...tool, threads: tool.name === 'wrk' ? 1 : undefined },
    connections: config.connections,
    durationSeconds: sliceSeconds(config) * config.slices,
    warmupSeconds: config.warmup,
    slices: config.slices,
    stat: config.stat,
    retryBudgetSeconds: config.retryBudget,
    extraSliceSeconds: retrySeconds,
    loadAverage: { before: load0, after: loadAverage() },
    sliceSeconds: sliceSeconds(config),
    cookies: config.cookies,
    pinned,
    redis:
      redis === undefined
        ? { skipped: redisNote ?? 'no Redis target selected' }
        : {
            version: redis.version,
            client: `redis (node-redis) ${packageVersion('redis')}`,
            pinnedCpu: redis.cpu ?? null,
            countRequests: config.countRequests,
            commandsPerRequest: commandCounts,
          },
    elapsedSeconds: elapsed,
    targets: targets.map((t) => {
      const p = prepared.get(t.name)
      return {
        name: t.name,
        label: t.label,
        version: t.packageName ? packageVersion(t.packageName) : undefined,
        setup: p && { minted: p.minted, mintSeconds: p.mintSeconds, setCookie: p.setCookie },
      }
    }),
    scenarios: scenarios.map((s) => ({ ...s, label: scenarioLabel(s, config.cookies) })),
    results: summaries,
    ratios: allRatios,
    measurements,
  }
  writeFileSync(config.out, `${JSON.stringify(results, null, 2)}\n`)
  console.log(`results:  ${relative(process.cwd(), config.out)}`)

  if (config.profile) {
    const fresh = readdirSync(PROFILE_DIR).filter((f) => !profilesBefore.has(f))
    for (const file of fresh) {
      const path = join(PROFILE_DIR, file)
      console.log(`\nCPU profile of ${config.profile}: ${relative(process.cwd(), path)}`)
      console.log(summarizeProfile(path).join('\n'))
    }
  }
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
