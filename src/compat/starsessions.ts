/**
 * The starsessions preset. Part of `sessionware/compat`.
 *
 * @module
 */
import { createItsdangerousCodec } from '../codecs/itsdangerous.ts'
import { createCookieStorage } from '../core/cookie-storage.ts'
import type { SessionOptions } from '../core/options.ts'
import { createServerStorage } from '../core/server-storage.ts'
import type { SessionStore } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { pythonServerStorageOptions } from '../stores/python-storage-options.ts'
import { overStandardBase64 } from './base64-layer.ts'
import { starsessionsEnvelope } from './envelopes.ts'
import { type KeyInput, keyList } from './keys.ts'
import { pythonJsonSerializer } from './serializers.ts'

/** starsessions' `gc_ttl`: how long a session with lifetime 0 is kept (30 days). */
const GC_TTL = 2_592_000
/** How old a `CookieStore` signature may be with lifetime 0 (starsessions' "1 year", 360 days). */
const COOKIE_STORE_MAX_AGE = 31_104_000

/** Options of {@link starsessionsCompat}. */
export interface StarsessionsCompatOptions {
  /**
   * `CookieStore(secret_key)` of the starsessions app; or a list, newest first (the first signs,
   * all verify). Required unless `store` is given.
   */
  readonly secret?: KeyInput
  /**
   * A store in starsessions' `RedisStore` layout: the session lives there and the cookie holds the
   * raw id (32 hex digits).
   *
   * @default undefined (`CookieStore`: the session in the cookie)
   */
  readonly store?: SessionStore
  /**
   * `lifetime` in seconds: with `rolling`, an idle timeout; without, an absolute one counted from
   * creation. `0`: a browser-session cookie, kept on the server for `gc_ttl` (30 days).
   *
   * @default 0
   */
  readonly lifetime?: number
  /** `rolling`: the lifetime restarts with each request. @default false */
  readonly rolling?: boolean
  /** `cookie_name`. @default 'session' */
  readonly cookieName?: string
  /** `cookie_path`. @default '/' */
  readonly cookiePath?: string
  /** `cookie_domain`. @default undefined (host-only) */
  readonly cookieDomain?: string
  /** `cookie_same_site`. @default 'lax' */
  readonly sameSite?: 'lax' | 'strict' | 'none'
  /**
   * `cookie_https_only` (starsessions' default is true): `true` always sends Secure; `false`
   * leaves sessionware's automatic Secure (off only for plain HTTP to a local address outside
   * production).
   *
   * @default true
   */
  readonly httpsOnly?: boolean
  /**
   * The clock, epoch milliseconds: the manager's and the codec's (for signature and token times).
   *
   * @default Date.now
   */
  readonly clock?: () => number
}

/**
 * Options for `createSessions` that share sessions with a Starlette app using starsessions:
 * `CookieStore` (the data with `__metadata__` in Python's JSON, standard base64, itsdangerous'
 * signature) or, with `store`, its Redis layout; the cookie written raw; `lifetime` and `rolling`
 * as starsessions reads them (but enforced on the server, also for the cookie store).
 *
 * @example
 * ```ts
 * const sessions = createSessions(starsessionsCompat({ secret: process.env.SECRET!, lifetime: 3600 }))
 * ```
 * @throws {SessionConfigError} for a missing secret or a negative lifetime.
 */
export function starsessionsCompat(options: StarsessionsCompatOptions): SessionOptions {
  const lifetime = options.lifetime ?? 0
  if (!Number.isSafeInteger(lifetime) || lifetime < 0) {
    throw new SessionConfigError(
      `lifetime must be a whole number of seconds, 0 or more. Received: ${lifetime}`,
    )
  }
  const rolling = options.rolling ?? false
  let storage: SessionOptions['storage']
  if (options.store !== undefined) {
    storage = createServerStorage({ store: options.store, ...pythonServerStorageOptions })
  } else {
    const codec = createItsdangerousCodec({
      keys: keyList(options.secret, 'secret'),
      maxAge: lifetime === 0 ? COOKIE_STORE_MAX_AGE : lifetime,
      clock: options.clock,
    })
    storage = createCookieStorage({
      codec: overStandardBase64(codec),
      serializer: pythonJsonSerializer,
      envelope: starsessionsEnvelope({ lifetime }),
    })
  }
  let idleTimeout: number | null = GC_TTL
  let absoluteTimeout: number | null = null
  if (lifetime > 0 && rolling) idleTimeout = lifetime
  if (lifetime > 0 && !rolling) {
    idleTimeout = null
    absoluteTimeout = lifetime
  }
  return {
    storage,
    cookie: {
      name: options.cookieName ?? 'session',
      path: options.cookiePath ?? '/',
      domain: options.cookieDomain,
      sameSite: options.sameSite ?? 'lax',
      secure: options.httpsOnly === false ? undefined : true,
      persistent: lifetime > 0,
      encoding: 'raw',
    },
    idleTimeout,
    absoluteTimeout,
    clock: options.clock,
  }
}
