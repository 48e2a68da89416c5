/**
 * The aiohttp-session preset. Part of `sessionware/compat`.
 *
 * @module
 */
import { createFernetCodec } from '../codecs/fernet.ts'
import { createNaclCodec } from '../codecs/nacl.ts'
import { createSimpleCodec } from '../codecs/simple.ts'
import { createCookieStorage } from '../core/cookie-storage.ts'
import type { SessionOptions } from '../core/options.ts'
import { createServerStorage } from '../core/server-storage.ts'
import type { CookieCodec, SessionStore } from '../core/types.ts'
import { pythonServerStorageOptions } from '../stores/python-storage-options.ts'
import { aiohttpEnvelope } from './envelopes.ts'
import { type KeyInput, keyList } from './keys.ts'
import { pythonJsonSerializer } from './serializers.ts'

/** Options of {@link aiohttpCompat}. */
export interface AiohttpCompatOptions {
  /**
   * Which storage the aiohttp app uses: `'fernet'` (`EncryptedCookieStorage`), `'nacl'`
   * (`NaClCookieStorage`) or `'simple'` (`SimpleCookieStorage`: readable and forgeable, refused
   * in production). Ignored when `store` is given (`RedisStorage`, `MemcachedStorage`).
   *
   * @default 'fernet'
   */
  readonly storage?: 'fernet' | 'nacl' | 'simple'
  /**
   * The key the aiohttp app was given: a Fernet key (44 characters) or 32 raw bytes for
   * `'fernet'`, a NaCl key (64 hex digits, base64 or 32 bytes) for `'nacl'`; or a list, newest
   * first (the first writes, all read). Required for `'fernet'` and `'nacl'`.
   */
  readonly key?: KeyInput
  /**
   * A store in aiohttp's `RedisStorage` or `MemcachedStorage` layout (its cookie name must match
   * `cookieName`): the session lives there and the cookie holds the raw id (32 hex digits).
   *
   * @default undefined (cookie storage)
   */
  readonly store?: SessionStore
  /**
   * aiohttp's `max_age` in seconds: the idle timeout (aiohttp's `created` is the time of the last
   * change), the Fernet TTL and the cookie's Max-Age. `null`, aiohttp's default `None`: a
   * browser-session cookie, with sessionware's idle timeout (14 days) still enforced.
   *
   * @default null
   */
  readonly maxAge?: number | null
  /** @default 'AIOHTTP_SESSION' */
  readonly cookieName?: string
  /** @default '/' */
  readonly path?: string
  /** @default undefined (host-only) */
  readonly domain?: string
  /**
   * The clock, epoch milliseconds: the manager's and the codec's (for signature and token times).
   *
   * @default Date.now
   */
  readonly clock?: () => number
}

/**
 * Options for `createSessions` that share sessions with an aiohttp app using aiohttp-session:
 * cookie name, Python-quoted cookie values, the `{"created", "session"}` envelope in Python's JSON,
 * the codec of its storage (or its Redis/Memcached layout), and its timeouts. There is no absolute
 * timeout (aiohttp keeps no creation time). Spread it and override what differs.
 *
 * @example
 * ```ts
 * const sessions = createSessions(aiohttpCompat({ key: process.env.FERNET_KEY!, maxAge: 3600 }))
 * ```
 * @throws {SessionConfigError} for a missing or invalid key.
 */
export function aiohttpCompat(options: AiohttpCompatOptions): SessionOptions {
  const maxAge = options.maxAge ?? null
  let storage: SessionOptions['storage']
  if (options.store !== undefined) {
    storage = createServerStorage({ store: options.store, ...pythonServerStorageOptions })
  } else {
    const kind = options.storage ?? 'fernet'
    let codec: CookieCodec
    if (kind === 'simple') codec = createSimpleCodec()
    else if (kind === 'nacl') codec = createNaclCodec({ keys: keyList(options.key, 'key') })
    else {
      codec = createFernetCodec({
        keys: keyList(options.key, 'key'),
        ttl: maxAge ?? undefined,
        clock: options.clock,
      })
    }
    storage = createCookieStorage({
      codec,
      serializer: pythonJsonSerializer,
      envelope: aiohttpEnvelope,
    })
  }
  return {
    storage,
    cookie: {
      name: options.cookieName ?? 'AIOHTTP_SESSION',
      path: options.path ?? '/',
      domain: options.domain,
      persistent: maxAge !== null,
      encoding: 'python',
    },
    idleTimeout: maxAge ?? undefined,
    absoluteTimeout: null,
    clock: options.clock,
  }
}
