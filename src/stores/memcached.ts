/**
 * A session store in memcached, through a client the application creates (memcache-client, an
 * optional peer dependency): one JSON value per session, `add` for insert-if-absent, `gets` + `cas`
 * for compare-and-set and for patches (memcached cannot merge on the server), memcached's own
 * expiry for TTL. No subject index.
 *
 * Subpath: `sessionware/stores/memcached`.
 *
 * @module
 */

import type {
  PatchResult,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  WriteResult,
} from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { clockOption, timeoutOption } from '../lib/options.ts'
import { withTimeout } from '../lib/timeout.ts'
import { decode, encode, patchRecord } from './memcached-record.ts'

/** What a `get` or `gets` of memcache-client resolves to for a key it found. */
export interface MemcachedValue {
  /** The stored value: a string for values this store wrote. */
  readonly value: unknown
  /** The CAS unique (`gets` only). */
  readonly casUniq?: string | number | undefined
}

/**
 * The part of a memcached client the store calls: a structural subset of `MemcacheClient` from
 * memcache-client, whose conventions it follows. Reads resolve to `undefined` on a miss. Writes
 * resolve when memcached answers `STORED` or `DELETED`, and reject with an `Error` whose message is
 * the reply (`NOT_STORED`, `EXISTS`, `NOT_FOUND`) otherwise. `lifetime` is memcached's exptime.
 */
export interface MemcachedStoreClient {
  /** `get <key>`. */
  get(key: string): Promise<MemcachedValue | undefined>
  /** `gets <key>`: the value with its CAS unique. */
  gets(key: string): Promise<MemcachedValue | undefined>
  /** `add <key> 0 <lifetime> <bytes>`: stores only if the key is absent. */
  add(key: string, value: string, options: { lifetime: number }): Promise<unknown>
  /** `cas <key> 0 <lifetime> <bytes> <casUniq>`: stores only if nobody wrote since the `gets`. */
  cas(
    key: string,
    value: string,
    options: { casUniq: string | number; lifetime: number },
  ): Promise<unknown>
  /** `delete <key>`. */
  delete(key: string): Promise<unknown>
}

/** Options of {@link createMemcachedStore}. */
export interface MemcachedStoreOptions {
  /**
   * Prepended to the session id to form the memcached key. Printable ASCII without spaces
   * (`!` to `~`), at most 200 characters, so that prefix and id stay within memcached's 250-byte
   * key limit. May be empty.
   *
   * @default 'sessionware:'
   */
  keyPrefix?: string
  /**
   * Seconds one store call may take in all (a positive number; fractions allowed, at most
   * 2147483). A call still unanswered by then rejects with an `Error` saying it timed out, so a
   * request never hangs on an unreachable memcached. A timed-out write may still land later.
   *
   * @default 5
   */
  timeout?: number
  /**
   * The current time in epoch milliseconds, used for expiry checks and exptimes. Inject one to move
   * time in tests.
   *
   * @default Date.now
   */
  clock?: () => number
  /**
   * How many times one `patch` may read the record (`gets`) and write it back (`cas`) when other
   * writers keep changing it in between (an integer from 1 to 1000). Between attempts it waits a
   * random time below 1 ms, then below 2, 4, … up to 32 ms. When every attempt lost its race, the
   * patch rejects with an error saying so, which the core reports as a `SessionStoreError`.
   * `timeout` bounds the whole patch as well. (32 concurrent patches of one session on loopback
   * took at most 13 attempts each.)
   *
   * @default 40
   */
  casAttempts?: number
}

/** memcached reads an exptime above this many seconds (30 days) as an absolute unix time. */
const MAX_RELATIVE_EXPTIME = 2_592_000
/** memcached's longest key, in bytes. */
const MAX_KEY_BYTES = 250
const MAX_PREFIX_LENGTH = 200
/** Printable ASCII without space: what a memcached text-protocol key may safely hold. */
const KEY_CHARACTERS = /^[\x21-\x7e]*$/
/** Attempts of `create` when memcached still holds a record that has expired by our clock. */
const CREATE_ATTEMPTS = 3
/** The longest wait between two attempts of a patch, in ms. */
const MAX_BACKOFF_MS = 32
const MAX_CAS_ATTEMPTS = 1000

/**
 * Creates a session store in memcached.
 *
 * Each session is one value under the key `keyPrefix + id`: the JSON of `{ version, createdAt,
 * lastActiveAt, expiresAt, subject, movedTo, fields }`. `create` is `add`; `replace` is `gets`, a
 * version check, then `cas`; `delete` is `delete`. memcached cannot merge a change on the server,
 * so `patch` reads the record with `gets`, applies the change here and writes it back with `cas`:
 * two round trips, and when another writer changed the record in between, the `cas` fails and the
 * patch starts again on the new record (`casAttempts`, with a short random wait): no change is ever
 * lost, but concurrent writes of one session are serialized (`capabilities.patch` is
 * `'compare-and-set'`). Each write sets memcached's exptime from `expiresAt` (relative seconds up
 * to 30 days, an absolute unix time beyond, one second of slack for memcached's coarse clock), and
 * `get` also checks `expiresAt` itself.
 *
 * There is no subject index: `capabilities.subjectIndex` is false and the store has no
 * `listBySubject` or `deleteBySubject` ("sign out everywhere" needs a store that has one). memcached
 * is a cache: sessions are lost when it restarts or evicts them under memory pressure.
 *
 * The client belongs to the caller, who creates, connects and shuts it down; errors from it are
 * thrown as they are, and the core wraps them in `SessionStoreError`. An id that cannot be part of
 * a memcached key (over 250 bytes with the prefix, spaces, control or non-ASCII characters) is
 * never stored: `get` returns null, `patch` answers `gone`, `delete` does nothing, `create` and
 * `replace` reject.
 *
 * @example
 * ```ts
 * import { MemcacheClient } from 'memcache-client'
 * import { createMemcachedStore } from 'sessionware/stores/memcached'
 *
 * const client = new MemcacheClient({ server: '127.0.0.1:11211' })
 * const store = createMemcachedStore(client, { keyPrefix: 'myapp:session:', timeout: 2 })
 * ```
 *
 * @throws {SessionConfigError} when the client or an option is invalid.
 */
export function createMemcachedStore(
  client: MemcachedStoreClient,
  options: MemcachedStoreOptions = {},
): SessionStore {
  if (!isClient(client)) {
    throw new SessionConfigError(
      'createMemcachedStore: client must be a memcached client with get, gets, add, cas and delete (such as MemcacheClient from memcache-client)',
    )
  }
  const keyPrefix = options.keyPrefix ?? 'sessionware:'
  if (
    typeof keyPrefix !== 'string' ||
    keyPrefix.length > MAX_PREFIX_LENGTH ||
    !KEY_CHARACTERS.test(keyPrefix)
  ) {
    throw new SessionConfigError(
      `createMemcachedStore: keyPrefix must be printable ASCII without spaces, at most ${MAX_PREFIX_LENGTH} characters, got ${JSON.stringify(keyPrefix)}`,
    )
  }
  const timeout = timeoutOption('createMemcachedStore', 'timeout', options.timeout ?? 5)
  const clock = clockOption('createMemcachedStore', options.clock ?? Date.now)
  const casAttempts = options.casAttempts ?? 40
  if (
    typeof casAttempts !== 'number' ||
    !Number.isInteger(casAttempts) ||
    casAttempts < 1 ||
    casAttempts > MAX_CAS_ATTEMPTS
  ) {
    throw new SessionConfigError(
      `createMemcachedStore: casAttempts must be an integer from 1 to ${MAX_CAS_ATTEMPTS}, got ${String(casAttempts)}`,
    )
  }

  /** The memcached key of an id, or null when the id cannot be part of one. */
  const keyOf = (id: string): string | null => {
    const key = `${keyPrefix}${id}`
    return typeof id === 'string' &&
      id !== '' &&
      key.length <= MAX_KEY_BYTES &&
      KEY_CHARACTERS.test(key)
      ? key
      : null
  }
  const requireKey = (id: string): string => {
    const key = keyOf(id)
    if (key === null) {
      throw new RangeError(
        `memcached store: id ${JSON.stringify(id)} cannot be a memcached key (printable ASCII without spaces, at most ${MAX_KEY_BYTES} bytes with the prefix)`,
      )
    }
    return key
  }

  /** Runs one store call, rejecting once `timeout` seconds have passed without an answer. */
  const bounded = <T>(operation: string, run: () => Promise<T>): Promise<T> =>
    withTimeout(
      run(),
      timeout * 1000,
      () => new Error(`memcached store: ${operation} timed out after ${timeout} s`),
    )

  /** The stored record under `key` if it has not expired by our clock, with its CAS unique. */
  const read = async (
    key: string,
    id: string,
    withCas: boolean,
  ): Promise<{ record: SessionRecord; casUniq: string | number | undefined } | null> => {
    const found = withCas ? await client.gets(key) : await client.get(key)
    if (found === undefined || found === null) return null
    const record = decode(found.value, id, key)
    if (record.expiresAt <= clock()) return null
    return { record, casUniq: found.casUniq }
  }

  const capabilities: StoreCapabilities = Object.freeze({
    patch: 'compare-and-set',
    ttl: true,
    subjectIndex: false,
  })

  return {
    contractVersion: 2,
    capabilities,

    get(id) {
      return bounded('get', async () => {
        const key = keyOf(id)
        if (key === null) return null
        return (await read(key, id, false))?.record ?? null
      })
    },

    create(record) {
      return bounded('create', async (): Promise<WriteResult> => {
        const key = requireKey(record.id)
        const value = encode(record, 1)
        for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
          const lifetime = exptime(record.expiresAt, clock())
          if ((await reply(client.add(key, value, { lifetime }))) === 'OK') {
            return { ok: true, version: 1 }
          }
          // memcached keeps a record up to a second past expiresAt (the slack in `exptime`). One
          // that has expired by our clock counts as absent: overwrite it, conditionally.
          const found = await client.gets(key)
          if (found === undefined || found === null) continue
          if (decode(found.value, record.id, key).expiresAt > clock()) {
            return { ok: false, reason: 'exists' }
          }
          const casUniq = requireCasUniq(found, key)
          if ((await reply(client.cas(key, value, { casUniq, lifetime }))) === 'OK') {
            return { ok: true, version: 1 }
          }
        }
        return { ok: false, reason: 'exists' }
      })
    },

    replace(record, expectedVersion) {
      return bounded('replace', async (): Promise<WriteResult> => {
        const key = requireKey(record.id)
        const found = await read(key, record.id, true)
        if (found === null) return { ok: false, reason: 'conflict', current: null }
        if (found.record.version !== expectedVersion) {
          return { ok: false, reason: 'conflict', current: found.record }
        }
        const version = expectedVersion + 1
        const result = await reply(
          client.cas(key, encode(record, version), {
            casUniq: requireCasUniq(found, key),
            lifetime: exptime(record.expiresAt, clock()),
          }),
        )
        if (result === 'OK') return { ok: true, version }
        if (result === 'NOT_FOUND') return { ok: false, reason: 'conflict', current: null }
        // EXISTS: another writer got there first; report what it wrote.
        const current = await read(key, record.id, false)
        return { ok: false, reason: 'conflict', current: current?.record ?? null }
      })
    },

    patch(id, patch) {
      return bounded('patch', async (): Promise<PatchResult> => {
        const key = keyOf(id)
        if (key === null) return { ok: false, reason: 'gone' }
        for (let attempt = 0; attempt < casAttempts; attempt++) {
          if (attempt > 0) await backoff(attempt)
          const found = await read(key, id, true)
          if (found === null) return { ok: false, reason: 'gone' }
          const { movedTo } = found.record
          if (typeof movedTo === 'string') return { ok: false, reason: 'moved', movedTo }
          const next = patchRecord(found.record, patch)
          const result = await reply(
            client.cas(key, encode(next, next.version), {
              casUniq: requireCasUniq(found, key),
              lifetime: exptime(next.expiresAt, clock()),
            }),
          )
          if (result === 'OK') return { ok: true, version: next.version }
          if (result === 'NOT_FOUND') return { ok: false, reason: 'gone' }
          // EXISTS: another writer changed the record since the gets; start again on its version.
        }
        throw new Error(
          `memcached store: patch of ${key} gave up after ${casAttempts} compare-and-set attempts (casAttempts): other writers changed the record every time`,
        )
      })
    },

    delete(id) {
      return bounded('delete', async () => {
        const key = keyOf(id)
        if (key !== null) await reply(client.delete(key))
      })
    },
  }
}

/**
 * memcached's exptime for a record expiring at `expiresAt` (epoch ms): relative seconds up to 30
 * days, an absolute unix time beyond (memcached would read a larger relative value as a date in
 * 1970 and drop the record at once), -1 (expired at once) when already past. One second of slack,
 * because memcached's clock ticks once a second and may run almost a second behind; `get` checks
 * `expiresAt` exactly.
 */
function exptime(expiresAt: number, now: number): number {
  if (!Number.isFinite(expiresAt) || !Number.isFinite(now)) {
    throw new RangeError(`memcached store: expiresAt and the clock must be finite epoch ms`)
  }
  const remaining = expiresAt - now
  if (remaining <= 0) return -1
  const seconds = Math.ceil(remaining / 1000) + 1
  return seconds <= MAX_RELATIVE_EXPTIME ? seconds : Math.ceil(expiresAt / 1000) + 1
}

/** Waits a random time below 2^(attempt - 1) ms, at most {@link MAX_BACKOFF_MS}. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(MAX_BACKOFF_MS, 2 ** (attempt - 1))
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}

/** The replies the store expects as outcomes rather than errors. */
type Reply = 'OK' | 'NOT_STORED' | 'EXISTS' | 'NOT_FOUND'

/** Awaits a write: 'OK' when it resolved, the reply when memcached refused it; rethrows the rest. */
async function reply(write: Promise<unknown>): Promise<Reply> {
  try {
    // memcache-client resolves this marker instead of rejecting when `ignoreNotStored` is set.
    return (await write) === 'ignore NOT_STORED' ? 'NOT_STORED' : 'OK'
  } catch (error) {
    const message = error instanceof Error ? error.message : undefined
    if (message === 'NOT_STORED' || message === 'EXISTS' || message === 'NOT_FOUND') return message
    throw error
  }
}

function requireCasUniq(
  found: { casUniq?: string | number | undefined },
  key: string,
): string | number {
  const { casUniq } = found
  if ((typeof casUniq === 'string' && casUniq !== '') || typeof casUniq === 'number') return casUniq
  throw new Error(`memcached store: gets of ${key} returned no CAS unique`)
}

function isClient(value: unknown): value is MemcachedStoreClient {
  const candidate = value as Partial<Record<keyof MemcachedStoreClient, unknown>> | null
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.get === 'function' &&
    typeof candidate.gets === 'function' &&
    typeof candidate.add === 'function' &&
    typeof candidate.cas === 'function' &&
    typeof candidate.delete === 'function'
  )
}
