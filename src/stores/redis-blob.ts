/**
 * Internal: one Redis string per session for the Python layouts, through node-redis or ioredis.
 * Values are read as bytes (`GET`, returned as a Buffer) and written by two small Lua scripts:
 * insert-if-absent, and compare-and-set that writes only when the SHA-1 of the stored bytes is
 * still the one of the bytes read. No JSON is parsed in Lua. Every write sets the TTL with
 * `SET … EX <seconds>`, as the Python libraries do.
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-redis` and
 * `sessionware/stores/starsessions-redis`).
 *
 * @module
 */

import { createHash } from 'node:crypto'
import { SessionConfigError } from '../errors.ts'
import { type Backend, secondsLeft } from './blob-store.ts'
import {
  commandsOf,
  type IoRedisStoreClient,
  type NodeRedisStoreClient,
  type Script,
} from './redis-client.ts'

/** node-redis' code of a bulk string reply (`$`), mapped to Buffer to read bytes as they are. */
const BLOB_STRING = 36

/**
 * The node-redis (v5 and later) client or cluster methods the Python layouts call: those of the
 * Redis store, plus `withTypeMapping` (to read values as bytes) and `del`.
 */
export interface NodeRedisLayoutClient extends NodeRedisStoreClient {
  withTypeMapping(mapping: { [BLOB_STRING]: BufferConstructor }): {
    get(key: string): Promise<unknown>
  }
  del(key: string): Promise<unknown>
}

/** The ioredis client or cluster methods the Python layouts call, `getBuffer` and `del` included. */
export interface IoRedisLayoutClient extends IoRedisStoreClient {
  getBuffer(key: string): Promise<unknown>
  del(key: string): Promise<unknown>
}

/** A Redis client the Python layout stores accept: node-redis or ioredis, standalone or Cluster. */
export type RedisLayoutClient = NodeRedisLayoutClient | IoRedisLayoutClient

/** KEYS: session. ARGV: value, TTL seconds. Returns 1 (stored, or already expired), 0 (present). */
const ADD: Script = {
  source: `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
if tonumber(ARGV[2]) > 0 then redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2]) end
return 1`,
}

/**
 * KEYS: session. ARGV: SHA-1 (hex) of the value read, the new value, TTL seconds (0 or less:
 * delete). Returns 1 when written, 0 when the value changed or is gone.
 */
const SWAP: Script = {
  source: `
local current = redis.call('GET', KEYS[1])
if not current or redis.sha1hex(current) ~= ARGV[1] then return 0 end
if tonumber(ARGV[3]) > 0 then
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
else
  redis.call('DEL', KEYS[1])
end
return 1`,
}

/** The bytes of a GET reply (a Buffer from both libraries as configured), or null. */
function bytesOf(reply: unknown): Uint8Array | null {
  if (reply === null || reply === undefined) return null
  if (reply instanceof Uint8Array) return reply
  // A client that decoded the reply anyway: its UTF-8 bytes.
  return Buffer.from(String(reply), 'utf8')
}

/**
 * The backend over `client`.
 *
 * @throws {SessionConfigError} when `client` is neither node-redis nor ioredis.
 */
export function redisBackend(client: RedisLayoutClient, caller: string): Backend {
  const commands = commandsOf(client)
  const node = client as Partial<NodeRedisLayoutClient>
  const io = client as Partial<IoRedisLayoutClient>
  let get: (key: string) => Promise<unknown>
  if (commands !== null && typeof node.withTypeMapping === 'function') {
    const bytes = node.withTypeMapping({ [BLOB_STRING]: Buffer })
    get = (key) => bytes.get(key)
  } else if (commands !== null && typeof io.getBuffer === 'function') {
    get = (key) => (io as IoRedisLayoutClient).getBuffer(key)
  } else {
    throw new SessionConfigError(
      `${caller}: client must be a node-redis (createClient, createCluster) or ioredis (Redis, Cluster) client`,
    )
  }
  const run = commands.run
  // Both libraries send a Buffer argument as its bytes; the shared runner is typed for text.
  const args = (...values: Array<string | Uint8Array>): string[] => values as string[]

  return {
    async read(key) {
      const value = bytesOf(await get(key))
      if (value === null) return null
      return { value, token: createHash('sha1').update(value).digest('hex') }
    },
    async add(key, value, expiresAt, now) {
      const ttl = String(secondsLeft(expiresAt, now))
      return Number(await run(ADD, key, args(value, ttl))) === 1
    },
    async swap(key, token, value, expiresAt, now) {
      const ttl = String(secondsLeft(expiresAt, now))
      return Number(await run(SWAP, key, args(String(token), value, ttl))) === 1
    },
    async remove(key) {
      await (client as { del(key: string): Promise<unknown> }).del(key)
    },
  }
}
