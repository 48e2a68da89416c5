/**
 * The benchmark's command line. Every option is bounded, so no combination runs for hours; each
 * also reads an environment variable (`--rounds 5` or `BENCH_ROUNDS=5`).
 *
 * @module
 */

import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { ROOT } from './processes.ts'
import { SCALE_SESSIONS, SCENARIOS, type Scenario } from './targets.ts'

/** The resolved options. */
export interface Config {
  /** `--only` entries (empty: everything). */
  readonly only: string[]
  readonly scenarios: Scenario[]
  readonly rounds: number
  /** Fresh server processes for every round (but the scale servers'). */
  readonly restart: boolean
  /**
   * Fresh processes of each server and the pair right before each block (the default; off with
   * `--no-fresh-blocks` or `--no-restart`).
   */
  readonly freshBlocks: boolean
  /** Unmeasured seconds of load on each server right before its slices of a round. */
  readonly prewarm: number
  /** Seconds per slice. */
  readonly duration: number
  /** Warm-up seconds per server, every route at once, before the first round. */
  readonly warmup: number
  readonly connections: number
  readonly cookies: number
  /** The time budget of the whole run, in minutes: no round starts that would end after it. */
  readonly budget: number
  readonly pin: boolean
  readonly redisPin: boolean
  /** Sequential requests per route for counting Redis commands (0: no count). */
  readonly countRequests: number
  readonly mintTimeout: number
  /** Servers to profile after their rounds, and the seconds per scenario. */
  readonly profile: string[]
  readonly profileSeconds: number
  /** Sessions in the scale run's stores. */
  readonly scaleSessions: number
  readonly out: string
  readonly reuseBuild: boolean
  /** NODE_OPTIONS for the server processes (a V8 flag to try, say). */
  readonly serverNodeOptions: string
  /** Keep V8's memory reducer in the server processes (off by default: "Cold servers"). */
  readonly memoryReducer: boolean
  readonly list: boolean
}

export const HELP = `npm run bench [-- options]     (bench/README.md explains the method)

  --only LIST         what to run, comma-separated (default: everything):
                        http     the HTTP comparison of every default server
                        scale    the scale run (a million sessions, a user's 10,000 sessions,
                                 the cost of importing sessionware)
                        a server name or prefix (sessionware-sealed, express-session, …),
                        a framework (express, fastify, koa, hono: every server on it),
                        a storage (cookie, memory, redis, postgres), sessionware, extra
                      bare node:http (twice), each server's bare framework and the servers its
                      goals compare it with are added
  --routes LIST       none, read (both /read scenarios), read-many, write (default: all)
  --rounds N          paired rounds, 0 to 20 (default 3; 0 only with --profile)
  --duration S        seconds per slice, 1 to 10 (default 1)
  --prewarm S         unmeasured seconds of load on each server right before its slices of a
                      round, 0 to 5 (default 2; see "Cold servers" in bench/README.md)
  --no-restart        keep each server's process for all rounds (default: fresh processes, and
                      cookies, every round but for the scale servers; see "Process luck" in
                      bench/README.md)
  --no-fresh-blocks   start every server at the start of a round, instead of each server and the
                      pair with it afresh right before the server's slices of the round (the
                      default, so that no server is measured after idling; see "Cold servers" in
                      bench/README.md); --fresh-blocks asks for the default
  --warmup S          warm-up seconds per server, every route at once, 0 to 10 (default 1)
  --connections N     keep-alive connections, 1 to 256 (default 32)
  --cookies N         distinct cookies of the rotating /read, 0 to 20000 (default 10000)
  --budget M          minutes the whole run may take, 1 to 60 (default 35): no round starts
                      that would end after it
  --no-pin            do not pin servers and wrk to separate CPUs
  --no-redis-pin      do not pin redis-server to wrk's CPU
  --count-requests N  sequential requests per route counting Redis commands, 0 to 1000 (default 100)
  --mint-timeout S    bound on minting the rotating cookies per server, 1 to 300 (default 90)
  --profile LIST      servers to CPU-profile after their rounds (each scenario, see below)
  --profile-seconds S seconds of load per profiled scenario, 1 to 30 (default 5)
  --scale-sessions N  sessions in the scale run's stores, 1000 to 2000000 (default 1000000)
  --out FILE          the JSON results (default bench/results/latest.json; every run also keeps
                      a copy in runs/ beside it)
  --reuse-build       keep the previous run's compiled servers
  --server-node-options TEXT
                      NODE_OPTIONS of every server process (for example --max-semi-space-size=32)
  --memory-reducer    keep V8's memory reducer in the servers (default: off, so that a server
                      that idled between its blocks is not measured slower; see "Cold servers")
  --list              print the servers and goals, then exit
  --help              this text`

/** An integer option from `min` to `max` (`fallback` when absent); throws naming the option. */
export function bounded(
  name: string,
  raw: string | undefined,
  fallback: number,
  min: number,
  max: number,
) {
  const value = raw === undefined || raw === '' ? fallback : Number(raw)
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got ${raw}`)
  }
  return value
}

const list = (raw: string | undefined): string[] =>
  (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)

/** Parses argv and the BENCH_* environment; null when `--help` was asked. */
export function readConfig(argv: string[] = process.argv.slice(2)): Config | null {
  const { values } = parseArgs({
    args: argv,
    options: {
      only: { type: 'string' },
      routes: { type: 'string' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      prewarm: { type: 'string' },
      'no-restart': { type: 'boolean' },
      'fresh-blocks': { type: 'boolean' },
      'no-fresh-blocks': { type: 'boolean' },
      connections: { type: 'string' },
      cookies: { type: 'string' },
      budget: { type: 'string' },
      'no-pin': { type: 'boolean' },
      'no-redis-pin': { type: 'boolean' },
      'count-requests': { type: 'string' },
      'mint-timeout': { type: 'string' },
      profile: { type: 'string' },
      'profile-seconds': { type: 'string' },
      'scale-sessions': { type: 'string' },
      out: { type: 'string' },
      'reuse-build': { type: 'boolean' },
      'server-node-options': { type: 'string' },
      'memory-reducer': { type: 'boolean' },
      list: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  })
  if (values.help) return null
  const env = (name: string): string | undefined =>
    process.env[`BENCH_${name.toUpperCase().replaceAll('-', '_')}`]
  const text = (name: keyof typeof values): string | undefined =>
    (values[name] as string | undefined) ?? env(name)
  const num = (name: keyof typeof values, fallback: number, min: number, max: number) =>
    bounded(name, text(name), fallback, min, max)
  const routes = list(text('routes'))
  for (const route of routes) {
    if (!['none', 'read', 'read-many', 'write'].includes(route)) {
      throw new Error(`--routes: unknown route ${route} (none, read, read-many, write)`)
    }
  }
  const cookies = num('cookies', 10_000, 0, 20_000)
  const scenarios = SCENARIOS.filter(
    (s) =>
      (routes.length === 0 ||
        routes.includes(s.name) ||
        (s.name === 'read-many' && routes.includes('read'))) &&
      !(s.rotate && cookies === 0),
  )
  const restart = !(values['no-restart'] ?? env('no-restart') === '1')
  const sharedStart = values['no-fresh-blocks'] ?? env('no-fresh-blocks') === '1'
  if (sharedStart && values['fresh-blocks']) {
    throw new Error('--fresh-blocks and --no-fresh-blocks: choose one')
  }
  if (!restart && values['fresh-blocks']) {
    throw new Error('--fresh-blocks starts processes before every block: not with --no-restart')
  }
  const freshBlocks = restart && !sharedStart
  const config: Config = {
    only: list(text('only')),
    scenarios,
    rounds: num('rounds', 3, 0, 20),
    prewarm: num('prewarm', 2, 0, 5),
    restart,
    freshBlocks,
    duration: num('duration', 1, 1, 10),
    warmup: num('warmup', 1, 0, 10),
    connections: num('connections', 32, 1, 256),
    cookies,
    budget: num('budget', 35, 1, 60),
    pin: !(values['no-pin'] ?? env('no-pin') === '1'),
    redisPin: !(values['no-redis-pin'] ?? env('no-redis-pin') === '1'),
    countRequests: num('count-requests', 100, 0, 1000),
    mintTimeout: num('mint-timeout', 90, 1, 300),
    profile: list(text('profile')),
    profileSeconds: num('profile-seconds', 5, 1, 30),
    scaleSessions: num('scale-sessions', SCALE_SESSIONS, 1000, 2_000_000),
    out: text('out') ?? join(ROOT, 'bench', 'results', 'latest.json'),
    reuseBuild: values['reuse-build'] ?? false,
    serverNodeOptions: text('server-node-options') ?? '',
    memoryReducer: values['memory-reducer'] ?? env('memory-reducer') === '1',
    list: values.list ?? false,
  }
  if (config.rounds === 0 && config.profile.length === 0) {
    throw new Error('--rounds 0 measures nothing: give --profile too, or at least one round')
  }
  return config
}
