/**
 * The demo's server stores: a Redis, memcached or PostgreSQL client created from the
 * configuration, set up so that an unreachable server costs a fast 503 rather than a hang or a
 * crash, and closed again with the app.
 *
 * **Startup while the server is down.** The demo starts anyway. It tries the server once, for at
 * most SESSION_STORE_TIMEOUT seconds; when that fails it warns on stderr (where, and why) and
 * listens regardless. Requests that need a stored session then answer 503 (`/api/none`, pages and
 * calls without a session cookie that write nothing still work), and the clients keep trying in
 * the background, so the demo recovers by itself once the server is up: the same behaviour as
 * when the server goes away later, under a running app. A malformed URL is a configuration error
 * (exit code 2); an unreachable server is not.
 *
 * Per client:
 * - Redis (node-redis): `disableOfflineQueue` (a command while disconnected fails at once instead
 *   of waiting for the reconnect), a reconnect strategy that never gives up (every 0.1 s, growing
 *   to 1 s), `socket.connectTimeout`, and an `error` listener (node-redis emits one per failed
 *   reconnect; without a listener the process would die).
 * - memcached (memcache-client): `cmdTimeout` and `connectTimeout`. No subject index.
 * - PostgreSQL (node-postgres `Pool`): `connectionTimeoutMillis` and `query_timeout` (a query
 *   that times out discards its connection), and an `error` listener for idle connections that
 *   the server drops.
 * All of them take SESSION_STORE_TIMEOUT, as does the store itself, which bounds every call.
 * Losing and regaining the server is logged once per change, not once per retry.
 *
 * @module
 */
import { MemcacheClient } from 'memcache-client'
import pg from 'pg'
import { createClient } from 'redis'
import type { SessionStore } from '../../src/index.ts'
import { createAiohttpMemcachedStore } from '../../src/stores/aiohttp-memcached.ts'
import { createAiohttpRedisStore } from '../../src/stores/aiohttp-redis.ts'
import { createMemcachedStore } from '../../src/stores/memcached.ts'
import { createPostgresStore } from '../../src/stores/postgres.ts'
import { createRedisStore } from '../../src/stores/redis.ts'
import { createStarsessionsRedisStore } from '../../src/stores/starsessions-redis.ts'
import { type DemoConfig, displayUrl } from './config.ts'

/** A store on a server, with the client the demo made for it. */
export interface ServerStore {
  readonly store: SessionStore
  /** For the footer, such as `redis (redis://127.0.0.1:6379)`; passwords are masked. */
  readonly description: string
  /** Closes the store and its client. Bounded; never rejects. Call it once. */
  close(): Promise<void>
}

type Log = (message: string) => void

/** How long closing a client may take before it is dropped. */
const CLOSE_TIMEOUT_MS = 2000

/** An error as one line: the message, or the code, or the messages of an AggregateError. */
export function reason(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return [...new Set(error.errors.map(reason))].join('; ')
  }
  if (error instanceof Error) {
    return error.message || String((error as { code?: unknown }).code ?? error.name)
  }
  return String(error)
}

/** Resolves after `ms`, without keeping the process alive. */
function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/**
 * Resolves to undefined when `attempt` succeeds within `ms`, otherwise to the reason it did not.
 */
async function probe(attempt: Promise<unknown>, ms: number): Promise<string | undefined> {
  const timedOut = delay(ms).then(() => `no answer within ${ms / 1000} s`)
  return Promise.race([attempt.then(() => undefined, reason), timedOut])
}

/**
 * Logs when a server becomes unreachable or reachable again, once per change: clients report
 * every failed retry, and a log line per retry would bury everything else.
 */
function health(log: Log, what: string) {
  let state: 'up' | 'down' | undefined
  return {
    up(): void {
      if (state === 'down') log(`sessionware demo: ${what} is reachable again`)
      state = 'up'
    },
    down(error: unknown): void {
      if (state === 'up') {
        log(`sessionware demo: lost ${what}: ${reason(error)}; retrying in the background`)
      }
      state = 'down'
    },
    /** After the startup probe: warns when the server could not be reached. */
    started(failure: string | undefined): void {
      if (failure === undefined) {
        state = 'up'
        return
      }
      state = 'down'
      log(
        `sessionware demo: cannot reach ${what} (${failure}); starting anyway: requests that ` +
          'need a stored session answer 503 until it is reachable, retrying in the background',
      )
    },
  }
}

/**
 * Creates the client and store for `config.store` (`redis`, `memcached` or `postgres`), tries the
 * server once (bounded by `config.storeTimeout`) and warns through `log` when it is unreachable.
 *
 * @throws {SessionConfigError} from the store factory for an invalid option.
 */
export async function openServerStore(config: DemoConfig, log: Log): Promise<ServerStore> {
  const url = config.serverUrl ?? ''
  const timeout = config.storeTimeout
  const timeoutMs = Math.max(1, Math.round(timeout * 1000))
  if (config.store === 'redis') return openRedis(config, url, timeout, timeoutMs, log)
  if (config.store === 'memcached') return openMemcached(config, url, timeout, timeoutMs, log)
  if (config.store === 'postgres') return openPostgres(url, timeout, timeoutMs, log)
  throw new Error(`not a server store: ${config.store}`)
}

async function openRedis(
  config: DemoConfig,
  url: string,
  timeout: number,
  timeoutMs: number,
  log: Log,
): Promise<ServerStore> {
  const shown = displayUrl(url)
  const watch = health(log, `Redis at ${shown}`)
  const client = createClient({
    url,
    disableOfflineQueue: true,
    // The store bounds every call (SESSION_STORE_TIMEOUT); node-redis' own per-command timer
    // (an AbortSignal per command) would cost more CPU than the command itself.
    commandOptions: { timeout: 0 },
    socket: {
      connectTimeout: timeoutMs,
      reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, 1000),
    },
  })
  client.on('error', (error: unknown) => watch.down(error))
  client.on('ready', () => watch.up())
  const maxAge = config.idleTimeout ?? null
  const store =
    config.compat === 'aiohttp'
      ? createAiohttpRedisStore(client, { cookieName: config.cookieName, maxAge, timeout })
      : config.compat === 'starsessions'
        ? createStarsessionsRedisStore(client, { lifetime: maxAge ?? 0, timeout })
        : createRedisStore(client, { timeout })
  // connect() settles when the first connection is ready, retrying meanwhile; it rejects only
  // when the client is closed first. The first 'ready' or 'error' answers the probe.
  const first = new Promise<void>((resolve, reject) => {
    client.once('ready', resolve)
    client.once('error', reject)
  })
  client.connect().catch(() => {})
  watch.started(await probe(first, timeoutMs))
  return {
    store,
    description: `redis (${shown})`,
    async close() {
      // Graceful (waits for replies in flight), then forced.
      await Promise.race([client.close().catch(() => {}), delay(CLOSE_TIMEOUT_MS)])
      client.destroy()
    },
  }
}

async function openMemcached(
  config: DemoConfig,
  server: string,
  timeout: number,
  timeoutMs: number,
  log: Log,
): Promise<ServerStore> {
  const client = new MemcacheClient({ server, cmdTimeout: timeoutMs, connectTimeout: timeoutMs })
  const store =
    config.compat === 'aiohttp'
      ? createAiohttpMemcachedStore(client, {
          cookieName: config.cookieName,
          maxAge: config.idleTimeout ?? null,
          timeout,
        })
      : createMemcachedStore(client, { timeout })
  health(log, `memcached at ${server}`).started(await probe(client.version(), timeoutMs))
  return {
    store,
    description: `memcached (${server}; lost when memcached restarts)`,
    async close() {
      client.shutdown()
    },
  }
}

async function openPostgres(
  url: string,
  timeout: number,
  timeoutMs: number,
  log: Log,
): Promise<ServerStore> {
  const shown = displayUrl(url)
  const watch = health(log, `PostgreSQL at ${shown}`)
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  })
  // An idle connection the server dropped (restart, shutdown): the pool replaces it on demand.
  pool.on('error', (error) => watch.down(error))
  pool.on('connect', () => watch.up())
  const store = createPostgresStore(pool, {
    timeout,
    onPruneError: (error) => log(`sessionware demo: pruning expired sessions: ${reason(error)}`),
  })
  watch.started(await probe(pool.query('SELECT 1'), timeoutMs))
  return {
    store,
    description: `postgres (${shown})`,
    async close() {
      await store.close()
      await Promise.race([pool.end().catch(() => {}), delay(CLOSE_TIMEOUT_MS)])
    },
  }
}
