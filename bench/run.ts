/**
 * The benchmark: `npm run bench [-- options]` (`--help` lists them; bench/README.md explains the
 * method and how to read the ratios).
 *
 * sessionware on node:http, Express, Fastify, Koa and Hono, each framework's usual session
 * libraries, the bare frameworks and bare node:http, each in its own process pinned to one core,
 * loaded by wrk pinned to the other, in paired interleaved rounds (bench/rounds.ts): bare
 * node:http right before and after every server. Then the scale run: stores holding a million
 * sessions, a user's 10,000 sessions, the cost of importing sessionware. The whole run is bounded
 * by `--budget` (35 minutes by default).
 *
 * @module
 */

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { GOALS } from './goals.ts'
import { wrkVersion } from './load.ts'
import { gitCommit, hasTaskset, loadAverage, machine, packageVersion } from './machine.ts'
import { HELP, readConfig } from './options.ts'
import { type Cpus, killServices, type PhaseResult, runPhase } from './phase.ts'
import { buildServers } from './processes.ts'
import { measureImports, measureSweep, measureUserSessions } from './scale.ts'
import { type Phase, phases } from './selection.ts'
import { phaseReport, type ScaleFigures, scaleLines } from './summary.ts'
import { hasSessions, TARGETS, targetByName } from './targets.ts'

/** Seconds a run is expected to take (wrk slices plus a little per slice, warm-up, setup). */
function estimate(phase: Phase, rounds: number, duration: number, warmup: number, prewarm: number) {
  // Every server but the pair runs each scenario of the phase, each slice next to one of the pair.
  const servers = phase.targets.length - 1
  const slices = 2 * servers * phase.scenarios.length
  const perRound = slices * (duration + 0.1) + (prewarm > 0 ? servers * (prewarm + 0.1) : 0)
  // Starting a server and minting its cookies over HTTP about 5 s (four at a time); the fills of
  // the scale stores run side by side, about 80 s for a million sessions each.
  const minting = phase.targets.filter((t) => hasSessions(t) && t.prefill === undefined).length
  const fills = phase.targets.some((t) => t.prefill !== undefined)
  const setup = 20 + minting * 5 + (fills ? 80 : 0)
  const inProcess = phase.inProcess ? 60 : 0
  // --restart: each later round starts the servers again (not the filled ones) and mints again;
  // fresh blocks (the default): every round, each server and the pair with it, one at a time.
  // Scaled to what runs took (2026-12-03: 1,136 s for the full run with 3 rounds, against 1,218 s
  // for --no-fresh-blocks, whose estimate of 24 minutes this keeps).
  const restarted = phase.targets.filter((t) => t.prefill === undefined).length
  const again = restarted * (warmup + 0.5) + minting * 4
  const fresh = (restarted - 1) * (warmup + 0.5) + minting * 2
  return {
    perRound,
    again,
    fresh,
    total: rounds * perRound + phase.targets.length * (warmup + 0.15) + setup + inProcess,
  }
}

function listTargets(): void {
  for (const t of TARGETS) console.log(`${t.name.padEnd(28)} ${t.group.padEnd(8)} ${t.label}`)
  console.log('\ngoals:')
  for (const g of GOALS) {
    console.log(
      `  issue ${g.issue}: ${g.target} ≥ ${g.min} × ${g.versus} on ${g.scenarios.join(', ')}`,
    )
  }
}

async function postgresTableBytes(url: string, table: string): Promise<number> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: url })
  await client.connect()
  try {
    const { rows } = await client.query(`SELECT pg_total_relation_size('"${table}"')::bigint AS n`)
    return Number((rows[0] as { n: string }).n)
  } finally {
    await client.end()
  }
}

async function scaleFigures(
  result: PhaseResult,
  log: (line: string) => void,
): Promise<ScaleFigures> {
  log('scale:    a user with 10,000 sessions, the memory store sweep, importing sessionware')
  const redisTarget = targetByName('sessionware-redis-1m')
  const pgTarget = targetByName('sessionware-postgres-1m')
  const redisBytes = await result.redis?.memoryBytes()
  const postgresBytes =
    result.postgres && pgTarget?.table
      ? await postgresTableBytes(result.postgres.url, pgTarget.table)
      : undefined
  const users = await measureUserSessions(
    result.redis,
    result.postgres,
    redisTarget?.redisPrefix ?? 'bench:user:',
    pgTarget?.table ?? 'bench_user',
  )
  const records = Math.max(...Object.values(result.prefill).map((p) => p?.sessions ?? 0), 0)
  const sweep = records > 0 ? await measureSweep(records) : undefined
  const imports = measureImports(['index', 'adapters/node'])
  return { users, sweep, imports, redisBytes, postgresBytes }
}

async function main(): Promise<void> {
  const config = readConfig()
  if (config === null) {
    console.log(HELP)
    return
  }
  if (config.list) {
    listTargets()
    return
  }
  const wrk = wrkVersion()
  const plan = phases(config)
  const info = machine()
  const pinned = config.pin && info.cores >= 2 && hasTaskset()
  const cpus: Cpus = {
    server: pinned ? 0 : undefined,
    load: pinned ? 1 : undefined,
    services: pinned && config.redisPin ? 1 : undefined,
  }
  const began = Date.now()
  const deadline = began + config.budget * 60_000
  const estimates = plan.map((p) => {
    const e = estimate(p, config.rounds, config.duration, config.warmup, config.prewarm)
    const again = config.freshBlocks
      ? config.rounds * e.fresh
      : config.restart
        ? (config.rounds - 1) * e.again
        : 0
    return { perRound: e.perRound, total: e.total + again }
  })
  const expected = estimates.reduce((s, e) => s + e.total, 0)
  const load0 = loadAverage()
  const log = (line: string): void => console.log(line)
  log('sessionware benchmark')
  log(
    `machine:  ${info.cpu}, ${info.cores} cores, ${info.memoryGb} GB, ${info.os}, Node ${info.node}`,
  )
  log(`commit:   ${gitCommit()}, ${new Date().toISOString()}`)
  log(
    `load:     wrk ${wrk} (1 thread, ${config.connections} connections, keep-alive); load average ${load0}`,
  )
  log(
    `cpus:     ${pinned ? 'servers on CPU 0; wrk, redis-server and PostgreSQL on CPU 1' : 'not pinned'}`,
  )
  log(
    `rounds:   ${config.rounds} × (every scenario × every server, ${config.duration} s slices, each next to bare node:http on the same route); warm-up ${config.warmup} s per server${config.prewarm > 0 ? `; ${config.prewarm} s of unmeasured load on each server before its slices of a round` : ''}${config.freshBlocks ? '; fresh processes of each server and of the pair right before its slices of a round' : config.restart ? '; fresh server processes every round' : ''}`,
  )
  for (const [i, p] of plan.entries()) {
    log(
      `${p.name.padEnd(9)} ${p.targets.length} servers: ${p.targets.map((t) => t.name).join(', ')}; routes ${p.scenarios.map((s) => s.name).join(', ')}; about ${Math.round((estimates[i]?.total ?? 0) / 60)} min`,
    )
  }
  log(
    `budget:   ${config.budget} min; expected about ${Math.round(expected / 60)} min${expected > config.budget * 60 ? ' (over budget: later rounds will be dropped)' : ''}`,
  )
  if (config.rounds < 3) log('note:     fewer than 3 rounds: the spreads say little')
  if (config.serverNodeOptions) log(`servers:  NODE_OPTIONS=${config.serverNodeOptions}`)
  log(`servers:  V8's memory reducer ${config.memoryReducer ? 'on (--memory-reducer)' : 'off'}`)

  const entry = buildServers(config.reuseBuild)
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-bench-'))
  process.once('exit', killServices)
  const onSignal = (signal: NodeJS.Signals): void => {
    killServices()
    rmSync(dir, { recursive: true, force: true })
    console.error(`\n${signal}: benchmark stopped`)
    process.exit(signal === 'SIGINT' ? 130 : 143)
  }
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)

  const results: Array<{ result: PhaseResult; goals: unknown; scale?: ScaleFigures }> = []
  const printed: string[] = []
  try {
    for (const [i, phase] of plan.entries()) {
      const later = estimates.slice(i + 1).reduce((s, e) => s + e.total, 0)
      log(`\n== ${phase.name} ==`)
      const result = await runPhase(phase, config, entry, dir, cpus, deadline - later * 1000, log)
      if (result.rounds < config.rounds)
        log(`note:     ${result.rounds} of ${config.rounds} rounds ran (the --budget)`)
      const report = phaseReport(
        result,
        config.cookies,
        config.connections,
        config.duration,
        config.scaleSessions,
        config.prewarm,
      )
      let scale: ScaleFigures | undefined
      if (phase.inProcess) {
        try {
          scale = await scaleFigures(result, log)
          report.lines.push(...scaleLines(result, scale))
        } finally {
          await result.redis?.stop()
          await result.postgres?.stop()
        }
      }
      printed.push(...report.lines)
      log(report.lines.join('\n'))
      results.push({ result, goals: report.goals, ...(scale ? { scale } : {}) })
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
  const elapsed = (Date.now() - began) / 1000
  log(`\nload average ${load0} before, ${loadAverage()} after; ${Math.round(elapsed)} s in all`)
  const versions = Object.fromEntries(
    [...new Set(TARGETS.flatMap((t) => (t.packageName ? [t.packageName] : [])))].map((n) => [
      n,
      packageVersion(n),
    ]),
  )
  mkdirSync(dirname(config.out), { recursive: true })
  const json = {
    date: new Date(began).toISOString(),
    commit: gitCommit(),
    machine: info,
    wrk,
    pinned,
    config,
    versions: { ...versions, redis: packageVersion('redis'), pg: packageVersion('pg') },
    loadAverage: { before: load0, after: loadAverage() },
    elapsedSeconds: elapsed,
    phases: results.map(({ result, goals, scale }) => ({
      name: result.phase.name,
      targets: result.targets.map((t) => t.name),
      scenarios: result.phase.scenarios.map((s) => s.name),
      rounds: result.rounds,
      services: result.services,
      prepared: result.prepared,
      prefill: result.prefill,
      commandCounts: result.commandCounts,
      notes: result.notes,
      goals,
      scale,
      slices: result.slices,
    })),
  }
  // The next run overwrites `out`, a small one too: every run also keeps a copy of its own.
  const kept = join(
    dirname(config.out),
    'runs',
    `${json.date.replace(/[:.]/g, '-')}-${json.commit.split(/[ ,]/)[0]}.json`,
  )
  mkdirSync(dirname(kept), { recursive: true })
  const text = `${JSON.stringify(json, null, 1)}\n`
  const tables = `${printed.join('\n')}\n`
  for (const file of [config.out, kept]) {
    writeFileSync(file, text)
    writeFileSync(file.replace(/\.json$/, '.md'), tables)
  }
  log(
    `results:  ${relative(process.cwd(), config.out)} (and .md), kept as ${relative(process.cwd(), kept)}`,
  )
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
