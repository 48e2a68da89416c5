/**
 * Paired, interleaved rounds. A round loads every scenario once on every server; within a scenario
 * the sequence is `node, A, node, B, node, C, …, node`: bare node:http (the pair) runs right before
 * and right after each server, the same route for the same time. The order of the servers changes
 * every round (rotated, and reversed every other round), and so does the order of the scenarios,
 * so no server is always measured next to the same neighbour or at the same time of the run.
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
  readonly scenarios: readonly Scenario[]
  /** The scenarios each server runs (all when absent). */
  readonly scenariosOf: ReadonlyMap<string, readonly Scenario[]>
  readonly rounds: number
  /** Seconds per slice. */
  readonly seconds: number
  /** Unmeasured seconds of load on a server right before each of its slices (not the pair's). */
  readonly prewarm: number
  readonly connections: number
  /** The load generator's CPU. */
  readonly cpu: number | undefined
  readonly redis: RedisServer | undefined
  /** Epoch ms after which no new round starts. */
  readonly deadline: number
  /** Called after each scenario of each round with its slices. */
  readonly progress: (round: number, scenario: Scenario, slices: Slice[]) => void
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

/** Runs the rounds; returns every slice and how many rounds ran (fewer when the deadline came). */
export async function runRounds(plan: RoundPlan): Promise<{ slices: Slice[]; rounds: number }> {
  const slices: Slice[] = []
  const pair = plan.servers.get(PAIR) as RunningServer
  let roundMs = 0
  let round = 0
  for (; round < plan.rounds; round++) {
    if (round > 0 && Date.now() + roundMs > plan.deadline) break
    const began = Date.now()
    const shift = round % plan.scenarios.length
    const scenarios = [...plan.scenarios.slice(shift), ...plan.scenarios.slice(0, shift)]
    for (const scenario of scenarios) {
      const sequence = [pair]
      const runs = (name: string): boolean =>
        plan.scenariosOf.get(name)?.some((s) => s.name === scenario.name) ?? true
      for (const name of order([...plan.servers.keys()].filter(runs), round)) {
        sequence.push(plan.servers.get(name) as RunningServer, pair)
      }
      const mine: Slice[] = []
      for (const [seq, server] of sequence.entries()) {
        if (plan.prewarm > 0 && server !== pair) {
          await runLoad(loadOptions(plan, server, scenario, plan.prewarm))
        }
        const m = await measure(plan, server, scenario)
        mine.push({ round, scenario: scenario.name, target: server.target.name, seq, ...m })
      }
      slices.push(...mine)
      plan.progress(round, scenario, mine)
    }
    roundMs = Date.now() - began
  }
  return { slices, rounds: round }
}
