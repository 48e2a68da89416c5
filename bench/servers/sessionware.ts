/**
 * sessionware's session manager for a benchmark target, set up as the README recommends: cookie
 * storage with the target's codec (sealed by default), or server storage over the memory store,
 * the Redis store (node-redis configured as the store's TSDoc recommends) or the PostgreSQL store.
 * The same manager serves every framework through its adapter (bench/servers/*.ts).
 *
 * Imported from the sources (`src/`), which the benchmark compiles with tsc as `npm run build`
 * ships them: the same code as `sessionware` and `sessionware/adapters/<framework>`.
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import type { SessionManager } from '../../src/core/manager.ts'
import { READ_NOW } from '../../src/core/read-now.ts'
import type { Session } from '../../src/core/session.ts'
import type { SessionStore } from '../../src/core/types.ts'
import { createCookieStorage, createServerStorage, createSessions } from '../../src/index.ts'
import type { Target } from '../targets.ts'
import { cleanups, type Data, postgresPool, redisClient, secret } from './common.ts'

/** The manager and, for server storage, its store (the scale run fills it). */
export interface Manager {
  readonly sessions: SessionManager<Data>
  readonly store: SessionStore | undefined
}

/** Records the memory store holds besides the prefilled ones (10,000 rotating cookies and more). */
const MEMORY_HEADROOM = 50_000

async function cookieCodec(codec: Target['codec']) {
  if (codec === 'nacl') {
    const { createNaclCodec } = await import('../../src/codecs/nacl.ts')
    return createNaclCodec({ keys: [randomBytes(32).toString('hex')], backend: 'sodium' })
  }
  if (codec === 'signed') {
    const { createSignedCodec } = await import('../../src/codecs/signed.ts')
    return createSignedCodec({ keys: [secret()] })
  }
  const { createSealedCodec } = await import('../../src/codecs/sealed.ts')
  return createSealedCodec({ keys: [secret()] })
}

/** `store` with its reads answered from `setImmediate` (and no synchronous read). */
function deferredReads(store: SessionStore): SessionStore {
  const deferred = Object.create(store) as SessionStore
  Object.defineProperty(deferred, READ_NOW, { value: undefined })
  deferred.get = (id) => new Promise((resolve) => setImmediate(resolve)).then(() => store.get(id))
  return deferred
}

async function serverStore(target: Target, prefill: number): Promise<SessionStore> {
  if (target.storage === 'memory') {
    const { createMemoryStore } = await import('../../src/stores/memory.ts')
    // The default cap (10,000 records) is one short of the 10,001 sessions the benchmark holds.
    const store = createMemoryStore({ maxEntries: prefill + MEMORY_HEADROOM })
    cleanups.push(() => store.close())
    // BENCH_DEFER=1: reads answered from setImmediate, as express-session's MemoryStore answers
    // (a diagnostic for bench/ab.ts: how much the moment a response is written costs here).
    return process.env.BENCH_DEFER === '1' ? deferredReads(store) : store
  }
  if (target.storage === 'redis') {
    const { createRedisStore } = await import('../../src/stores/redis.ts')
    const store = createRedisStore(await redisClient(true), {
      keyPrefix: target.redisPrefix ?? 'bench:',
    })
    return store
  }
  if (target.storage === 'postgres') {
    const { createPostgresStore } = await import('../../src/stores/postgres.ts')
    const store = createPostgresStore(await postgresPool(), { table: target.table ?? 'bench' })
    cleanups.unshift(() => store.close?.() ?? Promise.resolve())
    return store
  }
  throw new Error(`${target.name}: no server store for storage ${target.storage}`)
}

/** The target's session manager (`prefill`: sessions the scale run will put in its store). */
export async function sessionwareManager(target: Target, prefill = 0): Promise<Manager> {
  if (target.storage === 'cookie') {
    // BENCH_COOKIE_CACHE: the decode cache's size, for A/B runs of bench/ab.ts (default: the
    // library's own default).
    const cache = process.env.BENCH_COOKIE_CACHE
    const storage = createCookieStorage({
      codec: await cookieCodec(target.codec),
      ...(cache ? { cacheSize: Number(cache) } : {}),
    })
    return { sessions: createSessions<Data>({ storage }), store: undefined }
  }
  const store = await serverStore(target, prefill)
  // BENCH_ID_CACHE: the server storage's idCacheSize, for A/B runs as BENCH_COOKIE_CACHE.
  const ids = process.env.BENCH_ID_CACHE
  const storage = createServerStorage({ store, ...(ids ? { idCacheSize: Number(ids) } : {}) })
  return { sessions: createSessions<Data>({ storage }), store }
}

/** `/read`: the counter's value. */
export const readN = (session: Session<Data>): number | undefined => session.get('n')

/** `/write`: increments the counter and returns the new value. */
export function writeN(session: Session<Data>): number {
  const n = (session.get('n') ?? 0) + 1
  session.set('n', n)
  return n
}
