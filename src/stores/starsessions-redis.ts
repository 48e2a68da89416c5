/**
 * starsessions' `RedisStore` layout: sessionware and a Starlette application using starsessions
 * share sessions in one Redis. A session lives under `starsessions.<id>` as the user's keys in
 * Python's JSON with starsessions' `__metadata__` appended, optionally encrypted with Fernet or
 * AES-GCM as starsessions' encryptors do; the id in the cookie is the key itself (32 lowercase
 * hex digits).
 *
 * Subpath: `sessionware/stores/starsessions-redis`.
 *
 * @module
 */

import type { SessionStore } from '../core/types.ts'
import { type BlobStoreOptions, createBlobStore } from './blob-store.ts'
import { type RedisLayoutClient, redisBackend } from './redis-blob.ts'
import { createStarsessionsLayout, type StarsessionsLayoutOptions } from './starsessions-layout.ts'

export {
  pythonJsonSerializer,
  pythonServerStorageOptions,
  pythonSessionId,
} from './python-storage-options.ts'
export type { IoRedisLayoutClient, NodeRedisLayoutClient, RedisLayoutClient } from './redis-blob.ts'
export {
  type AesGcmEncryptorOptions,
  createAesGcmEncryptor,
  createFernetEncryptor,
  type FernetEncryptorOptions,
  type PayloadEncryptor,
} from './starsessions-encryptors.ts'

/** Options of {@link createStarsessionsRedisStore}. */
export interface StarsessionsRedisStoreOptions
  extends StarsessionsLayoutOptions,
    BlobStoreOptions {}

const CALLER = 'createStarsessionsRedisStore'

/**
 * Creates a session store that keeps sessions as starsessions' `RedisStore` does, with the
 * middleware's `lifetime`, `rolling` and `encryptor` given here too.
 *
 * Give `createServerStorage` the spread `pythonServerStorageOptions` (raw ids as
 * `secrets.token_hex(16)` makes them, Python's JSON) and the session cookie starsessions' name
 * (`session` by default); `create` refuses an id of any other form.
 *
 * The value: `{<data>, "__metadata__": {"lifetime": …, "created": …, "last_access": …,
 * "sessionware": {…}}}`, then encrypted. starsessions hides `__metadata__` from the application
 * and writes back whatever it holds, so the `sessionware` section (version and deadline, subject,
 * flash values, the session's own timeout and cookie mode, renewal pointers) survives the Python
 * application's writes; a data key named `__metadata__` is kept in the section too.
 *
 * Every write is `SET <key> <value> EX <seconds until the session's deadline>`. starsessions
 * writes `EX max(1, ttl)`, with 30 days (`gcTtl`) for lifetime 0; here a session past its deadline
 * is deleted instead, and the deadline is the core's. A change is a compare-and-set (a Lua script
 * compares the SHA-1 of the stored bytes, encrypted or not, with the bytes read), so no concurrent
 * change is lost; starsessions itself writes every loaded session on every response (last writer
 * wins), which no store can prevent. Logout deletes the key, as starsessions does.
 *
 * Reads as no session: a missing key, a value the encryptor cannot open (unknown key, tampered,
 * not encrypted while an encryptor is set), a value that is not a JSON object, and one past its
 * deadline. No subject index.
 *
 * @example
 * ```ts
 * import { createClient } from 'redis'
 * import { createServerStorage, createSessions } from 'sessionware'
 * import {
 *   createFernetEncryptor,
 *   createStarsessionsRedisStore,
 *   pythonServerStorageOptions,
 * } from 'sessionware/stores/starsessions-redis'
 *
 * const redis = await createClient({ url: process.env.REDIS_URL }).connect()
 * const store = createStarsessionsRedisStore(redis, {
 *   lifetime: 3600,
 *   encryptor: createFernetEncryptor({ keys: [process.env.FERNET_KEY ?? ''] }),
 * })
 * const sessions = createSessions({
 *   storage: createServerStorage({ store, ...pythonServerStorageOptions }),
 *   cookie: { name: 'session' },
 *   absoluteTimeout: 3600,
 *   idleTimeout: null,
 * })
 * ```
 *
 * @throws {SessionConfigError} when the client or an option is invalid.
 */
export function createStarsessionsRedisStore(
  client: RedisLayoutClient,
  options: StarsessionsRedisStoreOptions = {},
): SessionStore {
  const layout = createStarsessionsLayout(CALLER, options)
  return createBlobStore({ backend: redisBackend(client, CALLER), layout, caller: CALLER }, options)
}
