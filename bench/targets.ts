/**
 * What the HTTP benchmark measures: the servers (targets), the scenarios and the ratio targets.
 * Shared by the orchestrator (bench/run.ts) and the server child process (bench/server.ts).
 *
 * @module
 */

/** The three routes every server answers. */
export type Route = 'none' | 'read' | 'write'

/** A scenario: a route, loaded with one cookie or with many cookies in rotation. */
export interface Scenario {
  readonly name: 'none' | 'read' | 'read-many' | 'write'
  readonly route: Route
  /** Whether the Cookie header rotates through the many minted cookies. */
  readonly rotate: boolean
}

export const SCENARIOS: readonly Scenario[] = [
  { name: 'none', route: 'none', rotate: false },
  { name: 'read', route: 'read', rotate: false },
  { name: 'read-many', route: 'read', rotate: true },
  { name: 'write', route: 'write', rotate: false },
]

/** A human label for a scenario. */
export function scenarioLabel(scenario: Scenario, cookies: number): string {
  if (scenario.rotate) return `/${scenario.route}, ${cookies.toLocaleString('en')} cookies`
  return `/${scenario.route}, 1 cookie`
}

export type Framework = 'node' | 'express' | 'fastify'

export interface Target {
  /** Id used on the command line (`--only`), in the JSON and by bench/server.ts. */
  readonly name: string
  /** What the table prints. */
  readonly label: string
  readonly framework: Framework
  /** True when the server has sessions: cookies are minted from its `/write` route. */
  readonly sessions: boolean
  /** The npm package whose version is reported. */
  readonly packageName?: string
  /**
   * True when the server keeps its sessions in Redis: it needs the benchmark's own redis-server
   * (its URL in the `BENCH_REDIS_URL` environment variable) and its Redis commands are counted.
   */
  readonly redis?: boolean
  /** The key prefix of its sessions in Redis (each Redis target has its own). */
  readonly redisPrefix?: string
  /**
   * sessionware's performance targets: the lowest acceptable ratio to bare node:http per scenario.
   */
  readonly goals?: Partial<Record<Scenario['name'], number>>
}

export const TARGETS: readonly Target[] = [
  { name: 'node', label: 'bare node:http', framework: 'node', sessions: false },
  {
    name: 'sessionware-sealed',
    label: 'sessionware, sealed cookie',
    framework: 'node',
    sessions: true,
    goals: { none: 0.97, read: 0.75, 'read-many': 0.6, write: 0.5 },
  },
  {
    name: 'sessionware-memory',
    label: 'sessionware, memory store',
    framework: 'node',
    sessions: true,
    goals: { none: 0.97, read: 0.85, 'read-many': 0.85 },
  },
  {
    name: 'sessionware-redis',
    label: 'sessionware, Redis store',
    framework: 'node',
    sessions: true,
    redis: true,
    redisPrefix: 'bench:sessionware:',
    goals: { none: 0.97, read: 0.6, 'read-many': 0.6 },
  },
  {
    name: 'iron-session',
    label: 'iron-session',
    framework: 'node',
    sessions: true,
    packageName: 'iron-session',
  },
  {
    name: 'express',
    label: 'bare Express',
    framework: 'express',
    sessions: false,
    packageName: 'express',
  },
  {
    name: 'express-session',
    label: 'express-session (MemoryStore)',
    framework: 'express',
    sessions: true,
    packageName: 'express-session',
  },
  {
    name: 'express-session-redis',
    label: 'express-session + connect-redis',
    framework: 'express',
    sessions: true,
    packageName: 'connect-redis',
    redis: true,
    redisPrefix: 'bench:express-session:',
  },
  {
    name: 'fastify',
    label: 'bare Fastify',
    framework: 'fastify',
    sessions: false,
    packageName: 'fastify',
  },
  {
    name: 'fastify-secure-session',
    label: '@fastify/secure-session',
    framework: 'fastify',
    sessions: true,
    packageName: '@fastify/secure-session',
  },
]

/** The bare server of a target's framework (itself for a bare server). */
export function frameworkBaseline(target: Target): string {
  return target.framework
}

/** Finds a target by name. */
export function targetByName(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name)
}
