/**
 * Paired, interleaved rounds. A round loads every server on each of its scenarios once, server by
 * server: a server's block is `N1 X1 N2 X2 N3 X3 N4 X4`, where `Xi` is the server on scenario `i`
 * and `Ni` bare node:http (the pair) right before it on the same route for the same time. The
 * order of the servers changes every round (rotated, and reversed every other round), and so does
 * the order of each server's scenarios, so no server is always measured next to the same
 * neighbour, at the same time of the run, or first on the same route.
 *
 * A server idle for tens of seconds (while the others ran) serves its first second of load at
 * about 0.9 of its speed a second later, and after minutes its first two seconds at a fraction of
 * it (measured; bench/README.md, "Cold servers"). So each block starts with `--prewarm` seconds
 * of unmeasured load on the server's first scenario; from then on the server and the pair
 * alternate, each idle for one slice at a time, so neither is measured colder than the other.
 *
 * @module
 */

import type { Prepared } from './client.ts'
import { type LoadOptions, runLoad } from './load.ts'
import { cpuSeconds, type RunningServer } from './processes.ts'
import { commandDelta, type RedisServer } from './redis-server.ts'
import type { Slice } from './stats.ts'
import { PAIR, type Scenario } from './targets.ts'

/** What the rounds run on. */
export interface RoundPlan {
  /** Every server, the pair (bare node:http) included. */
  readonly servers: ReadonlyMap<string, RunningServer>
  readonly prepared: ReadonlyMap<string, Prepared>
  /** The scenarios every server runs. */
  readonly scenarios: readonly Scenario[]
  readonly rounds: number
  /** Seconds per slice. */
  readonly seconds: number
  /** Unmeasured seconds of load on a server right before its block of slices. */
  readonly prewarm: number
  readonly connections: number
  /** The load generator's CPU. */
  readonly cpu: number | undefined
  readonly redis: RedisServer | undefined
  /** Run before every round but the first (fresh server processes with `--restart`). */
  readonly beforeRound: (() => Promise<void>) | undefined
  /**
   * Run right before a server's block (with `--fresh-blocks`: fresh processes of that server and
   * of the pair, cookies minted and warmed up, so that neither is measured after idling).
   */
  readonly beforeBlock: ((name: string) => Promise<void>) | undefined
  /** Epoch ms after which no new round starts. */
  readonly deadline: number
  /** Called after each server's block of each round with its slices. */
  readonly progress: (round: number, server: RunningServer, slices: Slice[]) => void
}

/** The order of the servers (the pair left out) in a round. */
export function order(names: readonly string[], round: number): string[] {
  const others = names.filter((n) => n !== PAIR)
  if (others.length === 0) return []
  const shift = (round * 5) % others.length
  const rotated = [...others.slice(shift), ...others.slice(0, shift)]
  return round % 2 === 1 ? rotated.reverse() : rotated
}

/** The load of one server in one scenario. */
export function loadOptions(
  plan: Pick<RoundPlan, 'prepared' | 'connections' | 'cpu'>,
  server: RunningServer,
  scenario: Scenario,
  seconds: number,
): LoadOptions {
  const p = plan.prepared.get(server.target.name) as Prepared
  return {
    port: server.port,
    path: `/${scenario.route}`,
    cookieFile: scenario.rotate ? p.manyFile : p.oneFile,
    connections: plan.connections,
    seconds,
    cpu: plan.cpu,
  }
}

async function measure(
  plan: RoundPlan,
  server: RunningServer,
  scenario: Scenario,
): Promise<Omit<Slice, 'round' | 'scenario' | 'target' | 'seq'>> {
  const redis = server.target.storage === 'redis' ? plan.redis : undefined
  const redisCpu = await redis?.cpuSeconds()
  const calls = await redis?.commandCalls()
  const cpu = await cpuSeconds(server)
  const started = performance.now()
  const result = await runLoad(loadOptions(plan, server, scenario, plan.seconds))
  const wallSeconds = (performance.now() - started) / 1000
  const slice = { result, cpuSeconds: (await cpuSeconds(server)) - cpu, wallSeconds }
  if (redis === undefined || redisCpu === undefined || calls === undefined) return slice
  return {
    ...slice,
    redisCpuSeconds: (await redis.cpuSeconds()) - redisCpu,
    redisCommands: commandDelta(calls, await redis.commandCalls()),
  }
}

/**
 * One server's block in a round: its scenarios in a rotated order, each slice right after a bare
 * node:http slice of the same route (`N1 X1 N2 X2 N3 X3 N4 X4`), so the server and the pair
 * alternate and each idles one slice at a time.
 */
function block(
  plan: RoundPlan,
  server: RunningServer,
  rotation: number,
): Array<[RunningServer, Scenario]> {
  const pair = plan.servers.get(PAIR) as RunningServer
  const all = plan.scenarios
  const shift = rotation % all.length
  const scenarios = [...all.slice(shift), ...all.slice(0, shift)]
  return scenarios.flatMap(
    (scenario): Array<[RunningServer, Scenario]> => [
      [pair, scenario],
      [server, scenario],
    ],
  )
}

/** Runs the rounds; returns every slice and how many rounds ran (fewer when the deadline came). */
export async function runRounds(plan: RoundPlan): Promise<{ slices: Slice[]; rounds: number }> {
  const slices: Slice[] = []
  let roundMs = 0
  let round = 0
  for (; round < plan.rounds; round++) {
    if (round > 0 && Date.now() + roundMs > plan.deadline) break
    const began = Date.now()
    if (round > 0) await plan.beforeRound?.()
    let seq = 0
    for (const [index, name] of order([...plan.servers.keys()], round).entries()) {
      await plan.beforeBlock?.(name)
      const server = plan.servers.get(name) as RunningServer
      const sequence = block(plan, server, round + index)
      const first = sequence.find(([s]) => s === server)?.[1]
      if (plan.prewarm > 0 && first !== undefined) {
        await runLoad(loadOptions(plan, server, first, plan.prewarm))
        if (plan.beforeBlock !== undefined) {
          // The pair was started again with the server: one second of its own.
          const pair = plan.servers.get(PAIR) as RunningServer
          await runLoad(loadOptions(plan, pair, first, 1))
        }
      }
      const mine: Slice[] = []
      for (const [s, scenario] of sequence) {
        const m = await measure(plan, s, scenario)
        mine.push({ round, scenario: scenario.name, target: s.target.name, seq: seq++, ...m })
      }
      slices.push(...mine)
      plan.progress(round, server, mine)
    }
    roundMs = Date.now() - began
  }
  return { slices, rounds: round }
}
