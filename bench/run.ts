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
 *                    sessionware-memory, iron, express, fastify (the baselines needed for the
 *                    ratios are added)
 *   --routes LIST    scenarios: none, read, read-many, write (`read` selects both /read scenarios)
 *   --tool NAME      wrk or autocannon (default: wrk when installed)
 *   --no-pin         do not pin servers and wrk to separate CPUs
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
}

function readConfig(): Config {
  const argv = process.argv.slice(2)
  const noPin = argv.includes('--no-pin')
  const reuseBuild = argv.includes('--reuse-build')
  const { values } = parseArgs({
    args: argv.filter((a) => a !== '--no-pin' && a !== '--reuse-build'),
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
  }
}

function readStat(value: string | undefined): Stat {
  if (value === undefined || value === 'best' || value === 'median') return value ?? 'best'
  throw new Error(`--stat must be best or median, got ${value}`)
}

function selectTargets(only: string[], profile: string | undefined): Target[] {
  const wanted = new Set<string>()
  for (const target of TARGETS) {
    const hit =
      only.length === 0 ||
      only.some((o) => target.name === o || target.name.startsWith(o)) ||
      target.name === profile
    if (!hit) continue
    wanted.add(target.name)
    wanted.add('node')
    wanted.add(frameworkBaseline(target))
  }
  for (const o of only) {
    if (!TARGETS.some((t) => t.name === o || t.name.startsWith(o))) {
      throw new Error(`--only: no server named ${o}; known: ${TARGETS.map((t) => t.name)}`)
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
): Promise<RunningServer> {
  const nodeArgs = profile ? ['--cpu-prof', '--cpu-prof-dir', PROFILE_DIR] : []
  const args = [...nodeArgs, entry, target.name]
  const command = cpu === undefined ? process.execPath : 'taskset'
  const argv = cpu === undefined ? args : ['-c', String(cpu), process.execPath, ...args]
  const child = spawn(command, argv, {
    cwd: ROOT,
    stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
    env: { ...process.env, NODE_ENV: 'production' },
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

// ---------------------------------------------------------------------------------------------
// Main

async function measure(
  tool: Tool,
  server: RunningServer,
  options: LoadOptions,
): Promise<{ result: LoadResult; cpuSeconds: number; wallSeconds: number }> {
  const cpuBefore = await cpuSeconds(server)
  const started = performance.now()
  const result = await runLoad(tool, options)
  const wallSeconds = (performance.now() - started) / 1000
  const cpuAfter = await cpuSeconds(server)
  return { result, cpuSeconds: cpuAfter - cpuBefore, wallSeconds }
}

async function main(): Promise<void> {
  const config = readConfig()
  const targets = selectTargets(config.only, config.profile)
  const scenarios = selectScenarios(config.routes, config.cookies)
  const tool: Tool = pickTool(config.tool)
  const info = machine()
  const pinned = config.pin && info.cores >= 2 && hasTaskset()
  const serverCpu = pinned ? 0 : undefined
  const loadCpu = pinned ? 1 : undefined
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

  mkdirSync(dirname(config.out), { recursive: true })
  if (config.profile) mkdirSync(PROFILE_DIR, { recursive: true })
  const profilesBefore = new Set(config.profile ? readdirSync(PROFILE_DIR) : [])
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-bench-'))
  const servers: RunningServer[] = []
  const prepared = new Map<string, Prepared>()
  const measurements: Measurement[] = []
  const began = Date.now()
  const needsMany = scenarios.some((s) => s.rotate)
  let retrySeconds = 0
  try {
    const entry = buildServers(config.reuseBuild)
    for (const target of targets) {
      servers.push(await startServer(entry, target, serverCpu, target.name === config.profile))
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
          const m = await measure(tool, server, optionsFor(server, slice))
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
          const m = await measure(tool, server, optionsFor(server, slice))
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
        console.log(
          `  ${scenario.name.padEnd(9)} ${server.target.name.padEnd(22)} req/s ${rps}   req/CPU-s ${cpu}   cores ${cores}${errors > 0 ? `  !! ${errors} errors or non-2xx` : ''}`,
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
