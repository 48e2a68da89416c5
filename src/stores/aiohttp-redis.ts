/**
 * aiohttp-session's `RedisStorage` layout: sessionware and an aiohttp application share sessions
 * in one Redis, each reading and writing what the other wrote. A session lives under
 * `<cookie_name>_<id>` as `{"created": <unix seconds>, "session": {...}}` in Python's JSON, set
 * with `EX`; the id in the cookie is the key itself (32 lowercase hex digits).
 *
 * Subpath: `sessionware/stores/aiohttp-redis`.
 *
 * @module
 */

import type { SessionStore } from '../core/types.ts'
import {
  type AiohttpLayoutOptions,
  aiohttpSettings,
  createAiohttpLayout,
} from './aiohttp-layout.ts'
import { type BlobStoreOptions, createBlobStore } from './blob-store.ts'
import { type RedisLayoutClient, redisBackend } from './redis-blob.ts'

export {
  pythonJsonSerializer,
  pythonServerStorageOptions,
  pythonSessionId,
} from './python-storage-options.ts'
export type { IoRedisLayoutClient, NodeRedisLayoutClient, RedisLayoutClient } from './redis-blob.ts'

/** Options of {@link createAiohttpRedisStore}. */
export interface AiohttpRedisStoreOptions extends AiohttpLayoutOptions, BlobStoreOptions {}

const CALLER = 'createAiohttpRedisStore'

/**
 * Creates a session store that keeps sessions as aiohttp-session's `RedisStorage` does.
 *
 * Give `createServerStorage` the spread `pythonServerStorageOptions` (raw ids as Python makes
 * them, Python's JSON) and the session cookie aiohttp's name; `create` refuses an id of any other
 * form, so a forgotten option fails loudly instead of hiding every session from Python.
 *
 * The value: `{"created": …, "session": {…}, "sessionware": {…}}`. `created` is the last activity
 * in whole seconds; `session` holds the data; the `sessionware` section, which aiohttp-session
 * ignores, holds what aiohttp has no place for (version and times, subject, flash values, the
 * session's own timeout and cookie mode, renewal pointers). When the Python application writes
 * the session it drops the section: flash values and those settings are then gone, and the
 * session reads here as aiohttp describes it (created and last active at `created`).
 *
 * Every write is `SET <key> <value> EX <seconds until the session's deadline>`: sessionware's
 * sessions always expire on the server (aiohttp-session without `max_age` sets no TTL). A change
 * is a compare-and-set: the store reads the value, applies the change and writes it back in a Lua
 * script only if the value's SHA-1 is still the one read (the JSON is never parsed in Lua);
 * otherwise it starts again, so no concurrent change is lost, the Python application's included.
 * Logout deletes the key (aiohttp-session writes `{}` instead; both read as no session).
 *
 * Reads as no session: a missing key, `{}` (aiohttp's logout), a value that is not JSON (aiohttp
 * keeps the cookie's id with an empty session; here the request gets a new id), and a session
 * whose `created` is more than `maxAge` seconds ago. No subject index.
 *
 * The client belongs to the caller (node-redis v5+ or ioredis, standalone or Cluster), who
 * connects and closes it; configure it to fail fast as `createRedisStore` describes.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createServerStorage, createSessions } from 'sessionware'
 * import {
 *   createAiohttpRedisStore,
 *   pythonServerStorageOptions,
 * } from 'sessionware/stores/aiohttp-redis'
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = createAiohttpRedisStore(redis, { maxAge: 3600 })
 * const sessions = createSessions({
 *   storage: createServerStorage({ store, ...pythonServerStorageOptions }),
 *   cookie: { name: 'AIOHTTP_SESSION' },
 *   idleTimeout: 3600,
 * })
 * ```
 *
 * @throws {SessionConfigError} when the client or an option is invalid.
 */
export function createAiohttpRedisStore(
  client: RedisLayoutClient,
  options: AiohttpRedisStoreOptions = {},
): SessionStore {
  const layout = createAiohttpLayout(aiohttpSettings(CALLER, options))
  return createBlobStore({ backend: redisBackend(client, CALLER), layout, caller: CALLER }, options)
}
