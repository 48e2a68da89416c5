/**
 * The scale run's in-process measurements, after its HTTP rounds (which load the stores holding a
 * million sessions next to the same stores holding ten thousand):
 *
 * - **memory per session**: from the prefilled servers (heap after a full GC, before and after;
 *   Redis `used_memory`; the PostgreSQL table's size), and the memory store's sweep (its
 *   `prune`, which the store runs every `sweepInterval`) timed over a million records in-process;
 * - **a user with 10,000 sessions**: created with a subject, listed (`listSessions`) and revoked
 *   (`revokeSessions`) through the session manager, on the memory store, and on Redis and
 *   PostgreSQL next to the million sessions already there (the same key prefix, the same table);
 * - **importing sessionware**: the root entry (and the node adapter) compiled as shipped, imported
 *   by a fresh `node` process: time, heap, and the modules and bytes of its import graph.
 *
 * @module
 */

import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { PostgresServer } from './postgres-server.ts'
import { BUILD_DIR } from './processes.ts'
import type { RedisServer } from './redis-server.ts'
import { median } from './stats.ts'

/** The sessions of one user. */
const USER_SESSIONS = 10_000
const CONCURRENCY = 128
const TRANSPORT = { encrypted: false, host: '127.0.0.1', remoteAddress: '127.0.0.1' }

type Manager = import('../src/index.ts').SessionManager

/** Creates `count` sessions of `subject`; returns the seconds it took. */
async function createUserSessions(
  sessions: Manager,
  subject: string,
  count: number,
): Promise<number> {
  const started = performance.now()
  let next = 0
  const worker = async (): Promise<void> => {
    while (next++ < count) {
      const request = {}
      const attached = sessions.attach(request, undefined, () => TRANSPORT)
      const session = await sessions.newSession(request)
      session.setSubject(subject)
      session.set('n' as never, 1 as never)
      await attached.commit()
    }
  }
  await Promise.all(Array.from({ length: CONCURRENCY }, worker))
  return (performance.now() - started) / 1000
}

/** One store's figures for a user's sessions. */
export interface UserSessionsResult {
  readonly store: string
  readonly sessions: number
  readonly createSeconds: number
  /** Milliseconds of `listSessions`, median of three, and how many it returned. */
  readonly listMs: number
  readonly listed: number
  /** Milliseconds of `revokeSessions`, and how many it revoked. */
  readonly revokeMs: number
  readonly revoked: number
  readonly leftAfter: number
}

async function userSessions(store: string, sessions: Manager): Promise<UserSessionsResult> {
  const subject = `bench-user-${Date.now()}`
  const createSeconds = await createUserSessions(sessions, subject, USER_SESSIONS)
  const lists: number[] = []
  let listed = 0
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    listed = (await sessions.listSessions(subject)).length
    lists.push(performance.now() - t)
  }
  const t = performance.now()
  const revoked = await sessions.revokeSessions(subject)
  const revokeMs = performance.now() - t
  const leftAfter = (await sessions.listSessions(subject)).length
  return {
    store,
    sessions: USER_SESSIONS,
    createSeconds,
    listMs: median(lists),
    listed,
    revokeMs,
    revoked,
    leftAfter,
  }
}

/** The user's sessions on every store there is (Redis and PostgreSQL next to the prefilled ones). */
export async function measureUserSessions(
  redis: RedisServer | undefined,
  postgres: PostgresServer | undefined,
  redisPrefix: string,
  table: string,
): Promise<UserSessionsResult[]> {
  const { createServerStorage, createSessions } = await import('../src/index.ts')
  const manager = (store: import('../src/index.ts').SessionStore): Manager =>
    createSessions({ storage: createServerStorage({ store }) }) as unknown as Manager
  const out: UserSessionsResult[] = []
  const { createMemoryStore } = await import('../src/stores/memory.ts')
  const memory = createMemoryStore({ maxEntries: USER_SESSIONS * 2 })
  out.push(await userSessions('memory', manager(memory)))
  await memory.close()
  if (redis !== undefined) {
    const { createClient } = await import('redis')
    const client = createClient({ url: redis.url, commandOptions: { timeout: 0 } })
    client.on('error', () => {})
    await client.connect()
    const { createRedisStore } = await import('../src/stores/redis.ts')
    out.push(
      await userSessions(
        'redis',
        manager(createRedisStore(client, { keyPrefix: redisPrefix, timeout: 60 })),
      ),
    )
    await client.close()
  }
  if (postgres !== undefined) {
    const { default: pg } = await import('pg')
    const pool = new pg.Pool({ connectionString: postgres.url, max: 8 })
    const { createPostgresStore } = await import('../src/stores/postgres.ts')
    const store = createPostgresStore(pool, { table, timeout: 60 })
    out.push(await userSessions('postgres', manager(store)))
    await store.close()
    await pool.end()
  }
  return out
}

/** The memory store's sweep over `count` records: milliseconds of one `prune` that drops none. */
export async function measureSweep(count: number): Promise<{ records: number; pruneMs: number }> {
  const { createMemoryStore } = await import('../src/stores/memory.ts')
  const store = createMemoryStore({ maxEntries: count, sweepInterval: 0 })
  const now = Date.now()
  for (let i = 0; i < count; i++) {
    const id = `bench-sweep-${i}`.padEnd(43, 'x')
    await store.create({
      id,
      fields: { n: '1' },
      version: 1,
      createdAt: now,
      lastActiveAt: now,
      expiresAt: now + 3_600_000,
    } as never)
  }
  const times: number[] = []
  for (let i = 0; i < 3; i++) {
    const t = performance.now()
    await store.prune(Date.now())
    times.push(performance.now() - t)
  }
  await store.close()
  return { records: store.size, pruneMs: median(times) }
}

/** The cost of importing one entry in a fresh process. */
export interface ImportCost {
  readonly entry: string
  /** The import itself, in the process (ms), median of the runs. */
  readonly importMs: number
  /** Heap after a full GC, after the import minus before (bytes), median. */
  readonly heapBytes: number
  /** Files and bytes of its static import graph (compiled JavaScript). */
  readonly modules: number
  readonly bytes: number
  readonly runs: number
}

const IMPORT_SCRIPT = `
const gc = globalThis.gc; gc(); const h = process.memoryUsage().heapUsed
const t = performance.now(); await import(process.argv[1]); const ms = performance.now() - t
gc(); console.log(JSON.stringify({ ms, heap: process.memoryUsage().heapUsed - h }))`

/** The files a compiled module imports statically (relative imports only), transitively. */
function importGraph(file: string): { modules: number; bytes: number } {
  const seen = new Set<string>()
  let bytes = 0
  const visit = (path: string): void => {
    if (seen.has(path)) return
    seen.add(path)
    const text = readFileSync(path, 'utf8')
    bytes += Buffer.byteLength(text)
    for (const match of text.matchAll(
      /(?:^|\n)\s*(?:import|export)[^'"]*?from\s*['"](\.[^'"]+)['"]/g,
    )) {
      visit(resolve(dirname(path), match[1] as string))
    }
  }
  visit(file)
  return { modules: seen.size, bytes }
}

/** Imports each entry of the compiled build in `runs` fresh processes. */
export function measureImports(entries: readonly string[], runs = 7): ImportCost[] {
  return entries.map((entry) => {
    const file = join(BUILD_DIR, 'src', `${entry}.js`)
    const samples = Array.from({ length: runs }, () => {
      const out = execFileSync(
        process.execPath,
        ['--expose-gc', '--input-type=module', '-e', IMPORT_SCRIPT, pathToFileURL(file).href],
        { encoding: 'utf8', timeout: 60_000 },
      )
      return JSON.parse(out) as { ms: number; heap: number }
    })
    return {
      entry: entry === 'index' ? 'sessionware' : `sessionware/${entry}`,
      importMs: median(samples.map((s) => s.ms)),
      heapBytes: median(samples.map((s) => s.heap)),
      ...importGraph(file),
      runs,
    }
  })
}
