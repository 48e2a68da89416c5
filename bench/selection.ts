/**
 * What a run measures: `--only` resolved into phases. The **http** phase compares the servers on
 * every route; the **scale** phase loads the stores that hold a million sessions next to the same
 * stores holding ten thousand (`/read` only), then runs the in-process scale measurements.
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
  type Scenario,
  TARGETS,
  type Target,
  targetByName,
} from './targets.ts'

/** One phase of a run. */
export interface Phase {
  readonly name: 'http' | 'scale'
  readonly targets: Target[]
  readonly scenarios: Scenario[]
  /** The scale phase's in-process measurements (memory per session, a user's sessions, import). */
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

/** Adds the pair, the drift server, each server's bare framework and its goals' rivals. */
function complete(selected: Target[]): Target[] {
  const names = new Set(selected.map((t) => t.name))
  for (const goal of GOALS) if (names.has(goal.target)) names.add(goal.versus)
  for (const name of [...names]) names.add(frameworkBaseline(targetByName(name) as Target).name)
  names.add(PAIR)
  names.add(DRIFT)
  return TARGETS.filter((t) => names.has(t.name))
}

/** The scale phase's servers: each million-session store next to its ten-thousand one. */
function scaleTargets(): Target[] {
  const scale = TARGETS.filter((t) => t.group === 'scale')
  const small = scale.map((t) => t.name.replace(/-1m$/, ''))
  return TARGETS.filter(
    (t) => t.name === PAIR || t.name === DRIFT || small.includes(t.name) || t.group === 'scale',
  )
}

/** Resolves `--only` and `--routes` into the run's phases. */
export function phases(config: Config): Phase[] {
  const tokens = config.only.length === 0 ? ['http', 'scale'] : config.only
  const http: Target[] = []
  let scale = false
  for (const token of tokens) {
    if (token === 'all') {
      http.push(...TARGETS.filter((t) => t.group === 'default'))
      scale = true
    } else if (token === 'http') http.push(...TARGETS.filter((t) => t.group === 'default'))
    else if (token === 'scale') scale = true
    else http.push(...matches(token))
  }
  const out: Phase[] = []
  if (http.length > 0) {
    out.push({
      name: 'http',
      targets: complete(http),
      scenarios: config.scenarios,
      inProcess: false,
    })
  }
  if (scale) {
    const reads = config.scenarios.filter((s) => s.route === 'read')
    out.push({
      name: 'scale',
      targets: scaleTargets(),
      scenarios: reads.length > 0 ? reads : config.scenarios,
      inProcess: true,
    })
  }
  return out
}
