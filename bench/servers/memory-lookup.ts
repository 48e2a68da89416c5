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
 * @module
 */

import { hash } from 'node:crypto'
import { FOURTEEN_DAYS_S, type Listening, listenNode, notFound, send } from './common.ts'

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

/** Starts the ceiling server. */
export function startMemoryLookup(): Promise<Listening> {
  const records = new Map<string, StoredRecord>()
  const find = (cookie: string | undefined): StoredRecord => {
    const at = cookie === undefined ? -1 : cookie.indexOf('session=')
    if (at < 0) throw new Error('no session cookie')
    const id = (cookie as string).slice(at + 8, at + 8 + ID_LENGTH)
    const key = digest(id)
    let record = records.get(key)
    const now = Date.now()
    if (record === undefined || record.expiresAt <= now) {
      record = { fields: new Map([['n', '1']]), lastActiveAt: now, expiresAt: now + LIFETIME_MS }
      records.set(key, record)
    }
    return record
  }
  return listenNode((req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read': {
        const n = JSON.parse(find(req.headers.cookie).fields.get('n') as string) as number
        res.setHeader('vary', 'Cookie')
        return send(res, n)
      }
      case '/write': {
        const record = find(req.headers.cookie)
        const n = JSON.parse(record.fields.get('n') as string) as number
        record.fields.set('n', JSON.stringify(n + 1))
        record.lastActiveAt = Date.now()
        res.setHeader('vary', 'Cookie')
        return send(res, 2)
      }
      default:
        return notFound(res)
    }
  })
}
