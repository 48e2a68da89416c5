/**
 * aiohttp-session's `MemcachedStorage` layout: sessionware and an aiohttp application share
 * sessions in one memcached. A session lives under `<cookie_name>_<id>` as
 * `{"created": <unix seconds>, "session": {...}}` in Python's JSON, with memcached's 30-day
 * exptime rule; the id in the cookie is the key itself (32 lowercase hex digits).
 *
 * Subpath: `sessionware/stores/aiohttp-memcached`.
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
import type { MemcachedStoreClient } from './memcached.ts'
import { memcachedBackend } from './memcached-blob.ts'

export type { MemcachedStoreClient, MemcachedValue } from './memcached.ts'
export {
  pythonJsonSerializer,
  pythonServerStorageOptions,
  pythonSessionId,
} from './python-storage-options.ts'

/** Options of {@link createAiohttpMemcachedStore}. */
export interface AiohttpMemcachedStoreOptions extends AiohttpLayoutOptions, BlobStoreOptions {}

const CALLER = 'createAiohttpMemcachedStore'

/**
 * Creates a session store that keeps sessions as aiohttp-session's `MemcachedStorage` does.
 *
 * The same layout and rules as `createAiohttpRedisStore` (see there): give `createServerStorage`
 * the spread `pythonServerStorageOptions` and the session cookie aiohttp's name. Each write sets
 * memcached's exptime to the seconds until the session's deadline, or, beyond 30 days, to the
 * unix time of the deadline (memcached would read a larger relative value as a date in 1970), as
 * aiohttp-session does with its `max_age`. A change reads the value with `gets` and writes it back
 * with `cas`, starting again when another writer (the Python application included) got there
 * first. memcached is a cache: sessions are lost when it restarts or evicts them.
 *
 * The client belongs to the caller (memcache-client's `MemcacheClient`, or any client with its
 * `get`, `gets`, `add`, `cas` and `delete`).
 *
 * @example
 * ```ts
 * import { MemcacheClient } from 'memcache-client'
 * import { createServerStorage } from 'sessionware'
 * import {
 *   createAiohttpMemcachedStore,
 *   pythonServerStorageOptions,
 * } from 'sessionware/stores/aiohttp-memcached'
 *
 * const store = createAiohttpMemcachedStore(new MemcacheClient({ server: '127.0.0.1:11211' }))
 * const storage = createServerStorage({ store, ...pythonServerStorageOptions })
 * ```
 *
 * @throws {SessionConfigError} when the client or an option is invalid.
 */
export function createAiohttpMemcachedStore(
  client: MemcachedStoreClient,
  options: AiohttpMemcachedStoreOptions = {},
): SessionStore {
  const layout = createAiohttpLayout(aiohttpSettings(CALLER, options))
  const backend = memcachedBackend(client, CALLER)
  return createBlobStore({ backend, layout, caller: CALLER }, options)
}
