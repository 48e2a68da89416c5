/**
 * The memory store's ceiling: bare node:http doing the work that reading a server-side session
 * kept in process memory under the hash of its id (sessionware's default, `hashIds`) has to do,
 * with no session library around it:
 *
 * - `/none`: nothing (`{"n":0}`);
 * - `/read`: finds `session=` in the Cookie header, hashes the id with SHA-256 (base64url, the
 *   store key), looks the record up in a `Map`, checks its expiry against the clock, parses its
 *   one field as JSON, sets `Vary: Cookie`, `{"n":1}`;
 * - `/write`: the same read, then the field set to the counter plus one and the record's
 *   last-active time to now, `{"n":2}` (a server-side session's cookie does not change).
 *
 * The benchmark gives bare servers random cookies of 100 characters; the id is their first 32
 * (the length of sessionware's ids). An id seen for the first time gets its record then, so from
 * the second pass over the 10,000 rotating cookies on every request finds one: 10,001 records, as
 * the memory store's server holds. Its ratio to bare node:http is the most a hashed-id store in
 * memory can reach on this machine; it leaves out what a library must add to it (the id's format
 * check, copying the record out, a session object).
 *
 * `node-memory-lookup-api` (an extra target) does the same work behind the least any library with
 * sessionware's API adds (bench/servers/lazy-api.ts): the most a lazy, promise-based session API
 * can reach with a memory store here. `node-memory-lookup-10k` and `-1m` (the scale run) fill the
 * `Map` before they listen, as the memory store's scale servers are filled, and hand their cookies
 * over: what holding a million records costs a request with no session library.
 *
 * @module
 */

import { hash, randomBytes } from 'node:crypto'
import { FOURTEEN_DAYS_S, type Listening, listenNode, notFound, send } from './common.ts'
import { type LazyWork, lazyApi } from './lazy-api.ts'
import { measureFill, type PrefillReport } from './prefill.ts'

/** A record as a minimal store keeps it. */
interface StoredRecord {
  fields: Map<string, string>
  lastActiveAt: number
  expiresAt: number
}

const ID_LENGTH = 32
const LIFETIME_MS = FOURTEEN_DAYS_S * 1000

/** SHA-256, base64url, one-shot (node 20.12+; the project needs 20.19), as sessionware does. */
const digest = (id: string): string => hash('sha256', id, 'base64url')

const newRecord = (now: number): StoredRecord => ({
  fields: new Map([['n', '1']]),
  lastActiveAt: now,
  expiresAt: now + LIFETIME_MS,
})

/** The records, and the one a Cookie header names (made on first sight, or afresh once expired). */
function memoryLookup() {
  const records = new Map<string, StoredRecord>()
  const find = (cookie: string | undefined): StoredRecord => {
    const at = cookie === undefined ? -1 : cookie.indexOf('session=')
    if (at < 0) throw new Error('no session cookie')
    const id = (cookie as string).slice(at + 8, at + 8 + ID_LENGTH)
    const key = digest(id)
    let record = records.get(key)
    const now = Date.now()
    if (record === undefined || record.expiresAt <= now) {
      record = newRecord(now)
      records.set(key, record)
    }
    return record
  }
  return { records, find }
}

/** The ceiling's work on a record, with or without the lazy API in front (lazy-api.ts). */
function memoryWork(find: (cookie: string | undefined) => StoredRecord): LazyWork<StoredRecord> {
  return {
    open: find,
    read: (record) => JSON.parse(record.fields.get('n') as string) as number,
    write(record) {
      const n = JSON.parse(record.fields.get('n') as string) as number
      record.fields.set('n', JSON.stringify(n + 1))
      record.lastActiveAt = Date.now()
    },
    cookie: () => undefined,
  }
}

/**
 * Fills `records` with `count` sessions under random ids of sessionware's length (the scale run's
 * ceilings), keeping the cookies of `sample` of them, spread over the fill, and one more (the seed).
 */
function fill(
  records: Map<string, StoredRecord>,
  count: number,
  sample: number,
): Promise<PrefillReport> {
  return measureFill(count, count, sample, (keep) => {
    const now = Date.now()
    for (let index = 0; index < count; index++) {
      const id = randomBytes(24).toString('base64url')
      records.set(digest(id), newRecord(now))
      keep(index, `session=${id}`)
    }
  })
}

/** How to start the ceiling server. */
export interface MemoryLookupOptions {
  /** Behind the least a lazy session API adds (`node-memory-lookup-api`). */
  readonly api?: boolean
  /** Sessions to create before listening (the scale run), and how many cookies to report. */
  readonly prefill?: { readonly count: number; readonly sample: number }
}

/** Starts the ceiling server; with `prefill`, `report` says what the fill made. */
export async function startMemoryLookup(options: MemoryLookupOptions = {}): Promise<Listening> {
  const { records, find } = memoryLookup()
  const work = memoryWork(find)
  const report =
    options.prefill === undefined
      ? undefined
      : await fill(records, options.prefill.count, options.prefill.sample)
  const server = await listenNode(
    options.api
      ? lazyApi(work)
      : (req, res) => {
          switch (req.url) {
            case '/none':
              return send(res, 0)
            case '/read': {
              const n = work.read(find(req.headers.cookie))
              res.setHeader('vary', 'Cookie')
              return send(res, n)
            }
            case '/write': {
              work.write(find(req.headers.cookie))
              res.setHeader('vary', 'Cookie')
              return send(res, 2)
            }
            default:
              return notFound(res)
          }
        },
  )
  return report === undefined ? server : { ...server, report }
}
