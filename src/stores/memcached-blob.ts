/**
 * Internal: one memcached value per session for the aiohttp-session layout, through a client with
 * memcache-client's conventions: `gets` for the value and its CAS unique, `add` to insert, `cas`
 * to write back only if nobody wrote since. Exptimes follow memcached's (and aiohttp-session's)
 * 30-day rule.
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-memcached`).
 *
 * @module
 */

import { SessionConfigError } from '../errors.ts'
import { type Backend, secondsLeft } from './blob-store.ts'
import type { MemcachedStoreClient } from './memcached.ts'

/** memcached reads an exptime above this many seconds (30 days) as an absolute unix time. */
const MAX_RELATIVE_EXPTIME = 2_592_000

/**
 * memcached's exptime for a value expiring at `expiresAt`: the seconds left up to 30 days, the
 * unix time `int(now) + seconds` beyond (as aiohttp-session writes it), -1 (gone at once) when
 * already past.
 */
export function exptimeOf(expiresAt: number, now: number): number {
  const seconds = secondsLeft(expiresAt, now)
  if (seconds <= 0) return -1
  return seconds <= MAX_RELATIVE_EXPTIME ? seconds : Math.floor(now / 1000) + seconds
}

/** memcached's longest key, in bytes. */
const MAX_KEY_BYTES = 250
/** Printable ASCII without space: what a memcached text-protocol key may hold. */
const KEY_CHARACTERS = /^[\x21-\x7e]+$/

function isKey(key: string): boolean {
  return key.length <= MAX_KEY_BYTES && KEY_CHARACTERS.test(key)
}

/** 'OK' when the write resolved, the reply when memcached refused it; rethrows anything else. */
async function outcome(write: Promise<unknown>): Promise<string> {
  try {
    // memcache-client resolves this marker instead of rejecting when `ignoreNotStored` is set.
    return (await write) === 'ignore NOT_STORED' ? 'NOT_STORED' : 'OK'
  } catch (error) {
    const message = error instanceof Error ? error.message : ''
    if (message === 'NOT_STORED' || message === 'EXISTS' || message === 'NOT_FOUND') return message
    throw error
  }
}

/**
 * The backend over `client`.
 *
 * @throws {SessionConfigError} when `client` lacks one of the methods.
 */
export function memcachedBackend(client: MemcachedStoreClient, caller: string): Backend {
  const candidate = client as Partial<Record<keyof MemcachedStoreClient, unknown>> | null
  const methods = ['get', 'gets', 'add', 'cas', 'delete'] as const
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    methods.some((name) => typeof candidate[name] !== 'function')
  ) {
    throw new SessionConfigError(
      `${caller}: client must be a memcached client with get, gets, add, cas and delete (such as MemcacheClient from memcache-client)`,
    )
  }
  const requireKey = (key: string): string => {
    if (isKey(key)) return key
    throw new RangeError(
      `${caller}: ${JSON.stringify(key)} cannot be a memcached key (printable ASCII without spaces, at most ${MAX_KEY_BYTES} bytes)`,
    )
  }
  return {
    async read(key) {
      if (!isKey(key)) return null
      const found = await client.gets(key)
      if (found === undefined || found === null) return null
      const { value, casUniq } = found
      if ((typeof casUniq !== 'string' || casUniq === '') && typeof casUniq !== 'number') {
        throw new Error(`${caller}: gets of ${key} returned no CAS unique`)
      }
      const stored =
        typeof value === 'string' || value instanceof Uint8Array ? value : JSON.stringify(value)
      return { value: stored, token: casUniq }
    },
    async add(key, value, expiresAt, now) {
      const lifetime = exptimeOf(expiresAt, now)
      if (lifetime < 0) return true // already expired: nothing to keep
      return (await outcome(client.add(requireKey(key), toText(value), { lifetime }))) === 'OK'
    },
    async swap(key, token, value, expiresAt, now) {
      const lifetime = exptimeOf(expiresAt, now)
      const casUniq = token
      return (
        (await outcome(client.cas(requireKey(key), toText(value), { casUniq, lifetime }))) === 'OK'
      )
    },
    async remove(key) {
      if (isKey(key)) await outcome(client.delete(key))
    },
  }
}

/** memcache-client stores a string with flags 0, as aiohttp-session's bytes are stored. */
function toText(value: string | Uint8Array): string {
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8')
}
