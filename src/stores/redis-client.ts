/**
 * Internal to the Redis store: the client types it accepts (node-redis, ioredis, standalone or
 * Cluster), the few commands it sends, the same for both libraries, and running a Lua script by
 * `EVALSHA` with the `EVAL` fallback. The public types are re-exported by `sessionware/stores/redis`.
 *
 * Subpath: none (internal; see `sessionware/stores/redis`).
 *
 * @module
 */

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

/** A Lua script and, once computed, its SHA-1 (the EVALSHA name Redis gives it). */
export interface Script {
  readonly source: string
  sha?: Promise<string>
  /** The SHA-1 once `sha` has resolved, so later runs need not wait for it. */
  shaText?: string
}

/** The commands the store sends, the same for both client libraries. */
export interface Commands {
  hgetall(key: string): Promise<unknown>
  smembers(key: string): Promise<unknown>
  srem(key: string, members: string[]): Promise<unknown>
  /** Runs `script` on the one key `key` (so one hash slot): EVALSHA, then EVAL on NOSCRIPT. */
  run(script: Script, key: string, args: string[]): Promise<unknown>
}

/** The one place where node-redis and ioredis differ; null for anything else. */
export function commandsOf(client: RedisStoreClient): Commands | null {
  if (typeof client !== 'object' || client === null) return null
  const node = client as Partial<NodeRedisStoreClient>
  if (typeof node.hGetAll === 'function' && typeof node.evalSha === 'function') {
    const c = client as NodeRedisStoreClient
    return {
      hgetall: (key) => c.hGetAll(key),
      smembers: (key) => c.sMembers(key),
      srem: (key, members) => c.sRem(key, members),
      run: scriptRunner(
        (sha, keys, args) => c.evalSha(sha, { keys, arguments: args }),
        (source, keys, args) => c.eval(source, { keys, arguments: args }),
      ),
    }
  }
  const io = client as Partial<IoRedisStoreClient>
  if (typeof io.hgetall === 'function' && typeof io.evalsha === 'function') {
    const c = client as IoRedisStoreClient
    return {
      hgetall: (key) => c.hgetall(key),
      smembers: (key) => c.smembers(key),
      srem: (key, members) => c.srem(key, ...members),
      run: scriptRunner(
        (sha, keys, args) => c.evalsha(sha, keys.length, ...keys, ...args),
        (source, keys, args) => c.eval(source, keys.length, ...keys, ...args),
      ),
    }
  }
  return null
}

type Eval = (scriptOrSha: string, keys: string[], args: string[]) => Promise<unknown>

function scriptRunner(evalsha: Eval, evaluate: Eval): Commands['run'] {
  return async (script, key, args) => {
    let sha = script.shaText
    if (sha === undefined) {
      script.sha ??= sha1(script.source)
      sha = await script.sha
      script.shaText = sha
    }
    try {
      return await evalsha(sha, [key], args)
    } catch (error) {
      // Not in this server's script cache (first use, restart, failover): EVAL caches it.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
      return await evaluate(script.source, [key], args)
    }
  }
}

/** A reply as a list of strings (Buffers decoded, a single value wrapped). */
export function toStrings(reply: unknown): string[] {
  if (reply === null || reply === undefined) return []
  if (!Array.isArray(reply)) return [String(reply)]
  return reply.map((item) => String(item))
}

/** The lowercase hex SHA-1 of a script, as Redis names it (Web Crypto: every runtime has it). */
async function sha1(source: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-1', new TextEncoder().encode(source))
  return Array.from(new Uint8Array(digest), (byte) => byte.toString(16).padStart(2, '0')).join('')
}
