/**
 * A session store in Redis (or Valkey), through a client the application owns: node-redis v5+
 * (`createClient()`, `createCluster()`) or ioredis (`new Redis()`, `new Redis.Cluster()`), both
 * optional peer dependencies. One hash per session with a native TTL, a hash field per session
 * field, field-level patches and conditional writes in Lua scripts, and a set per subject for
 * "sign out everywhere".
 *
 * Subpath: `sessionware/stores/redis`.
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
import { timeoutOption } from '../lib/options.ts'
import { createDeadlines } from './deadlines.ts'
import { commandsOf, type RedisStoreClient, toStrings } from './redis-client.ts'
import {
  CREATE,
  DELETE,
  INDEX,
  PATCH,
  patchArgs,
  REPLACE,
  REVOKE,
  recordArgs,
  replySubject,
  toRecord,
  ttlOf,
} from './redis-scripts.ts'

export type {
  IoRedisStoreClient,
  NodeRedisStoreClient,
  RedisStoreClient,
} from './redis-client.ts'

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /**
   * Prefix of every key this store writes: a session lives at `<keyPrefix>{<id>}`, the index of a
   * subject at `<keyPrefix>subject:{<subject>}`. At most 128 characters of printable ASCII without
   * spaces, `{` or `}` (the braces are the store's Cluster hash tags).
   *
   * @default 'sessionware:'
   */
  keyPrefix?: string
  /**
   * Seconds any single store call may take (a positive number, fractions allowed, at most
   * 2147483). A call still unanswered by then rejects with an error saying it timed out, which the
   * core reports as a `SessionStoreError`: a request never hangs on a Redis that is down or stalled.
   * The command itself is not cancelled; configure the client to fail fast as well (see
   * {@link createRedisStore}).
   *
   * @default 5
   */
  timeout?: number
}

/** The store {@link createRedisStore} returns: the subject index methods are present. */
export interface RedisStore extends SessionStore {
  /** Active records of a subject, newest `lastActiveAt` first. */
  listBySubject(subject: string): Promise<SessionRecord[]>
  /** Deletes the subject's active records (all but `exceptId`); returns how many it deleted. */
  deleteBySubject(subject: string, options?: { exceptId?: string }): Promise<number>
  /** Deletes the record only if it belongs to `subject` (one script); returns whether it did. */
  deleteIfSubject(id: string, subject: string): Promise<boolean>
}

/** The value itself (a call whose result needs no reading). */
const same = <T>(value: T): T => value

/** Printable ASCII without space, `{` (0x7b) or `}` (0x7d). */
const KEY_PREFIX = /^[\x21-\x7a\x7c\x7e]{0,128}$/

/**
 * Creates a session store in Redis.
 *
 * The store neither connects nor closes `client`: connect it before the first request and quit it
 * on shutdown yourself. Each session is a hash at `<keyPrefix>{<id>}`: metadata fields `version`,
 * `createdAt`, `lastActiveAt`, `expiresAt`, `subject` and `movedTo`, and one hash field `.<name>`
 * per session field `<name>` (the dot keeps any session field apart from the metadata). Redis
 * expires the hash at `expiresAt` by itself: every write sets its TTL to `expiresAt` minus this
 * process's clock, so a skew between the application's and Redis' clocks does not move it.
 *
 * Commands: a read is one `HGETALL`. `patch` (a change to some fields, or a touch) is one `EVALSHA`
 * of a script that checks the record (`HMGET`; absent: `gone`; a forwarding pointer: `moved`,
 * nothing written), clears a prefix (`HKEYS`, `HDEL`), unsets (`HDEL`), writes the fields, the
 * times and a new subject with one `HSET`, bumps the version (`HINCRBY`) and sets the TTL
 * (`PEXPIRE`), all inside Redis, with no read before it and no conflict between concurrent
 * patches. `create`, `replace` (whole-record compare-and-set), `delete` and `deleteIfSubject` are
 * one script each too. Scripts run by `EVALSHA`, falling back to `EVAL` once per server when the
 * script is not cached yet.
 *
 * A session with a subject also costs one small script on the subject's set (`SADD` plus a TTL no
 * shorter than the session's): sent alongside `create`, `replace` and a `patch` that sets the
 * subject, after any other `patch` of such a session; and an `SREM` after it leaves the subject.
 * Every key a script touches shares one hash slot, so the store works on Redis Cluster. Needs
 * Redis 5 or later (or Valkey).
 *
 * Every call is bounded by `timeout`. Both client libraries, by default, queue commands while
 * disconnected and send them once Redis is back, so without the timeout a request would wait as
 * long as Redis is down. Configure the client to fail fast as well, so a stopped Redis costs
 * milliseconds rather than the whole timeout and nothing piles up in memory:
 * - node-redis: `disableOfflineQueue: true` (a command while disconnected rejects at once), a
 *   `socket.reconnectStrategy` such as `(retries) => Math.min((retries + 1) * 100, 2000)` (the
 *   default one gives up for good after a `socketTimeout`), and an `'error'` listener: node-redis
 *   emits an error per failed reconnect. For `createCluster`, put the options under `defaults`.
 *   Also consider `commandOptions: { timeout: 0 }`: node-redis (v6) arms an `AbortSignal.timeout`
 *   for every command by default, which was measured at about 12 µs of CPU per command, twice what
 *   the command itself costs; this store's `timeout` already bounds every call. The trade-off:
 *   while Redis stalls with its connection open, the client keeps those commands queued until
 *   they are answered or the connection drops (the requests themselves got their error in time).
 * - ioredis: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1` (a command in flight when the
 *   connection drops is retried once, not 20 times) and an `'error'` listener. For
 *   `Redis.Cluster`, `enableOfflineQueue` goes at the top level, `maxRetriesPerRequest` under
 *   `redisOptions`.
 * A Redis that stalls with its connection open (overloaded, paused) is caught by `timeout` alone.
 *
 * node-redis' client-side caching (`RESP: 3`, `clientSideCache`) works with the store: a read may
 * come from the client's cache, and Redis's invalidation messages drop a session changed or
 * deleted elsewhere. It is not recommended: a cache hit was measured at 1.32× the CPU time of
 * the `HGETALL` it replaces, and until the client notices a half-open connection it serves
 * sessions that may since have been revoked.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createServerStorage } from 'sessionware'
 * import { createRedisStore } from 'sessionware/stores/redis'
 *
 * const redis = await createClient({
 *   url: process.env.REDIS_URL,
 *   disableOfflineQueue: true,
 *   commandOptions: { timeout: 0 }, // the store bounds each call itself
 * })
 *   .on('error', (error) => log.warn(error))
 *   .connect()
 * const storage = createServerStorage({ store: createRedisStore(redis, { keyPrefix: 'sess:' }) })
 * ```
 *
 * @throws {SessionConfigError} when `client` is neither a node-redis nor an ioredis client, or an
 * option is invalid.
 */
export function createRedisStore(
  client: RedisStoreClient,
  options: RedisStoreOptions = {},
): RedisStore {
  const redis = commandsOf(client)
  if (redis === null) {
    throw new SessionConfigError(
      'createRedisStore: client must be a node-redis (createClient, createCluster) or ioredis (Redis, Cluster) client',
    )
  }
  const keyPrefix = options.keyPrefix ?? 'sessionware:'
  if (typeof keyPrefix !== 'string' || !KEY_PREFIX.test(keyPrefix)) {
    throw new SessionConfigError(
      `createRedisStore: keyPrefix must be at most 128 printable ASCII characters without spaces or braces, got ${JSON.stringify(keyPrefix)}`,
    )
  }
  const timeout = timeoutOption('createRedisStore', 'timeout', options.timeout ?? 5)
  const timeoutMs = Math.max(1, Math.round(timeout * 1000))

  const sessionKey = (id: string): string => `${keyPrefix}{${id}}`
  const subjectKey = (subject: string): string => `${keyPrefix}subject:{${subject}}`

  const deadlines = createDeadlines(
    timeoutMs,
    (operation) => new Error(`redis store: ${operation} timed out after ${timeout} s`),
  )
  /** Runs `work`, rejecting if it has not settled within the timeout. */
  const bounded = <T>(operation: string, work: () => Promise<T>): Promise<T> =>
    deadlines.run(operation, work, same)

  const index = (subject: string, id: string, expiresAt: number): Promise<unknown> =>
    redis.run(INDEX, subjectKey(subject), [id, ttlOf(expiresAt)])

  /**
   * The reply of `write`, a script on the session; with a subject, its index is sent alongside, so
   * it never lags the session (an unused member is harmless).
   */
  const indexed = async (
    write: Promise<unknown>,
    subject: string | null | undefined,
    id: string,
    expiresAt: number,
  ): Promise<unknown> => {
    if (typeof subject !== 'string') return await write
    const [reply] = await Promise.all([write, index(subject, id, expiresAt)])
    return reply
  }

  const unindex = async (subject: string, ids: string[]): Promise<void> => {
    if (ids.length > 0) await redis.srem(subjectKey(subject), ids)
  }

  /** The ids in a subject's set, which may include stale ones (gone, or moved to another subject). */
  const members = async (subject: string): Promise<string[]> =>
    toStrings(await redis.smembers(subjectKey(subject)))

  const capabilities: StoreCapabilities = Object.freeze({
    patch: 'server',
    ttl: true,
    subjectIndex: true,
  })

  return {
    contractVersion: 2,
    capabilities,

    get(id) {
      // The request path: one HGETALL, its reply read straight into the record.
      return deadlines.run(
        'get',
        () => redis.hgetall(sessionKey(id)),
        (hash) => toRecord(id, hash),
      )
    },

    create(record) {
      return bounded('create', async (): Promise<WriteResult> => {
        const created = await indexed(
          redis.run(CREATE, sessionKey(record.id), recordArgs(record, 1)),
          record.subject,
          record.id,
          record.expiresAt,
        )
        return Number(created) === 1 ? { ok: true, version: 1 } : { ok: false, reason: 'exists' }
      })
    },

    replace(record, expectedVersion) {
      return bounded('replace', async (): Promise<WriteResult> => {
        const version = expectedVersion + 1
        const args = [String(expectedVersion), ...recordArgs(record, version)]
        const subject = record.subject
        const reply = await indexed(
          redis.run(REPLACE, sessionKey(record.id), args),
          subject,
          record.id,
          record.expiresAt,
        )
        const [status, ...rest] = toStrings(reply)
        if (status === 'ok') {
          const previous = rest[0]
          if (previous !== undefined && previous !== subject) await unindex(previous, [record.id])
          return { ok: true, version }
        }
        const current = status === 'conflict' ? toRecord(record.id, rest) : null
        return { ok: false, reason: 'conflict', current }
      })
    },

    patch(id, patch) {
      return bounded('patch', async (): Promise<PatchResult> => {
        const given = patch.subject
        const reply = await indexed(
          redis.run(PATCH, sessionKey(id), patchArgs(patch)),
          given,
          id,
          patch.expiresAt,
        )
        // {'gone'}, {'moved', movedTo} or {'ok', version, previous subject, subject}.
        const [status, second = '', third, fourth] = toStrings(reply)
        if (status === 'gone') return { ok: false, reason: 'gone' }
        if (status === 'moved') return { ok: false, reason: 'moved', movedTo: second }
        const previous = replySubject(third)
        const subject = replySubject(fourth)
        // Keep the subject's set alive as long as the session (already sent when it was given).
        if (subject !== undefined && typeof given !== 'string') {
          await index(subject, id, patch.expiresAt)
        }
        if (previous !== undefined && previous !== subject) await unindex(previous, [id])
        return { ok: true, version: Number(second) }
      })
    },

    delete(id) {
      return bounded('delete', async () => {
        const [subject] = toStrings(await redis.run(DELETE, sessionKey(id), []))
        if (subject !== undefined) await unindex(subject, [id])
      })
    },

    deleteIfSubject(id, subject) {
      return bounded('deleteIfSubject', async () => {
        const deleted = Number(await redis.run(REVOKE, sessionKey(id), [subject])) === 1
        if (deleted) await unindex(subject, [id])
        return deleted
      })
    },

    listBySubject(subject) {
      return bounded('listBySubject', async () => {
        const ids = await members(subject)
        const hashes = await Promise.all(ids.map((id) => redis.hgetall(sessionKey(id))))
        const found: SessionRecord[] = []
        const stale: string[] = []
        ids.forEach((id, i) => {
          const record = toRecord(id, hashes[i])
          if (record?.subject === subject) found.push(record)
          else stale.push(id)
        })
        await unindex(subject, stale)
        return found.sort((a, b) => b.lastActiveAt - a.lastActiveAt)
      })
    },

    deleteBySubject(subject, deleteOptions) {
      return bounded('deleteBySubject', async () => {
        const exceptId = deleteOptions?.exceptId
        const ids = (await members(subject)).filter((id) => id !== exceptId)
        const revoked = await Promise.all(
          ids.map((id) => redis.run(REVOKE, sessionKey(id), [subject])),
        )
        // Deleted and stale members alike leave the set.
        await unindex(subject, ids)
        return revoked.filter((reply) => Number(reply) === 1).length
      })
    },
  }
}
