/**
 * The scale run's fill: a sessionware server creates its sessions in-process before it listens,
 * through the same public calls an adapter makes (`sessions.attach`, `getSession`, `commit`), so
 * every session and cookie is what a real `GET /write` would have made; a million over HTTP would
 * take minutes per store. It keeps the cookies of a sample of them (spread over the whole fill)
 * for the rotating `/read` scenario, and measures what the sessions cost: the heap after a full
 * garbage collection (with `--expose-gc`), before and after.
 *
 * The fill trains V8 on plain objects as requests: the same session code then runs HTTP requests
 * measurably slower than in a process that only ever saw HTTP (sealed `/read` 0.45–0.61 against
 * 0.68–0.71 × node:http, four processes each). So a filled server is compared only with its twin
 * filled the same way (10,001 sessions), and the HTTP comparison mints its cookies over HTTP.
 *
 * For PostgreSQL, only the sampled sessions are created one by one; the rest are copies of one of
 * them under fresh random ids (one `INSERT … SELECT` over `generate_series`): one million single
 * inserts would take minutes, and a copied row has the size and shape of a real one.
 *
 * @module
 */

import type { SessionManager } from '../../src/index.ts'
import type { Target } from '../targets.ts'
import type { Data } from './common.ts'

/** What the prefill reports to the orchestrator. */
export interface PrefillReport {
  /** Sessions in the store afterwards. */
  readonly sessions: number
  /** Of those, created one by one through the session manager. */
  readonly created: number
  readonly seconds: number
  /** Heap used after a full GC, before and after (bytes); null without `--expose-gc`. */
  readonly heapBefore: number | null
  readonly heapAfter: number | null
  readonly rssBefore: number
  readonly rssAfter: number
  /** The seed cookie (`name=value`) and the sample for rotation. */
  readonly seed: string
  readonly cookies: string[]
}

const TRANSPORT = { encrypted: false, host: '127.0.0.1', remoteAddress: '127.0.0.1' }
/** Sessions being created at once (a store round trip each for Redis and PostgreSQL). */
const CONCURRENCY = 256

/** One session with `n = 1`, as `GET /write` would create it; returns its cookie. */
async function createOne(sessions: SessionManager<Data>): Promise<string> {
  const request = {}
  const attached = sessions.attach(request, undefined, () => TRANSPORT)
  const session = await sessions.getSession(request)
  session.set('n', 1)
  const setCookie = await attached.commit()
  const pair = setCookie[0]?.split(';', 1)[0]
  if (pair === undefined) throw new Error('prefill: the commit sent no cookie')
  return pair
}

const gc = (globalThis as { gc?: () => void }).gc

function heapUsed(): number | null {
  if (gc === undefined) return null
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

/** The store's PostgreSQL table is filled up to `total` rows with copies of the row `id`. */
async function copyRows(target: Target, total: number): Promise<void> {
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: process.env.BENCH_POSTGRES_URL })
  await client.connect()
  try {
    const table = `"${target.table}"`
    const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`)
    const missing = total - (rows[0] as { n: number }).n
    if (missing <= 0) return
    // Copies one real row under fresh random ids (only the primary key changes).
    await client.query(
      `INSERT INTO ${table} SELECT (jsonb_populate_record(NULL::${table}, to_jsonb(s) || ` +
        `jsonb_build_object('id', md5(random()::text) || md5(g::text)))).* ` +
        `FROM (SELECT * FROM ${table} LIMIT 1) s, generate_series(1, $1::int) g`,
      [missing],
    )
    await client.query(`ANALYZE ${table}`)
  } finally {
    await client.end()
  }
}

/**
 * Runs a fill that makes `created` of the store's `count` sessions one by one, and measures it: its
 * time, the heap and RSS before and after, and the cookies of `sample` of them (spread evenly) and
 * one more (the seed), which `fill` hands to `keep` with each session's index.
 */
export async function measureFill(
  count: number,
  created: number,
  sample: number,
  fill: (keep: (index: number, cookie: string) => void) => unknown,
): Promise<PrefillReport> {
  const heapBefore = heapUsed()
  const rssBefore = process.memoryUsage().rss
  const started = performance.now()
  const step = Math.max(1, Math.floor(created / (sample + 1)))
  const kept: string[] = []
  await fill((index, cookie) => {
    if (index % step === 0 && kept.length <= sample) kept.push(cookie)
  })
  const seconds = (performance.now() - started) / 1000
  const [seed = '', ...cookies] = kept
  return {
    sessions: count,
    created,
    seconds,
    heapBefore,
    heapAfter: heapUsed(),
    rssBefore,
    rssAfter: process.memoryUsage().rss,
    seed,
    cookies: cookies.slice(0, sample),
  }
}

/**
 * Creates `count` sessions and returns their report, with the cookies of `sample` of them (spread
 * evenly) and one more, the seed.
 */
export function prefill(
  target: Target,
  sessions: SessionManager<Data>,
  count: number,
  sample: number,
): Promise<PrefillReport> {
  const copies = target.storage === 'postgres' && count > sample + 1
  const created = copies ? Math.min(count, sample + 1) : count
  return measureFill(count, created, sample, async (keep) => {
    let next = 0
    const worker = async (): Promise<void> => {
      while (next < created) {
        const index = next++
        keep(index, await createOne(sessions))
      }
    }
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, created) }, worker))
    if (copies) await copyRows(target, count)
  })
}
