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
import type { Slice } from './stats.ts'
import { needsPostgres, needsRedis, type Target } from './targets.ts'

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
  readonly prefill: Record<string, RunningServer['prefill']>
  readonly commandCounts: CommandCount[]
  readonly services: { redis?: string; postgres?: string }
  readonly notes: string[]
  /** The live services, for the in-process scale measurements (stopped by the caller). */
  readonly redis: RedisServer | undefined
  readonly postgres: PostgresServer | undefined
}

const PROFILE_DIR = join(ROOT, 'bench', 'results', 'profiles')

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
  phase: Phase,
  cpus: Cpus,
) {
  mkdirSync(PROFILE_DIR, { recursive: true })
  const lines: string[] = []
  for (const scenario of phase.scenarios) {
    const file = join(PROFILE_DIR, `${server.target.name}-${scenario.name}.cpuprofile`)
    await startProfile(server)
    const options = loadOptions(
      {
        prepared: new Map([[server.target.name, prepared]]),
        connections: config.connections,
        cpu: cpus.load,
      },
      server,
      scenario,
      config.profileSeconds,
    )
    const result = await runLoad(options)
    await stopProfile(server, file)
    lines.push(
      '',
      `## CPU profile: ${server.target.name}, ${scenario.name} (${result.requests} requests)`,
    )
    lines.push(...summarizeProfile(file, { requests: result.requests, top: 15 }))
  }
  return lines
}

/** Runs one phase; `deadline` bounds its rounds; `dir` holds the cookie files. */
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
    const env: Record<string, string> = { BENCH_SAMPLE: String(config.cookies) }
    if (redis) env.BENCH_REDIS_URL = redis.url
    if (postgres) env.BENCH_POSTGRES_URL = postgres.url
    for (const target of targets) {
      const prefill: Record<string, string> =
        target.prefill === undefined ? {} : { BENCH_PREFILL: String(config.scaleSessions) }
      const started = Date.now()
      const server = await startServer(entry, target, {
        cpu: cpus.server,
        env: { ...env, ...prefill },
        readySeconds: target.prefill === undefined ? 60 : 900,
      })
      servers.set(target.name, server)
      if (server.prefill) {
        const p = server.prefill
        log(
          `prefill:  ${target.name}: ${p.sessions.toLocaleString('en')} sessions (${p.created.toLocaleString('en')} created one by one) in ${((Date.now() - started) / 1000).toFixed(0)} s`,
        )
      }
    }
    for (const server of servers.values()) {
      const p = await prepare(
        server,
        dir,
        phase.scenarios.some((s) => s.rotate) ? config.cookies : 0,
        config.mintTimeout,
      )
      prepared.set(server.target.name, p)
      if (
        p.cookies < config.cookies &&
        server.target.kind !== 'bare' &&
        phase.scenarios.some((s) => s.rotate)
      ) {
        notes.push(
          `${server.target.name}: only ${p.cookies} rotating cookies (mint bound ${config.mintTimeout} s)`,
        )
      }
    }
    log(`setup:    cookies minted and every route checked on ${servers.size} servers`)
    if (redis !== undefined && config.countRequests > 0) {
      for (const server of servers.values()) {
        if (!needsRedis(server.target)) continue
        const p = prepared.get(server.target.name) as Prepared
        commandCounts.push(
          ...(await countCommands(redis, server, p, phase.scenarios, config.countRequests)),
        )
      }
    }
    if (config.warmup > 0) {
      const paths = [...new Set(phase.scenarios.map((s) => `/${s.route}`))].join(',')
      for (const server of servers.values()) {
        const p = prepared.get(server.target.name) as Prepared
        const file = p.cookies > 0 ? p.manyFile : p.oneFile
        await runLoad({
          port: server.port,
          path: paths,
          cookieFile: file,
          connections: config.connections,
          seconds: config.warmup,
          cpu: cpus.load,
        })
      }
      log(`warm-up:  ${config.warmup} s per server, every route at once`)
    }
    outcome = await runRounds({
      servers,
      prepared,
      scenarios: phase.scenarios,
      rounds: config.rounds,
      seconds: config.duration,
      connections: config.connections,
      cpu: cpus.load,
      redis,
      deadline,
      progress: (round, scenario, slices) => {
        const pair = slices.filter((s) => s.target === 'node').map((s) => s.result.rps)
        const base = pair.reduce((a, b) => a + b, 0) / Math.max(1, pair.length)
        const parts = slices
          .filter((s) => s.target !== 'node')
          .map((s) => `${s.target} ${(s.result.rps / base).toFixed(2)}`)
        log(
          `round ${round + 1} ${scenario.name.padEnd(9)} node ${Math.round(base)} req/s | ${parts.join(' | ')}`,
        )
      },
    })
    for (const server of servers.values()) {
      const seed = readFileSync(
        (prepared.get(server.target.name) as Prepared).oneFile,
        'utf8',
      ).trim()
      if (!(await seedSurvived(server, seed)))
        notes.push(`${server.target.name}: the seed session did not survive the load`)
    }
    for (const name of config.profile) {
      const server = servers.get(name)
      if (server !== undefined) {
        for (const line of await profile(
          config,
          server,
          prepared.get(name) as Prepared,
          phase,
          cpus,
        ))
          log(line)
      }
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
  return {
    phase,
    targets,
    slices: outcome.slices,
    rounds: outcome.rounds,
    prepared: Object.fromEntries([...prepared].map(([name, p]) => [name, strip(p)])),
    prefill: Object.fromEntries(
      [...servers]
        .filter(([, s]) => s.prefill)
        .map(([name, s]) => [
          name,
          { ...s.prefill, cookies: [], seed: '' } as RunningServer['prefill'],
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
