/**
 * Summarizes a V8 CPU profile (`node --cpu-prof`, or the benchmark's `--profile`): where the time
 * went by stage (bench/stages.ts; in µs per request when the request count is known), by category,
 * by function (self time) and, for sessionware's own code, by function including callees.
 *
 * Run: `node --import tsx bench/profile.ts <file.cpuprofile> [--top 25] [--requests N]`;
 * `npm run bench -- --only <server> --profile <server>` profiles each scenario of that server after
 * its rounds and prints this summary.
 *
 * @module
 */

import { readFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { parseArgs } from 'node:util'
import { stageOfStack } from './stages.ts'

interface CallFrame {
  functionName: string
  url: string
  lineNumber: number
  columnNumber: number
}

interface ProfileNode {
  id: number
  callFrame: CallFrame
  children?: number[]
}

interface CpuProfile {
  nodes: ProfileNode[]
  startTime: number
  endTime: number
  samples: number[]
  timeDeltas: number[]
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUILD = 'bench/results/build/'

function place(frame: CallFrame): string {
  let where = frame.url
  if (where.startsWith('file://')) where = relative(ROOT, fileURLToPath(where))
  if (where === '') return ''
  return `${where}:${frame.lineNumber + 1}`
}

function category(frame: CallFrame): string {
  const url = frame.url
  if (url === '') {
    const name = frame.functionName
    if (name === '(garbage collector)' || name === '(idle)' || name === '(program)') return name
    return 'V8 / native builtins'
  }
  if (url.startsWith('node:')) return 'node internals'
  if (url.includes('/node_modules/')) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)
    return `package ${match?.[1] ?? '?'}`
  }
  let path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url
  // bench/run.ts runs the servers compiled to bench/results/build/.
  if (path.startsWith(BUILD)) path = path.slice(BUILD.length)
  if (path.startsWith('src/')) return 'sessionware (src/)'
  if (path.startsWith('bench/')) return 'benchmark server (bench/)'
  return 'other'
}

function pct(part: number, whole: number): string {
  return `${((part / whole) * 100).toFixed(1).padStart(5)}%`
}

/** What to summarize: how many functions, and the requests served (for µs per request). */
export interface SummaryOptions {
  readonly top?: number
  readonly requests?: number
  /**
   * CPU time the process used meanwhile (µs, from `process.cpuUsage()`): the per-request figures
   * are then this time split in proportion to the samples. The profile's own clock counts time the
   * thread was descheduled too, which on a shared machine lands mostly in system calls.
   */
  readonly cpuMicros?: number
}

/** The summary of a profile, as printable lines. */
export function summarizeProfile(file: string, options: SummaryOptions = {}): string[] {
  const top = options.top ?? 25
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile
  const byId = new Map<number, ProfileNode>()
  const parent = new Map<number, number>()
  for (const node of profile.nodes) {
    byId.set(node.id, node)
    for (const child of node.children ?? []) parent.set(child, node.id)
  }
  const key = (frame: CallFrame): string =>
    `${frame.functionName || '(anonymous)'}\t${place(frame)}`
  const self = new Map<string, number>()
  const inclusive = new Map<string, number>()
  const categories = new Map<string, number>()
  const stages = new Map<string, number>()
  let total = 0
  let idle = 0
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0
    const node = byId.get(id)
    if (node === undefined) return
    total += delta
    if (node.callFrame.functionName === '(idle)') idle += delta
    const k = key(node.callFrame)
    self.set(k, (self.get(k) ?? 0) + delta)
    const c = category(node.callFrame)
    categories.set(c, (categories.get(c) ?? 0) + delta)
    const stack = function* () {
      for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
        yield (byId.get(at) as ProfileNode).callFrame
      }
    }
    const stage = stageOfStack(stack())
    stages.set(stage, (stages.get(stage) ?? 0) + delta)
    const seen = new Set<string>()
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = (byId.get(at) as ProfileNode).callFrame
      if (category(frame) !== 'sessionware (src/)') continue
      const fk = key(frame)
      if (seen.has(fk)) continue
      seen.add(fk)
      inclusive.set(fk, (inclusive.get(fk) ?? 0) + delta)
    }
  })
  const busy = total - idle
  const lines: string[] = []
  lines.push(
    `profile ${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages are of busy time)`,
  )
  const requests = options.requests ?? 0
  const cpu = options.cpuMicros ?? busy
  const perRequest = (time: number): string =>
    requests > 0 ? `${(((time / busy) * cpu) / requests).toFixed(2).padStart(7)} µs/req  ` : ''
  const basis = options.cpuMicros === undefined ? 'profile time' : 'process CPU time'
  lines.push(
    '',
    `by stage (innermost wins)${requests > 0 ? `: ${(cpu / requests).toFixed(2)} µs per request in all (${basis}, split by samples)` : ''}:`,
  )
  for (const [name, time] of [...stages].sort((a, b) => b[1] - a[1])) {
    if (name === '(idle)') continue
    lines.push(`  ${perRequest(time)}${pct(time, busy)}  ${name}`)
  }
  lines.push('', 'by category (self time):')
  for (const [name, time] of [...categories].sort((a, b) => b[1] - a[1])) {
    if (name === '(idle)') continue
    lines.push(`  ${pct(time, busy)}  ${name}`)
  }
  lines.push('', `top ${top} functions by self time:`)
  const rows = [...self].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1])
  for (const [k, time] of rows.slice(0, top)) {
    const [name, where] = k.split('\t')
    lines.push(`  ${pct(time, busy)}  ${name}  ${where}`)
  }
  lines.push('', `top ${top} sessionware functions by total time (self + callees):`)
  for (const [k, time] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    const [name, where] = k.split('\t')
    lines.push(`  ${pct(time, busy)}  ${name}  ${where}`)
  }
  return lines
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { top: { type: 'string', default: '25' }, requests: { type: 'string', default: '0' } },
  })
  if (positionals.length === 0) {
    console.error(
      'usage: node --import tsx bench/profile.ts <file.cpuprofile> [--top 25] [--requests N]',
    )
    process.exit(2)
  }
  for (const file of positionals) {
    const options = { top: Number(values.top), requests: Number(values.requests) }
    console.log(summarizeProfile(file, options).join('\n'))
  }
}
