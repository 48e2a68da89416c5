/**
 * From slices to ratios. Every slice of a server is paired with the bare node:http slice right
 * before or right after it (the same route, the same duration; both when there are two): its
 * ratio in that round is its req/s over that slice's. A comparison of two servers (A against B) is, per round, A's
 * ratio over B's: node:http cancels out, and so does most of the machine's drift between their
 * slices. Over the rounds, each ratio is summarized by its median and its spread (min–max).
 *
 * The same is done with requests per CPU second of the server process (req/CPU-s), which other
 * processes on a shared machine disturb far less: a cross-check, not the figure the goals use.
 *
 * @module
 */

import type { LoadResult } from './load.ts'
import { PAIR, type Scenario } from './targets.ts'

/** One measured slice. */
export interface Slice {
  readonly round: number
  readonly scenario: Scenario['name']
  readonly target: string
  /** Its position in the round's sequence (a pair is the neighbour on the same route). */
  readonly seq: number
  readonly result: LoadResult
  /** CPU seconds the server process used during the slice. */
  readonly cpuSeconds: number
  /** Wall seconds of the slice, as the orchestrator saw it. */
  readonly wallSeconds: number
  /** CPU seconds redis-server used during the slice (Redis targets). */
  readonly redisCpuSeconds?: number
  /** Calls per Redis command during the slice (Redis targets). */
  readonly redisCommands?: Record<string, number>
}

/** A median and its spread over the rounds. */
export interface Spread {
  readonly median: number
  readonly min: number
  readonly max: number
  /** How many rounds it summarizes. */
  readonly n: number
}

/** The two metrics: requests per wall second, and per CPU second of the server. */
export type Metric = 'rps' | 'cpu'

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2
}

export function spread(values: readonly number[]): Spread {
  const finite = values.filter(Number.isFinite)
  return {
    median: median(finite),
    min: Math.min(...finite),
    max: Math.max(...finite),
    n: finite.length,
  }
}

/** The value of a slice in a metric. */
export function value(slice: Slice, metric: Metric): number {
  if (metric === 'rps') return slice.result.rps
  return slice.cpuSeconds > 0 ? slice.result.requests / slice.cpuSeconds : Number.NaN
}

const key = (target: string, scenario: string): string => `${target}\u0000${scenario}`

/** Per server and scenario: its ratio to the paired node:http slices, one per round. */
export class PairedRatios {
  readonly #byKey = new Map<string, Map<number, { rps: number; cpu: number }>>()

  constructor(slices: readonly Slice[]) {
    const bySeq = new Map<string, Slice>()
    for (const slice of slices) bySeq.set(`${slice.round}\u0000${slice.seq}`, slice)
    for (const slice of slices) {
      if (slice.target === PAIR) continue
      const around = [slice.seq - 1, slice.seq + 1]
        .map((seq) => bySeq.get(`${slice.round}\u0000${seq}`))
        .filter((s): s is Slice => s?.target === PAIR && s.scenario === slice.scenario)
      if (around.length === 0) continue
      const base = (metric: Metric): number =>
        around.reduce((sum, s) => sum + value(s, metric), 0) / around.length
      const k = key(slice.target, slice.scenario)
      const rounds = this.#byKey.get(k) ?? new Map()
      rounds.set(slice.round, {
        rps: value(slice, 'rps') / base('rps'),
        cpu: value(slice, 'cpu') / base('cpu'),
      })
      this.#byKey.set(k, rounds)
    }
  }

  /** The per-round ratios of a server to node:http (round → ratio). */
  rounds(target: string, scenario: string, metric: Metric): Map<number, number> {
    const out = new Map<number, number>()
    if (target === PAIR) return out
    for (const [round, r] of this.#byKey.get(key(target, scenario)) ?? []) out.set(round, r[metric])
    return out
  }

  /** A server against node:http. */
  vsNode(target: string, scenario: string, metric: Metric): Spread | undefined {
    const values = [...this.rounds(target, scenario, metric).values()]
    return values.length === 0 ? undefined : spread(values)
  }

  /** Server `a` against server `b` (per round, `a`'s ratio over `b`'s; node:http when `b` is it). */
  compare(a: string, b: string, scenario: string, metric: Metric): Spread | undefined {
    if (b === PAIR) return this.vsNode(a, scenario, metric)
    const ra = this.rounds(a, scenario, metric)
    const rb = this.rounds(b, scenario, metric)
    const values: number[] = []
    for (const [round, x] of ra) {
      const y = rb.get(round)
      if (y !== undefined) values.push(x / y)
    }
    return values.length === 0 ? undefined : spread(values)
  }
}

/** `0.43 (0.40–0.47)`, or `–` when there is nothing. */
export function formatSpread(s: Spread | undefined, digits = 2): string {
  if (s === undefined || !Number.isFinite(s.median)) return '–'
  const f = (x: number): string => x.toFixed(digits)
  return s.n > 1 ? `${f(s.median)} (${f(s.min)}–${f(s.max)})` : f(s.median)
}
