/**
 * What a run measures: `--only` resolved into phases of servers and, for each, its scenarios.
 * `http` selects every default server on every route; `scale` the stores that hold a million
 * sessions next to the same stores holding ten thousand (`/read` only, in a phase of their own
 * after the HTTP one) and the in-process scale measurements. Without `--only`, both.
 *
 * @module
 */

import { GOALS } from './goals.ts'
import type { Config } from './options.ts'
import {
  DRIFT,
  type Framework,
  frameworkBaseline,
  PAIR,
  REDIS_CEILING,
  type Scenario,
  TARGETS,
  type Target,
  targetByName,
} from './targets.ts'

/** What a run measures. */
export interface Phase {
  /** `http`: the comparison; `scale`: the scale run. */
  readonly name: 'http' | 'scale'
  readonly targets: Target[]
  /** The scenarios every server of the phase runs (the scale phase: `/read` only). */
  readonly scenarios: Scenario[]
  /** The in-process scale measurements (memory per session, a user's sessions, import). */
  readonly inProcess: boolean
}

const FRAMEWORKS: readonly Framework[] = ['express', 'fastify', 'koa', 'hono']
const STORAGES = ['cookie', 'memory', 'redis', 'postgres'] as const

/** The servers a token names (scale servers only by their exact name). */
function matches(token: string): Target[] {
  const exact = targetByName(token)
  if (exact !== undefined && !FRAMEWORKS.includes(token as Framework)) return [exact]
  const defaults = TARGETS.filter((t) => t.group === 'default')
  const pool = TARGETS.filter((t) => t.group !== 'scale')
  if (FRAMEWORKS.includes(token as Framework)) return defaults.filter((t) => t.framework === token)
  if ((STORAGES as readonly string[]).includes(token)) {
    const found = defaults.filter((t) => t.storage === token)
    return found.length > 0 ? found : pool.filter((t) => t.storage === token)
  }
  if (token === 'sessionware') return defaults.filter((t) => t.kind === 'sessionware')
  if (token === 'extra') return pool.filter((t) => t.group === 'extra')
  const prefixed = pool.filter((t) => t.name.startsWith(token))
  if (prefixed.length === 0)
    throw new Error(`--only: nothing is called ${token} (--list shows all)`)
  return prefixed
}

/**
 * Adds the pair, the drift server, each server's bare framework and its goals' rivals, ceilings
 * and floors, and the Redis ceiling next to any Redis store of the HTTP comparison.
 */
function complete(selected: Target[]): Target[] {
  const names = new Set(selected.map((t) => t.name))
  if (selected.some((t) => t.storage === 'redis' && t.kind !== 'bare' && t.group !== 'scale')) {
    names.add(REDIS_CEILING)
  }
  for (const goal of GOALS) {
    if (!names.has(goal.target)) continue
    names.add(goal.versus)
    if (goal.ceiling !== undefined) names.add(goal.ceiling)
    if (goal.ceilingVersus !== undefined) names.add(goal.ceilingVersus)
    if (goal.floor !== undefined) names.add(goal.floor)
  }
  for (const name of [...names]) names.add(frameworkBaseline(targetByName(name) as Target).name)
  names.add(PAIR)
  names.add(DRIFT)
  return TARGETS.filter((t) => names.has(t.name))
}

/** The scale servers: each store with a million sessions and its twin with 10,001. */
function scaleTargets(): Target[] {
  return TARGETS.filter((t) => t.group === 'scale')
}

/**
 * Resolves `--only` and `--routes` into what the run measures: the **http** phase (the servers on
 * every route), then the **scale** phase (each big store next to its twin, `/read` only, and the
 * in-process scale measurements). They are separate phases so that no scale server is alive during
 * the HTTP rounds: a store holding a million sessions, pinned to the servers' CPU, spends a few
 * hundred milliseconds of CPU now and then while idle (its sweep and the collections after it,
 * bench/README.md), which would land in another server's slice.
 */
export function phases(config: Config): Phase[] {
  const tokens = config.only.length === 0 ? ['http', 'scale'] : config.only
  const chosen: Target[] = []
  const reads = config.scenarios.filter((s) => s.route === 'read')
  let scale = false
  for (const token of tokens) {
    if (token === 'http' || token === 'all') {
      chosen.push(...TARGETS.filter((t) => t.group === 'default'))
    }
    if (token === 'scale' || token === 'all') scale = true
    else if (token !== 'http') chosen.push(...matches(token))
  }
  const out: Phase[] = []
  const http = chosen.filter((t) => t.group !== 'scale')
  if (http.length > 0) {
    const targets = complete(http)
    out.push({
      name: 'http',
      targets,
      scenarios: config.scenarios,
      inProcess: false,
    })
  }
  // A scale server named alone (`--only sessionware-memory-1m`) runs in the scale phase too.
  const big = scale ? scaleTargets() : chosen.filter((t) => t.group === 'scale')
  if (big.length > 0 && reads.length > 0) {
    const targets = complete(big)
    out.push({
      name: 'scale',
      targets,
      scenarios: reads,
      inProcess: scale,
    })
  }
  return out
}
