/**
 * The tables a run prints: every server against bare node:http and against its bare framework,
 * sessionware against each framework's usual session library, the goals with ✓ or ✗, the drift
 * of the second bare node:http, and the busy session (one hot session written by every
 * connection). Every ratio is a median over the rounds with its spread (min–max).
 *
 * @module
 */

import { GOALS, type Goal } from './goals.ts'
import { formatSpread, type Metric, median, type PairedRatios, type Slice } from './stats.ts'
import {
  DRIFT,
  frameworkBaseline,
  PAIR,
  type Scenario,
  scenarioLabel,
  type Target,
  targetByName,
} from './targets.ts'

/** An aligned Markdown table. */
export function table(rows: string[][], align: Array<'l' | 'r'>): string[] {
  const widths = align.map((_, c) => Math.max(3, ...rows.map((r) => (r[c] ?? '').length)))
  const line = (r: string[]): string =>
    `| ${r.map((cell, c) => (align[c] === 'r' ? cell.padStart(widths[c] as number) : cell.padEnd(widths[c] as number))).join(' | ')} |`
  const rule = `|${align.map((a, c) => (a === 'r' ? `${'-'.repeat((widths[c] as number) + 1)}:` : `:${'-'.repeat((widths[c] as number) + 1)}`)).join('|')}|`
  const [head, ...body] = rows
  return [line(head as string[]), rule, ...body.map(line)]
}

const labelOf = (name: string): string => targetByName(name)?.label ?? name

/** What the report needs. */
export interface ReportInput {
  readonly targets: readonly Target[]
  readonly scenarios: readonly Scenario[]
  readonly ratios: PairedRatios
  readonly slices: readonly Slice[]
  readonly rounds: number
  readonly cookies: number
}

function header(input: ReportInput, first: string): string[] {
  return [first, ...input.scenarios.map((s) => `\`${scenarioLabel(s, input.cookies)}\``)]
}

/** Every server against bare node:http. */
export function nodeTable(input: ReportInput, metric: Metric): string[] {
  const rows = [header(input, 'server')]
  for (const t of input.targets) {
    if (t.name === PAIR) continue
    rows.push([
      t.label,
      ...input.scenarios.map((s) => formatSpread(input.ratios.vsNode(t.name, s.name, metric))),
    ])
  }
  return table(rows, ['l', ...input.scenarios.map(() => 'r' as const)])
}

/** Each server on a framework against that bare framework (both paired with node:http). */
export function frameworkTable(input: ReportInput): string[] {
  const rows = [header(input, 'server')]
  for (const t of input.targets) {
    if (t.framework === 'node' || t.kind === 'bare') continue
    const base = frameworkBaseline(t).name
    if (!input.targets.some((x) => x.name === base)) continue
    rows.push([
      t.label,
      ...input.scenarios.map((s) =>
        formatSpread(input.ratios.compare(t.name, base, s.name, 'rps')),
      ),
    ])
  }
  return rows.length > 1 ? table(rows, ['l', ...input.scenarios.map(() => 'r' as const)]) : []
}

/** sessionware against each rival its goals name (the same framework and kind of storage). */
export function rivalTable(input: ReportInput): string[] {
  const names = new Set(input.targets.map((t) => t.name))
  const pairs = new Map<string, [string, string]>()
  for (const g of GOALS) {
    if (g.versus !== PAIR && names.has(g.target) && names.has(g.versus)) {
      pairs.set(`${g.target}|${g.versus}`, [g.target, g.versus])
    }
  }
  const rows = [['sessionware server', ...header(input, 'compared with')]]
  for (const [a, b] of pairs.values()) {
    rows.push([
      labelOf(a),
      labelOf(b),
      ...input.scenarios.map((s) => formatSpread(input.ratios.compare(a, b, s.name, 'rps'))),
    ])
  }
  return rows.length > 1 ? table(rows, ['l', 'l', ...input.scenarios.map(() => 'r' as const)]) : []
}

/** One result per goal and scenario measured. */
export interface GoalResult {
  readonly goal: Goal
  readonly scenario: Scenario['name']
  readonly median: number
  readonly min: number
  readonly max: number
  readonly cpuMedian: number
  readonly pass: boolean
  /** The goal's ceiling server over `versus` (median req/s ratio), when it was measured. */
  readonly ceiling: number
  /** The goal's floor of a lazy API over `versus` (median req/s ratio), when it was measured. */
  readonly floor: number
  /**
   * Missed, and so did the ceiling or the floor of a lazy API: out of reach on this machine (for
   * any library with sessionware's API, when only the floor missed).
   */
  readonly outOfReach: boolean
}

/** The goals whose servers and scenarios this run measured. */
export function goalResults(input: ReportInput): GoalResult[] {
  const names = new Set(input.targets.map((t) => t.name))
  const out: GoalResult[] = []
  for (const goal of GOALS) {
    if (!names.has(goal.target) || !names.has(goal.versus)) continue
    for (const scenario of goal.scenarios) {
      const s = input.ratios.compare(goal.target, goal.versus, scenario, 'rps')
      if (s === undefined || !input.scenarios.some((x) => x.name === scenario)) continue
      const cpu = input.ratios.compare(goal.target, goal.versus, scenario, 'cpu')
      const ceilingVersus = goal.ceilingVersus ?? goal.versus
      const ceiling =
        goal.ceiling !== undefined && names.has(goal.ceiling) && names.has(ceilingVersus)
          ? input.ratios.compare(goal.ceiling, ceilingVersus, scenario, 'rps')
          : undefined
      const floor =
        goal.floor !== undefined && names.has(goal.floor)
          ? input.ratios.compare(goal.floor, goal.versus, scenario, 'rps')
          : undefined
      const pass = s.median >= goal.min
      const ceilingMedian = ceiling?.median ?? Number.NaN
      const floorMedian = floor?.median ?? Number.NaN
      out.push({
        goal,
        scenario,
        ...s,
        cpuMedian: cpu?.median ?? Number.NaN,
        ceiling: ceilingMedian,
        floor: floorMedian,
        pass,
        // A ceiling or floor that was not measured (NaN) compares false: never beyond it.
        outOfReach: !pass && (ceilingMedian < goal.min || floorMedian < goal.min),
      })
    }
  }
  return out
}

/** The goals as lines: ✓/✗, issue, servers, route, target, median (min–max), req/CPU-s. */
export function goalLines(
  results: readonly GoalResult[],
  cookies: number,
  scenarios: readonly Scenario[],
): string[] {
  const label = (name: string): string => {
    const s = scenarios.find((x) => x.name === name)
    return s ? scenarioLabel(s, cookies) : name
  }
  const rows = [
    [
      '',
      'issue',
      'server',
      'compared with',
      'route',
      'goal',
      'req/s: median (min–max)',
      'req/CPU-s',
      'ceiling',
      'floor of a lazy API',
    ],
  ]
  for (const r of results) {
    rows.push([
      r.pass ? '✓' : r.outOfReach ? '⊘' : '✗',
      String(r.goal.issue),
      labelOf(r.goal.target),
      labelOf(r.goal.versus),
      label(r.scenario),
      `≥ ${r.goal.min.toFixed(2)}`,
      formatSpread({ median: r.median, min: r.min, max: r.max, n: 2 }),
      Number.isFinite(r.cpuMedian) ? r.cpuMedian.toFixed(2) : '–',
      Number.isFinite(r.ceiling)
        ? `${r.ceiling.toFixed(2)} (${labelOf(r.goal.ceiling ?? '')})`
        : '–',
      Number.isFinite(r.floor) ? r.floor.toFixed(2) : '–',
    ])
  }
  return rows.length > 1 ? table(rows, ['l', 'r', 'l', 'l', 'l', 'r', 'r', 'r', 'l', 'r']) : []
}

/** The second bare node:http against the first: drift of the run. */
export function driftLine(input: ReportInput): string {
  const parts = input.scenarios.map(
    (s) => `${s.name} ${formatSpread(input.ratios.vsNode(DRIFT, s.name, 'rps'))}`,
  )
  return `drift (${labelOf(DRIFT)} / ${labelOf(PAIR)}, should be about 1.00): ${parts.join(', ')}`
}

/** Median req/s of the pair per scenario: how fast the machine was (context only). */
export function pairSpeedLine(input: ReportInput): string {
  const parts = input.scenarios.map((s) => {
    const values = input.slices
      .filter((x) => x.target === PAIR && x.scenario === s.name)
      .map((x) => x.result.rps)
    return `${s.name} ${Math.round(median(values)).toLocaleString('en')}`
  })
  return `bare node:http req/s, median of its slices (the machine's speed, not comparable across runs): ${parts.join(', ')}`
}

/** The busy session: `/write` with one cookie, every connection writing the same session. */
export function busySessionLines(input: ReportInput, connections: number): string[] {
  const rows = [
    ['server', 'req/s (median)', 'p50 ms', 'p99 ms (median)', 'p99 ms (max)', 'errors + non-2xx'],
  ]
  for (const t of input.targets) {
    if (t.storage !== 'redis') continue
    const mine = input.slices.filter((s) => s.target === t.name && s.scenario === 'write')
    if (mine.length === 0) continue
    const errors = mine.reduce((n, s) => n + s.result.errors + s.result.non2xx, 0)
    rows.push([
      t.label,
      Math.round(median(mine.map((s) => s.result.rps))).toLocaleString('en'),
      median(mine.map((s) => s.result.latencyMs.p50)).toFixed(1),
      median(mine.map((s) => s.result.latencyMs.p99)).toFixed(1),
      Math.max(...mine.map((s) => s.result.latencyMs.p99)).toFixed(1),
      String(errors),
    ])
  }
  if (rows.length === 1) return []
  return [
    `### Busy session: /write, ${connections} connections writing one session (Redis stores)`,
    '',
    ...table(rows, ['l', 'r', 'r', 'r', 'r', 'r']),
  ]
}

/** Whether any slice of a server had errors or non-2xx answers. */
export function errorLines(slices: readonly Slice[]): string[] {
  const by = new Map<string, number>()
  for (const s of slices) {
    const n = s.result.errors + s.result.non2xx
    if (n > 0) by.set(`${s.target} ${s.scenario}`, (by.get(`${s.target} ${s.scenario}`) ?? 0) + n)
  }
  return [...by].map(([k, n]) => `!! ${k}: ${n} errors or non-2xx answers`)
}
