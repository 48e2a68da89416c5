/**
 * One phase of a run (bench/selection.ts): start the services it needs (redis-server,
 * PostgreSQL), start its servers, mint and check their cookies, count Redis commands, warm every
 * server up, run the paired rounds, check that the sessions survived, profile on request, and
 * stop everything, whatever happens.
 *
 * @module
 */

import { mkdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Prepared, prepare, seedSurvived } from './client.ts'
import { runLoad } from './load.ts'
import type { Config } from './options.ts'
import {
  killPostgresServers,
  type PostgresServer,
  postgresBinary,
  startPostgres,
} from './postgres-server.ts'
import {
  cpuSeconds,
  ROOT,
  type RunningServer,
  startProfile,
  startServer,
  stopProfile,
  stopServer,
} from './processes.ts'
import { summarizeProfile } from './profile.ts'
import { type CommandCount, countCommands } from './redis-commands.ts'
import { hasRedisServer, killRedisServers, type RedisServer, startRedis } from './redis-server.ts'
import { loadOptions, runRounds } from './rounds.ts'
import type { Phase } from './selection.ts'
import type { PrefillReport } from './servers/prefill.ts'
import type { Slice } from './stats.ts'
import {
  needsPostgres,
  needsRedis,
  PAIR,
  SCALE_SESSIONS,
  type Scenario,
  type Target,
  targetByName,
} from './targets.ts'

/** Where the processes run. */
export interface Cpus {
  readonly server: number | undefined
  readonly load: number | undefined
  readonly services: number | undefined
}

/** What a phase measured. */
export interface PhaseResult {
  readonly phase: Phase
  /** The servers that ran (those whose service was missing are left out). */
  readonly targets: Target[]
  readonly slices: Slice[]
  readonly rounds: number
  readonly prepared: Record<string, Omit<Prepared, 'oneFile' | 'manyFile'>>
  readonly prefill: Record<string, PrefillReport>
  readonly commandCounts: CommandCount[]
  readonly services: { redis?: string; postgres?: string }
  readonly notes: string[]
  /** The live services, for the in-process scale measurements (stopped by the caller). */
  readonly redis: RedisServer | undefined
  readonly postgres: PostgresServer | undefined
}

const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles')
/** Servers started and prepared at once. */
const LAUNCH_CONCURRENCY = 4

/** Kills the services however the process ends. */
export function killServices(): void {
  killRedisServers()
  killPostgresServers()
}

async function services(phase: Phase, dir: string, cpus: Cpus, notes: string[]) {
  let targets = phase.targets
  let redis: RedisServer | undefined
  let postgres: PostgresServer | undefined
  if (targets.some(needsRedis)) {
    if (hasRedisServer()) redis = await startRedis(dir, cpus.services)
    else {
      notes.push(
        'redis-server is not installed: skipping the Redis servers (apt-get install -y redis-server)',
      )
      targets = targets.filter((t) => !needsRedis(t))
    }
  }
  if (targets.some(needsPostgres)) {
    const initdb = postgresBinary()
    if (initdb !== null) postgres = await startPostgres(initdb, cpus.services)
    else {
      notes.push(
        'PostgreSQL is not installed: skipping the PostgreSQL servers (apt-get install -y postgresql)',
      )
      targets = targets.filter((t) => !needsPostgres(t))
    }
  }
  return { targets, redis, postgres }
}

async function profile(
  config: Config,
  server: RunningServer,
  prepared: Prepared,
  scenarios: readonly Scenario[],
  cpus: Cpus,
) {
  mkdirSync(PROFILE_DIR, { recursive: true })
  const lines: string[] = []
  const plan = {
    prepared: new Map([[server.target.name, prepared]]),
    connections: config.connections,
    cpu: cpus.load,
  }
  for (const scenario of scenarios) {
    const file = join(PROFILE_DIR, `${server.target.name}-${scenario.name}.cpuprofile`)
    await startProfile(server)
    const cpu = await cpuSeconds(server)
    const result = await runLoad(loadOptions(plan, server, scenario, config.profileSeconds))
    const cpuMicros = ((await cpuSeconds(server)) - cpu) * 1e6
    await stopProfile(server, file)
    lines.push(
      '',
      `## CPU profile: ${server.target.name}, ${scenario.name} (${result.requests} requests)`,
    )
    lines.push(...summarizeProfile(file, { requests: result.requests, top: 15, cpuMicros }))
  }
  return lines
}

/** The rotating cookies each server of the phase gets: none when no scenario rotates. */
const rotatingCookies = (phase: Phase, config: Config): number =>
  phase.scenarios.some((s) => s.rotate) ? config.cookies : 0

/** Starts a server (sessionware's create their sessions in-process) and gets its cookies. */
async function launch(
  target: Target,
  phase: Phase,
  config: Config,
  entry: string,
  dir: string,
  cpus: Cpus,
  env: Record<string, string>,
): Promise<{ server: RunningServer; prepared: Prepared; startSeconds: number }> {
  const rotating = rotatingCookies(phase, config)
  // The scale servers fill their stores in-process (bench/servers/prefill.ts).
  const count = target.prefill === SCALE_SESSIONS ? config.scaleSessions : (target.prefill ?? 0)
  const started = Date.now()
  const server = await startServer(entry, target, {
    cpu: cpus.server,
    env: {
      ...env,
      BENCH_SAMPLE: String(rotating),
      ...(count > 0 ? { BENCH_PREFILL: String(count) } : {}),
    },
    readySeconds: target.prefill === undefined ? 120 : 900,
    memoryReducer: config.memoryReducer,
  })
  const startSeconds = (Date.now() - started) / 1000
  try {
    return {
      server,
      prepared: await prepare(server, dir, rotating, config.mintTimeout, cpus.load),
      startSeconds,
    }
  } catch (error) {
    await stopServer(server)
    throw error
  }
}

/** Runs the rounds and everything around them; `deadline` bounds the rounds. */
export async function runPhase(
  phase: Phase,
  config: Config,
  entry: string,
  dir: string,
  cpus: Cpus,
  deadline: number,
  log: (line: string) => void,
): Promise<PhaseResult> {
  const notes: string[] = []
  const { targets, redis, postgres } = await services(phase, dir, cpus, notes)
  const servers = new Map<string, RunningServer>()
  const prepared = new Map<string, Prepared>()
  const commandCounts: CommandCount[] = []
  let outcome: { slices: Slice[]; rounds: number } = { slices: [], rounds: 0 }
  try {
    const env: Record<string, string> = {}
    if (config.serverNodeOptions) env.NODE_OPTIONS = config.serverNodeOptions
    if (redis) env.BENCH_REDIS_URL = redis.url
    if (postgres) env.BENCH_POSTGRES_URL = postgres.url
    // A few servers at a time (the scale servers first: their prefills wait on Redis and
    // PostgreSQL while the others mint); every server at once would starve them all.
    const began = Date.now()
    const one = async (target: Target): Promise<void> => {
      const l = await launch(target, phase, config, entry, dir, cpus, env)
      servers.set(target.name, l.server)
      prepared.set(target.name, l.prepared)
      const p = l.server.prefill
      if (p && target.prefill !== undefined) {
        log(
          `prefill:  ${target.name}: ${p.sessions.toLocaleString('en')} sessions (${p.created.toLocaleString('en')} created one by one) in ${l.startSeconds.toFixed(0)} s`,
        )
      }
      if (l.prepared.cookies < rotatingCookies(phase, config)) {
        notes.push(
          `${target.name}: only ${l.prepared.cookies} rotating cookies (mint bound ${config.mintTimeout} s)`,
        )
      }
    }
    const launchAll = async (list: Target[]): Promise<void> => {
      queue.push(...list)
      const launched = await Promise.allSettled(
        Array.from({ length: LAUNCH_CONCURRENCY }, async () => {
          for (let t = queue.shift(); t !== undefined; t = queue.shift()) await one(t)
        }),
      )
      const failed = launched.find((r) => r.status === 'rejected')
      if (failed) throw (failed as PromiseRejectedResult).reason
    }
    const queue: Target[] = []
    await launchAll(
      [...targets].sort(
        (a, b) => Number(b.prefill !== undefined) - Number(a.prefill !== undefined),
      ),
    )
    log(
      `setup:    ${servers.size} servers started, cookies made and every route checked in ${((Date.now() - began) / 1000).toFixed(0)} s`,
    )
    // The rounds run the servers in the order of TARGETS.
    const ordered = new Map(targets.map((t) => [t.name, servers.get(t.name) as RunningServer]))
    if (redis !== undefined && config.countRequests > 0) {
      for (const server of ordered.values()) {
        if (!needsRedis(server.target)) continue
        const p = prepared.get(server.target.name) as Prepared
        commandCounts.push(
          ...(await countCommands(redis, server, p, phase.scenarios, config.countRequests)),
        )
      }
    }
    const warmUp = async (list: Iterable<RunningServer>): Promise<void> => {
      for (const server of list) {
        const paths = [...new Set(phase.scenarios.map((s) => `/${s.route}`))].join(',')
        const p = prepared.get(server.target.name) as Prepared
        const cookieFile = p.cookies > 0 ? p.manyFile : p.oneFile
        await runLoad({
          port: server.port,
          path: paths,
          cookieFile,
          connections: config.connections,
          seconds: config.warmup,
          cpu: cpus.load,
        })
      }
    }
    if (config.warmup > 0) {
      await warmUp(ordered.values())
      log(`warm-up:  ${config.warmup} s per server, every route at once`)
    }
    // Fresh blocks (the default): a fresh process (and cookies) of every server but the scale servers (whose fill
    // takes minutes), and of the pair, right before each of its blocks. A process's speed is
    // partly luck (how V8 compiled it), which fresh processes average out; and a process that
    // idled for minutes while the others ran can stay slower under load for as long as it is
    // measured (bench/README.md, "Cold servers"), which a process started just before does not.
    // The pair too: kept through the run, it idled while each server started, and read 0.76–0.82
    // of the fresh second bare node:http (measured).
    const restart = async (target: Target): Promise<void> => {
      await stopServer(ordered.get(target.name) as RunningServer)
      await one(target)
      const server = servers.get(target.name) as RunningServer
      ordered.set(target.name, server)
      if (config.warmup > 0) await warmUp([server])
    }
    // --no-fresh-blocks (with restarts): fresh processes (and cookies) of every server but the
    // scale servers before every round but the first, all at once.
    const restartAll = async (): Promise<void> => {
      const again = targets.filter((t) => t.prefill === undefined)
      await Promise.all(again.map((t) => stopServer(servers.get(t.name) as RunningServer)))
      await launchAll(again)
      for (const t of again) ordered.set(t.name, servers.get(t.name) as RunningServer)
      if (config.warmup > 0) await warmUp(again.map((t) => ordered.get(t.name) as RunningServer))
      log(`restart:  ${again.length} servers started again`)
    }
    const pairTarget = targets.find((t) => t.name === PAIR)
    const restartOne = async (name: string): Promise<void> => {
      const target = targets.find((t) => t.name === name)
      if (target === undefined || target.prefill !== undefined || pairTarget === undefined) return
      await restart(pairTarget)
      await restart(target)
    }
    outcome = await runRounds({
      beforeRound: config.restart && !config.freshBlocks ? restartAll : undefined,
      beforeBlock: config.freshBlocks ? restartOne : undefined,
      servers: ordered,
      prepared,
      scenarios: phase.scenarios,
      rounds: config.rounds,
      seconds: config.duration,
      prewarm: config.prewarm,
      connections: config.connections,
      cpu: cpus.load,
      redis,
      deadline,
      progress: (round, server, slices) => {
        const ratios = slices
          .filter((s) => s.target === server.target.name)
          .map((s) => {
            const pair = slices.find((p) => p.target === 'node' && p.scenario === s.scenario)
            return `${s.scenario} ${pair ? (s.result.rps / pair.result.rps).toFixed(2) : '?'}`
          })
        log(`round ${round + 1} ${server.target.name.padEnd(27)} ${ratios.join(' | ')}`)
      },
    })
    for (const server of ordered.values()) {
      const seed = readFileSync(
        (prepared.get(server.target.name) as Prepared).oneFile,
        'utf8',
      ).trim()
      if (!(await seedSurvived(server, seed)))
        notes.push(`${server.target.name}: the seed session did not survive the load`)
    }
    for (const name of config.profile) {
      const server = ordered.get(name)
      if (server === undefined) continue
      const lines = await profile(
        config,
        server,
        prepared.get(name) as Prepared,
        phase.scenarios,
        cpus,
      )
      for (const line of lines) log(line)
    }
  } finally {
    await Promise.all([...servers.values()].map(stopServer))
    if (!phase.inProcess) {
      await redis?.stop()
      await postgres?.stop()
    }
  }
  for (const server of servers.values()) {
    if (/error/i.test(server.stderr))
      notes.push(`stderr of ${server.target.name}: ${server.stderr.trim().slice(0, 2000)}`)
  }
  const strip = ({ oneFile: _a, manyFile: _b, ...rest }: Prepared) => rest
  const reports = [...servers].filter(
    ([name, s]) => s.prefill && targetByName(name)?.prefill !== undefined,
  )
  return {
    phase,
    targets,
    slices: outcome.slices,
    rounds: outcome.rounds,
    prepared: Object.fromEntries([...prepared].map(([name, p]) => [name, strip(p)])),
    prefill: Object.fromEntries(
      reports.map(([name, s]) => [
        name,
        { ...(s.prefill as PrefillReport), cookies: [], seed: '' },
      ]),
    ),
    commandCounts,
    services: {
      ...(redis ? { redis: redis.version } : {}),
      ...(postgres ? { postgres: postgres.version } : {}),
    },
    notes,
    redis: phase.inProcess ? redis : undefined,
    postgres: phase.inProcess ? postgres : undefined,
  }
}
