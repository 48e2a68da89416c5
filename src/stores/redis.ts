/**
 * A session store in Redis (or Valkey), through a client the application owns: node-redis v5+
 * (`createClient()`, `createCluster()`) or ioredis (`new Redis()`, `new Redis.Cluster()`), both
 * optional peer dependencies. One hash per session with a native TTL, conditional writes in Lua
 * scripts, and a set per subject for "sign out everywhere".
 *
 * Subpath: `sessionware/stores/redis`.
 *
 * @module
 */

import type { SessionRecord, SessionStore, StoreCapabilities, WriteResult } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { timeoutOption } from '../lib/options.ts'
import { withTimeout } from '../lib/timeout.ts'

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

/**
 * The node-redis (v5 and later) methods the store calls, present on a client from `createClient()`
 * and on a cluster from `createCluster()`.
 */
export interface NodeRedisStoreClient {
  hGetAll(key: string): Promise<unknown>
  sMembers(key: string): Promise<unknown>
  sRem(key: string, members: string[]): Promise<unknown>
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
  evalSha(sha1: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>
}

/** The ioredis methods the store calls, present on `new Redis()` and on `new Redis.Cluster()`. */
export interface IoRedisStoreClient {
  hgetall(key: string): Promise<unknown>
  smembers(key: string): Promise<unknown>
  srem(key: string, ...members: string[]): Promise<unknown>
  eval(script: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
  evalsha(sha1: string, numKeys: number, ...keysAndArgs: string[]): Promise<unknown>
}

/**
 * A Redis client the store accepts, recognised by its method names: camelCase (`hGetAll`) is
 * node-redis, lowercase (`hgetall`) is ioredis.
 */
export type RedisStoreClient = NodeRedisStoreClient | IoRedisStoreClient

/** The store {@link createRedisStore} returns: the subject index methods are present. */
export interface RedisStore extends SessionStore {
  /** Active records of a subject, newest `lastActiveAt` first. */
  listBySubject(subject: string): Promise<SessionRecord[]>
  /** Deletes the subject's active records (all but `exceptId`); returns how many it deleted. */
  deleteBySubject(subject: string, options?: { exceptId?: string }): Promise<number>
}

/** Printable ASCII without space, `{` (0x7b) or `}` (0x7d). */
const KEY_PREFIX = /^[\x21-\x7a\x7c\x7e]{0,128}$/

/** A Lua script and, once computed, its SHA-1 (the EVALSHA name Redis gives it). */
interface Script {
  readonly source: string
  sha?: Promise<string>
}

const script = (source: string): Script => ({ source })

// Insert-if-absent. KEYS: session. ARGV: data, version, createdAt, lastActiveAt, expiresAt,
// expire-at ms (an integer), [subject]. Returns 1, or 0 when the key exists.
const CREATE = script(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
local fields = {'data', ARGV[1], 'version', ARGV[2], 'createdAt', ARGV[3], 'lastActiveAt', ARGV[4], 'expiresAt', ARGV[5]}
if ARGV[7] then table.insert(fields, 'subject') table.insert(fields, ARGV[7]) end
redis.call('HSET', KEYS[1], unpack(fields))
redis.call('PEXPIREAT', KEYS[1], ARGV[6])
return 1`)

// Compare-and-set. KEYS: session. ARGV: expected version, then CREATE's arguments. Returns
// {'ok', [previous subject]}, {'gone'}, or {'conflict', field, value, ...} with the stored hash.
const UPDATE = script(`
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {'gone'} end
if version ~= ARGV[1] then
  local current = redis.call('HGETALL', KEYS[1])
  table.insert(current, 1, 'conflict')
  return current
end
local previous = redis.call('HGET', KEYS[1], 'subject')
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'version', ARGV[3], 'createdAt', ARGV[4], 'lastActiveAt', ARGV[5], 'expiresAt', ARGV[6])
if ARGV[8] then redis.call('HSET', KEYS[1], 'subject', ARGV[8])
elseif previous then redis.call('HDEL', KEYS[1], 'subject') end
redis.call('PEXPIREAT', KEYS[1], ARGV[7])
if previous then return {'ok', previous} end
return {'ok'}`)

// Metadata-only bump. KEYS: session. ARGV: lastActiveAt, expiresAt, expire-at ms. Returns
// {subject}, or {} when the record has none or is absent (then nothing is written).
const TOUCH = script(`
if redis.call('EXISTS', KEYS[1]) == 0 then return {} end
local subject = redis.call('HGET', KEYS[1], 'subject')
redis.call('HSET', KEYS[1], 'lastActiveAt', ARGV[1], 'expiresAt', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
if subject then return {subject} end
return {}`)

// KEYS: session. Returns {subject} of the deleted record, or {}.
const DELETE = script(`
local subject = redis.call('HGET', KEYS[1], 'subject')
redis.call('DEL', KEYS[1])
if subject then return {subject} end
return {}`)

// Deletes the session if it still belongs to the subject. KEYS: session. ARGV: subject.
const REVOKE = script(`
if redis.call('HGET', KEYS[1], 'subject') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`)

// Adds an id to a subject's set and makes the set live at least until the session's expiry (never
// shortens it). KEYS: subject set. ARGV: id, expire-at ms. A session already expired is skipped.
const INDEX = script(`
local at = tonumber(ARGV[2])
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
if at <= now then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
local ttl = redis.call('PTTL', KEYS[1])
if ttl < 0 or now + ttl < at then redis.call('PEXPIREAT', KEYS[1], ARGV[2]) end
return 1`)

/** The few commands the store needs, the same for both client libraries. */
interface Commands {
  hgetall(key: string): Promise<unknown>
  smembers(key: string): Promise<unknown>
  srem(key: string, members: string[]): Promise<unknown>
  evalsha(sha: string, keys: string[], args: string[]): Promise<unknown>
  eval(source: string, keys: string[], args: string[]): Promise<unknown>
}

/** The one place where node-redis and ioredis differ. */
function commandsOf(client: RedisStoreClient): Commands | null {
  if (typeof client !== 'object' || client === null) return null
  const node = client as Partial<NodeRedisStoreClient>
  if (typeof node.hGetAll === 'function' && typeof node.evalSha === 'function') {
    const c = client as NodeRedisStoreClient
    return {
      hgetall: (key) => c.hGetAll(key),
      smembers: (key) => c.sMembers(key),
      srem: (key, members) => c.sRem(key, members),
      evalsha: (sha, keys, args) => c.evalSha(sha, { keys, arguments: args }),
      eval: (source, keys, args) => c.eval(source, { keys, arguments: args }),
    }
  }
  const io = client as Partial<IoRedisStoreClient>
  if (typeof io.hgetall === 'function' && typeof io.evalsha === 'function') {
    const c = client as IoRedisStoreClient
    return {
      hgetall: (key) => c.hgetall(key),
      smembers: (key) => c.smembers(key),
      srem: (key, members) => c.srem(key, ...members),
      evalsha: (sha, keys, args) => c.evalsha(sha, keys.length, ...keys, ...args),
      eval: (source, keys, args) => c.eval(source, keys.length, ...keys, ...args),
    }
  }
  return null
}

/**
 * Creates a session store in Redis.
 *
 * The store neither connects nor closes `client`: connect it before the first request and quit it
 * on shutdown yourself. Each session is a hash at `<keyPrefix>{<id>}` (fields `data`, `version`,
 * `createdAt`, `lastActiveAt`, `expiresAt`, `subject`) that Redis expires at `expiresAt` by itself.
 * A read is one `HGETALL`; `create`, `update`, `touch` and `delete` are one Lua script each (run by
 * `EVALSHA`, falling back to `EVAL` once per server when the script is not cached yet). A session
 * with a subject also costs one small script on the subject's set (`SADD` plus a TTL no shorter
 * than the session's), sent alongside `create` and `update`, after `touch`, and an `SREM` after
 * `delete`. Every key a script touches shares one hash slot, so the store works on Redis Cluster.
 * Needs Redis 5 or later (or Valkey). Expiry follows the Redis server's clock.
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
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { serverStorage } from 'sessionware'
 * import { createRedisStore } from 'sessionware/stores/redis'
 *
 * const redis = await createClient({
 *   url: process.env.REDIS_URL,
 *   disableOfflineQueue: true,
 *   commandOptions: { timeout: 0 }, // the store bounds each call itself
 * })
 *   .on('error', (error) => log.warn(error))
 *   .connect()
 * const storage = serverStorage({ store: createRedisStore(redis, { keyPrefix: 'sess:' }) })
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

  /** Runs `work`, rejecting if it has not settled within the timeout. */
  const bounded = <T>(operation: string, work: () => Promise<T>): Promise<T> =>
    withTimeout(
      work(),
      timeoutMs,
      () => new Error(`redis store: ${operation} timed out after ${timeout} s`),
    )

  const run = async (lua: Script, key: string, args: string[]): Promise<unknown> => {
    lua.sha ??= sha1(lua.source)
    const sha = await lua.sha
    try {
      return await redis.evalsha(sha, [key], args)
    } catch (error) {
      // Not in this server's script cache (first use, restart, failover): EVAL caches it.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await redis.eval(lua.source, [key], args)
    }
  }

  const index = (subject: string, id: string, expiresAt: number): Promise<unknown> =>
    run(INDEX, subjectKey(subject), [id, expireAt(expiresAt)])

  const unindex = async (subject: string, ids: string[]): Promise<void> => {
    if (ids.length > 0) await redis.srem(subjectKey(subject), ids)
  }

  /** The ids in a subject's set, which may include stale ones (gone, or moved to another subject). */
  const members = async (subject: string): Promise<string[]> =>
    toStrings(await redis.smembers(subjectKey(subject)))

  const capabilities: StoreCapabilities = Object.freeze({
    atomic: true,
    ttl: true,
    subjectIndex: true,
  })

  return {
    contractVersion: 1,
    capabilities,

    get(id) {
      return bounded('get', async () => toRecord(id, await redis.hgetall(sessionKey(id))))
    },

    create(record) {
      return bounded('create', async (): Promise<WriteResult> => {
        const args = recordArgs(record, record.version)
        const subject = record.subject
        const [created] = await Promise.all([
          run(CREATE, sessionKey(record.id), args),
          // Sent alongside, so the index never lags the session; an unused member is harmless.
          typeof subject === 'string' ? index(subject, record.id, record.expiresAt) : undefined,
        ])
        return Number(created) === 1
          ? { ok: true, version: record.version }
          : { ok: false, reason: 'exists' }
      })
    },

    update(record, expectedVersion) {
      return bounded('update', async (): Promise<WriteResult> => {
        const version = expectedVersion + 1
        const args = [String(expectedVersion), ...recordArgs(record, version)]
        const subject = record.subject
        const [reply] = await Promise.all([
          run(UPDATE, sessionKey(record.id), args),
          typeof subject === 'string' ? index(subject, record.id, record.expiresAt) : undefined,
        ])
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

    touch(id, lastActiveAt, expiresAt) {
      return bounded('touch', async () => {
        const args = [String(lastActiveAt), String(expiresAt), expireAt(expiresAt)]
        const [subject] = toStrings(await run(TOUCH, sessionKey(id), args))
        if (subject !== undefined) await index(subject, id, expiresAt)
      })
    },

    delete(id) {
      return bounded('delete', async () => {
        const [subject] = toStrings(await run(DELETE, sessionKey(id), []))
        if (subject !== undefined) await unindex(subject, [id])
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
        const revoked = await Promise.all(ids.map((id) => run(REVOKE, sessionKey(id), [subject])))
        // Deleted and stale members alike leave the set.
        await unindex(subject, ids)
        return revoked.filter((reply) => Number(reply) === 1).length
      })
    },
  }
}

/** The script arguments that describe a whole record, stored with `version`. */
function recordArgs(record: SessionRecord, version: number): string[] {
  const args = [
    record.data,
    String(version),
    String(record.createdAt),
    String(record.lastActiveAt),
    String(record.expiresAt),
    expireAt(record.expiresAt),
  ]
  if (typeof record.subject === 'string') args.push(record.subject)
  return args
}

/** An epoch-ms deadline as the integer PEXPIREAT needs (rounded up, so never early). */
function expireAt(expiresAt: number): string {
  return String(Math.ceil(expiresAt))
}

/** A reply as a list of strings (Buffers decoded, a single value wrapped). */
function toStrings(reply: unknown): string[] {
  if (reply === null || reply === undefined) return []
  if (!Array.isArray(reply)) return [String(reply)]
  return reply.map((item) => String(item))
}

/**
 * A record from a hash as HGETALL returns it: an object (node-redis, ioredis), a Map (node-redis
 * with a type mapping) or a flat field/value list (inside a script reply). Null when the hash is
 * absent or not one of ours.
 */
function toRecord(id: string, hash: unknown): SessionRecord | null {
  const fields = fieldsOf(hash)
  const data = text(fields.data)
  if (data === undefined) return null
  const version = Number(text(fields.version))
  const createdAt = Number(text(fields.createdAt))
  const lastActiveAt = Number(text(fields.lastActiveAt))
  const expiresAt = Number(text(fields.expiresAt))
  if (![version, createdAt, lastActiveAt, expiresAt].every(Number.isFinite)) return null
  const record: SessionRecord = { id, data, version, createdAt, lastActiveAt, expiresAt }
  const subject = text(fields.subject)
  return subject === undefined ? record : { ...record, subject }
}

function fieldsOf(hash: unknown): Record<string, unknown> {
  if (Array.isArray(hash)) {
    const fields: Record<string, unknown> = Object.create(null)
    for (let i = 0; i + 1 < hash.length; i += 2) fields[String(hash[i])] = hash[i + 1]
    return fields
  }
  if (hash instanceof Map) return Object.fromEntries(hash)
  return typeof hash === 'object' && hash !== null ? (hash as Record<string, unknown>) : {}
}

/** A reply value as a string (a Buffer decoded as UTF-8); undefined when absent. */
function text(value: unknown): string | undefined {
  if (typeof value === 'string') return value
  return value === undefined || value === null ? undefined : String(value)
}

/** The lowercase hex SHA-1 of a script, as Redis names it (Web Crypto: every runtime has it). */
async function sha1(source: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(source))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}
