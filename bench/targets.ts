/**
 * The servers the HTTP benchmark runs (its targets) and the scenarios it loads them with. Shared by
 * the orchestrator and the server child process (bench/server.ts).
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

/** Every scenario, in the order they run within a round. */
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

/** The web framework a server runs on (`node`: node:http itself). */
export type Framework = 'node' | 'express' | 'fastify' | 'koa' | 'hono'

/** Where a server keeps its sessions (`none` for the bare servers). */
export type Storage = 'none' | 'cookie' | 'memory' | 'redis' | 'postgres'

/**
 * Which runs include a target: `default` (`npm run bench`), `extra` (only when named with
 * `--only`), `scale` (the scale run: a store holding a million sessions).
 */
export type Group = 'default' | 'extra' | 'scale'

/** One benchmark server. */
export interface Target {
  /** Id used on the command line (`--only`), in the JSON and by bench/server.ts. */
  readonly name: string
  /** What the tables print. */
  readonly label: string
  readonly framework: Framework
  readonly storage: Storage
  /** Who wrote the session code: nobody (bare), sessionware, or a competitor package. */
  readonly kind: 'bare' | 'sessionware' | 'competitor'
  readonly group: Group
  /** The npm package whose version the results report. */
  readonly packageName?: string
  /**
   * sessionware's codec for cookie storage: `sealed` (the recommended default, AES-256-GCM on
   * node:crypto), `nacl` (libsodium secretbox) or `signed` (HMAC, readable by the client).
   */
  readonly codec?: 'sealed' | 'nacl' | 'signed'
  /** The key prefix of its sessions in Redis (each Redis target has its own). */
  readonly redisPrefix?: string
  /** The PostgreSQL table of its sessions (each PostgreSQL target has its own). */
  readonly table?: string
  /**
   * Sessions the server creates in-process before it listens (the scale run). Their cookies come
   * from the server itself instead of being minted over HTTP.
   */
  readonly prefill?: number
}

/** The bare node:http server every measurement is paired with. */
export const PAIR = 'node'
/** The second bare node:http server: its ratio to {@link PAIR} shows the run's drift. */
export const DRIFT = 'node-2'
/**
 * Bare node:http doing one node-redis round trip per request (bench/servers/redis-roundtrip.ts):
 * the most any session over Redis can serve on this machine. Runs next to every Redis store.
 */
export const REDIS_CEILING = 'node-redis-roundtrip'
/**
 * Bare node:http opening (and on `/write` sealing) one libsodium XChaCha20-Poly1305 cookie per
 * request (bench/servers/sodium-cookie.ts): the most any encrypted cookie can serve on this machine.
 */
export const SEALED_CEILING = 'node-sodium-cookie'
/**
 * The same work behind the least a lazy, promise-based session API adds (a request state, a hooked
 * `writeHead`, an awaited load, the idle check): the ceiling of any library with sessionware's API.
 */
export const SEALED_API_CEILING = 'node-sodium-cookie-api'
/**
 * Bare node:http finding one record in a `Map` by the SHA-256 of the id in its cookie
 * (bench/servers/memory-lookup.ts): the most a store in memory with hashed ids can serve here.
 */
export const MEMORY_CEILING = 'node-memory-lookup'
/**
 * The memory ceiling's work behind the least a lazy, promise-based session API adds (as
 * {@link SEALED_API_CEILING}): the ceiling of any library with sessionware's API and a memory store.
 */
export const MEMORY_API_CEILING = 'node-memory-lookup-api'
/**
 * Bare Express doing the Redis round trips of a session (one `HGETALL` on `/read`, that and one
 * `HSET` on `/write`; bench/servers/express.ts): the ceiling of a session over Redis on Express.
 */
export const EXPRESS_REDIS_CEILING = 'express-redis-roundtrips'
/** The same work on bare Fastify: the ceiling of an encrypted cookie on Fastify. */
export const FASTIFY_SEALED_CEILING = 'fastify-sodium-cookie'

const bare = (framework: Framework, name: string, label: string, pkg?: string): Target => ({
  name,
  label,
  framework,
  storage: 'none',
  kind: 'bare',
  group: 'default',
  ...(pkg === undefined ? {} : { packageName: pkg }),
})

type Options = Partial<Omit<Target, 'name' | 'label' | 'framework' | 'storage' | 'kind'>>

const sw = (
  framework: Framework,
  storage: Storage,
  name: string,
  options: Options = {},
): Target => {
  const where = framework === 'node' ? '' : ` on ${FRAMEWORK_LABELS[framework]}`
  const what =
    storage === 'cookie'
      ? `${options.codec ?? 'sealed'} cookie`
      : storage === 'memory'
        ? 'memory store'
        : storage === 'redis'
          ? 'Redis store'
          : 'PostgreSQL store'
  const many =
    options.prefill === undefined
      ? ''
      : options.prefill === SCALE_SESSIONS
        ? ' (scale, a million sessions)'
        : ' (scale, 10,001 sessions)'
  return {
    name,
    label: `sessionware, ${what}${many}${where}`,
    framework,
    storage,
    kind: 'sessionware',
    group: 'default',
    ...(storage === 'cookie' ? { codec: 'sealed' as const } : {}),
    ...(storage === 'redis' ? { redisPrefix: `bench:${name}:` } : {}),
    ...(storage === 'postgres' ? { table: `bench_${name.replaceAll('-', '_')}` } : {}),
    ...options,
  }
}

const rival = (
  framework: Framework,
  storage: Storage,
  name: string,
  label: string,
  pkg: string,
): Target => ({
  name,
  label,
  framework,
  storage,
  kind: 'competitor',
  group: 'default',
  packageName: pkg,
  ...(storage === 'redis' ? { redisPrefix: `bench:${name}:` } : {}),
})

/** How the tables name each framework. */
export const FRAMEWORK_LABELS: Record<Framework, string> = {
  node: 'node:http',
  express: 'Express',
  fastify: 'Fastify',
  koa: 'Koa',
  hono: 'Hono',
}

/** Sessions held by the scale run's big stores (`--scale-sessions` changes it). */
export const SCALE_SESSIONS = 1_000_000
/** Sessions held by their twins: the seed and 10,000 rotating ones. */
export const SCALE_TWIN = 10_001

export const TARGETS: readonly Target[] = [
  bare('node', PAIR, 'bare node:http'),
  bare('node', DRIFT, 'bare node:http (second process)'),
  sw('node', 'cookie', 'sessionware-sealed'),
  sw('node', 'memory', 'sessionware-memory'),
  sw('node', 'redis', 'sessionware-redis'),
  {
    ...bare(
      'node',
      REDIS_CEILING,
      'bare node:http + one node-redis round trip (the Redis ceiling)',
    ),
    storage: 'redis',
    redisPrefix: `bench:${REDIS_CEILING}:`,
    packageName: 'redis',
  },
  {
    ...bare(
      'node',
      MEMORY_CEILING,
      'bare node:http + one SHA-256 and Map lookup (no session library: the memory ceiling)',
    ),
    storage: 'memory',
  },
  {
    ...bare(
      'node',
      SEALED_CEILING,
      'bare node:http + one libsodium cookie open (no session library: the sealed ceiling)',
    ),
    storage: 'cookie',
    packageName: 'sodium-native',
  },
  {
    ...bare(
      'node',
      SEALED_API_CEILING,
      'bare node:http + one libsodium cookie open behind a minimal lazy session API (its ceiling)',
    ),
    storage: 'cookie',
    group: 'extra',
    packageName: 'sodium-native',
  },
  {
    ...bare(
      'node',
      MEMORY_API_CEILING,
      'bare node:http + one SHA-256 and Map lookup behind a minimal lazy session API (its ceiling)',
    ),
    storage: 'memory',
    group: 'extra',
  },
  rival('node', 'cookie', 'iron-session', 'iron-session', 'iron-session'),

  bare('express', 'express', 'bare Express', 'express'),
  {
    ...bare(
      'express',
      EXPRESS_REDIS_CEILING,
      'bare Express + the round trips of a session over node-redis (its Redis ceiling)',
      'express',
    ),
    storage: 'redis',
    redisPrefix: `bench:${EXPRESS_REDIS_CEILING}:`,
  },
  rival('express', 'memory', 'express-session', 'express-session (MemoryStore)', 'express-session'),
  rival(
    'express',
    'redis',
    'express-session-redis',
    'express-session + connect-redis',
    'connect-redis',
  ),
  sw('express', 'memory', 'sessionware-express-memory'),
  sw('express', 'redis', 'sessionware-express-redis'),

  bare('fastify', 'fastify', 'bare Fastify', 'fastify'),
  rival(
    'fastify',
    'cookie',
    'fastify-secure-session',
    '@fastify/secure-session',
    '@fastify/secure-session',
  ),
  rival(
    'fastify',
    'memory',
    'fastify-session',
    '@fastify/session (MemoryStore)',
    '@fastify/session',
  ),
  {
    ...bare(
      'fastify',
      FASTIFY_SEALED_CEILING,
      'bare Fastify + one libsodium cookie open (no session library: the sealed ceiling on Fastify)',
    ),
    storage: 'cookie',
  },
  sw('fastify', 'cookie', 'sessionware-fastify-sealed'),
  sw('fastify', 'memory', 'sessionware-fastify-memory'),

  bare('koa', 'koa', 'bare Koa', 'koa'),
  rival('koa', 'cookie', 'koa-session', 'koa-session (signed cookie)', 'koa-session'),
  sw('koa', 'cookie', 'sessionware-koa-sealed'),

  bare('hono', 'hono', 'bare Hono (@hono/node-server)', 'hono'),
  rival('hono', 'cookie', 'hono-sessions', 'hono-sessions (CookieStore)', 'hono-sessions'),
  sw('hono', 'cookie', 'sessionware-hono-sealed'),

  // Extras: run only when named. The libsodium codec and the signed codec show what another
  // codec would change; Express with a sealed cookie has no cookie-storage rival to compare with;
  // hono-sessions' MemoryStore is its second storage (its README leads with the CookieStore).
  {
    ...rival(
      'hono',
      'memory',
      'hono-sessions-memory',
      'hono-sessions (MemoryStore)',
      'hono-sessions',
    ),
    group: 'extra',
  },
  sw('hono', 'memory', 'sessionware-hono-memory', { group: 'extra' }),
  sw('node', 'cookie', 'sessionware-nacl', { codec: 'nacl', group: 'extra' }),
  sw('node', 'cookie', 'sessionware-signed', { codec: 'signed', group: 'extra' }),
  sw('koa', 'cookie', 'sessionware-koa-signed', { codec: 'signed', group: 'extra' }),
  sw('express', 'cookie', 'sessionware-express-sealed', { group: 'extra' }),
  sw('node', 'postgres', 'sessionware-postgres', { group: 'extra' }),

  // The scale run: each store filled in-process with a million sessions, next to a twin filled
  // the same way with 10,001 (an in-process fill trains V8 on other request objects than HTTP's,
  // which slows the session code down a little: compare a scale server with its twin only).
  sw('node', 'memory', 'sessionware-memory-10k', { group: 'scale', prefill: SCALE_TWIN }),
  sw('node', 'memory', 'sessionware-memory-1m', { group: 'scale', prefill: SCALE_SESSIONS }),
  // The memory ceiling (bench/servers/memory-lookup.ts) filled the same two ways: what holding a
  // million records in V8's heap costs a request with no session library.
  {
    ...bare('node', 'node-memory-lookup-10k', 'the memory ceiling holding 10,001 records'),
    storage: 'memory',
    group: 'scale',
    prefill: SCALE_TWIN,
  },
  {
    ...bare('node', 'node-memory-lookup-1m', 'the memory ceiling holding a million records'),
    storage: 'memory',
    group: 'scale',
    prefill: SCALE_SESSIONS,
  },
  sw('node', 'redis', 'sessionware-redis-10k', { group: 'scale', prefill: SCALE_TWIN }),
  sw('node', 'redis', 'sessionware-redis-1m', { group: 'scale', prefill: SCALE_SESSIONS }),
  sw('node', 'postgres', 'sessionware-postgres-10k', { group: 'scale', prefill: SCALE_TWIN }),
  sw('node', 'postgres', 'sessionware-postgres-1m', { group: 'scale', prefill: SCALE_SESSIONS }),
]

/** Finds a target by name. */
export function targetByName(name: string): Target | undefined {
  return TARGETS.find((t) => t.name === name)
}

/** The bare server of a target's framework (`express` for every Express target, and so on). */
export function frameworkBaseline(target: Target): Target {
  const found = TARGETS.find(
    (t) => t.kind === 'bare' && t.storage === 'none' && t.framework === target.framework,
  )
  return found as Target
}

/** Whether a target needs the benchmark's redis-server. */
export const needsRedis = (target: Target): boolean => target.storage === 'redis'

/** Whether a target needs the benchmark's PostgreSQL server. */
export const needsPostgres = (target: Target): boolean => target.storage === 'postgres'

/** Whether a target answers with sessions (cookies are minted or prefilled for it). */
export const hasSessions = (target: Target): boolean => target.kind !== 'bare'
