/**
 * What a run records about where it ran: the machine, the commit (and whether src/ had uncommitted
 * changes), package versions, the load average, and whether taskset can pin processes.
 *
 * @module
 */

import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { arch, cpus, loadavg, release, totalmem } from 'node:os'
import { join } from 'node:path'
import { ROOT } from './processes.ts'

/** The machine a run ran on. */
export interface Machine {
  readonly cpu: string
  readonly cores: number
  readonly memoryGb: number
  readonly os: string
  readonly node: string
}

export function machine(): Machine {
  const list = cpus()
  return {
    cpu: list[0]?.model.trim() ?? 'unknown',
    cores: list.length,
    memoryGb: Math.round(totalmem() / 2 ** 30),
    os: `Linux ${release()} ${arch()}`,
    node: process.versions.node,
  }
}

/** The short commit, with `+src changes` when src/ differs from it. */
export function gitCommit(): string {
  try {
    const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim()
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], {
      cwd: ROOT,
      encoding: 'utf8',
    }).trim()
    return dirty === '' ? commit : `${commit} (+ uncommitted src/ changes)`
  } catch {
    return 'unknown'
  }
}

/** The installed version of a package. */
export function packageVersion(name: string): string {
  try {
    const file = join(ROOT, 'node_modules', name, 'package.json')
    return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

/** `1.23 / 1.10 / 0.98` (1, 5, 15 minutes). */
export function loadAverage(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')
}

/** Whether taskset works here. */
export function hasTaskset(): boolean {
  const probe = spawnSync('taskset', ['-c', '0', 'true'], { timeout: 5000 })
  return probe.error === undefined && probe.status === 0
}
