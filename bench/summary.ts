/**
 * A phase's printed report, from its slices: the ratio tables, the goals, the drift, the busy
 * session, the Redis commands per request, and for the scale phase the in-process figures.
 *
 * @module
 */

import type { PhaseResult } from './phase.ts'
import { commandLines } from './redis-commands.ts'
import {
  busySessionLines,
  driftLine,
  errorLines,
  frameworkTable,
  type GoalResult,
  goalLines,
  goalResults,
  nodeTable,
  pairSpeedLine,
  type ReportInput,
  rivalTable,
} from './report.ts'
import type { ImportCost, UserSessionsResult } from './scale.ts'
import { PairedRatios } from './stats.ts'

/** The in-process figures of the scale phase. */
export interface ScaleFigures {
  readonly users: UserSessionsResult[]
  readonly sweep: { records: number; pruneMs: number } | undefined
  readonly imports: ImportCost[]
  /** Redis `used_memory` and the PostgreSQL table size, in bytes, once filled. */
  readonly redisBytes: number | undefined
  readonly postgresBytes: number | undefined
}

const TITLES = {
  http: 'HTTP comparison',
  scale: 'Scale',
} as const

const mb = (bytes: number): string => `${(bytes / 2 ** 20).toFixed(0)} MB`

/** The report of one phase, and its goal results. */
export function phaseReport(
  result: PhaseResult,
  cookies: number,
  connections: number,
  duration: number,
  scaleSessions: number,
  prewarm: number,
): { lines: string[]; goals: GoalResult[] } {
  const input: ReportInput = {
    targets: result.targets,
    scenarios: result.phase.scenarios,
    ratios: new PairedRatios(result.slices),
    slices: result.slices,
    rounds: result.rounds,
    cookies,
  }
  const goals = goalResults(input)
  const how = `${result.rounds} paired rounds, ${duration} s slices${prewarm > 0 ? `, ${prewarm} s pre-warm per server and round` : ''}, ${connections} connections; median (min–max) over the rounds`
  const lines = [
    '',
    `## ${TITLES[result.phase.name]} (${how}${result.phase.inProcess ? `; scale stores: ${scaleSessions.toLocaleString('en')} sessions` : ''})`,
    '',
    '### req/s × bare node:http (paired)',
    '',
    ...nodeTable(input, 'rps'),
    '',
    '### req/CPU-s × bare node:http (the server’s CPU time; a cross-check, less disturbed by other processes)',
    '',
    ...nodeTable(input, 'cpu'),
  ]
  const framework = frameworkTable(input)
  if (framework.length > 0) lines.push('', '### req/s × the bare framework', '', ...framework)
  const rivals = rivalTable(input)
  if (rivals.length > 0) {
    lines.push(
      '',
      '### req/s of sessionware × the framework’s usual session library (same storage)',
      '',
      ...rivals,
    )
  }
  const goalTable = goalLines(goals, cookies, result.phase.scenarios)
  if (goalTable.length > 0) {
    const met = goals.filter((g) => g.pass).length
    const beyond = goals.filter((g) => g.outOfReach).length
    lines.push(
      '',
      `### Goals: ${met} of ${goals.length} met, ${beyond} missed beyond their ceiling or floor (✓: the median reaches the goal; ⊘: missed, and so did the ceiling or the floor of a lazy API)`,
      '',
      ...goalTable,
      '',
      'ceiling: the same ratio for the server that does the work without a session library (the',
      'bare framework; node:http with one Redis round trip, one libsodium cookie open or one',
      'SHA-256 and Map lookup; bare Fastify with that cookie open; for a store with a million',
      'sessions, that lookup over a million records against 10,001): no session library can pass',
      'it here. floor of a lazy API: the same ratio for the sealed or memory ceiling behind the',
      'least a lazy, promise-based session API adds (a request state, a hooked writeHead, an',
      'awaited load, the idle check): no library with sessionware’s API can pass it here.',
    )
  }
  lines.push('', driftLine(input), pairSpeedLine(input))
  const busy = busySessionLines(input, connections)
  if (busy.length > 0) lines.push('', ...busy)
  if (result.commandCounts.length > 0) {
    lines.push(
      '',
      `### Redis commands per request (${result.commandCounts[0]?.requests} sequential requests per route, outside the timed load)`,
      '',
    )
    lines.push(...commandLines(result.commandCounts))
  }
  lines.push(...errorLines(result.slices).map((l) => `\n${l}`))
  for (const note of result.notes) lines.push(`note: ${note}`)
  return { lines, goals }
}

/** The scale phase's in-process figures as lines. */
export function scaleLines(result: PhaseResult, figures: ScaleFigures): string[] {
  const lines = ['', '### Memory']
  for (const [name, p] of Object.entries(result.prefill)) {
    if (p === undefined) continue
    const per =
      p.heapAfter !== null && p.heapBefore !== null
        ? (p.heapAfter - p.heapBefore) / p.sessions
        : Number.NaN
    const heap =
      p.heapAfter === null
        ? ''
        : `; heap ${mb(p.heapAfter)} after a full GC (${Number.isFinite(per) ? per.toFixed(0) : '?'} bytes per session in the server process)`
    lines.push(
      `- ${name}: ${p.sessions.toLocaleString('en')} sessions filled in ${p.seconds.toFixed(0)} s${heap}; RSS ${mb(p.rssBefore)} → ${mb(p.rssAfter)}`,
    )
  }
  if (figures.redisBytes !== undefined)
    lines.push(`- Redis used_memory with every target's sessions: ${mb(figures.redisBytes)}`)
  if (figures.postgresBytes !== undefined)
    lines.push(
      `- PostgreSQL table of the million sessions (with indexes): ${mb(figures.postgresBytes)}`,
    )
  if (figures.sweep) {
    lines.push(
      `- memory store sweep (prune) over ${figures.sweep.records.toLocaleString('en')} records: ${figures.sweep.pruneMs.toFixed(0)} ms of blocked event loop, once per sweepInterval (60 s by default)`,
    )
  }
  if (figures.users.length > 0) {
    lines.push('', '### A user with 10,000 sessions', '')
    lines.push(
      '| store | create (s) | listSessions (ms) | listed | revokeSessions (ms) | revoked | left |',
      '|:--|--:|--:|--:|--:|--:|--:|',
    )
    for (const u of figures.users) {
      lines.push(
        `| ${u.store} | ${u.createSeconds.toFixed(1)} | ${u.listMs.toFixed(0)} | ${u.listed} | ${u.revokeMs.toFixed(0)} | ${u.revoked} | ${u.leftAfter} |`,
      )
    }
  }
  if (figures.imports.length > 0) {
    lines.push(
      '',
      '### Importing sessionware (compiled as shipped, a fresh node process per run)',
      '',
    )
    lines.push(
      '| entry | import (ms, median) | heap (KB) | modules | bytes |',
      '|:--|--:|--:|--:|--:|',
    )
    for (const i of figures.imports) {
      lines.push(
        `| \`${i.entry}\` | ${i.importMs.toFixed(1)} | ${(i.heapBytes / 1024).toFixed(0)} | ${i.modules} | ${i.bytes.toLocaleString('en')} |`,
      )
    }
  }
  return lines
}
