/**
 * SESSION_COMPAT: which Python library the demo shares sessions with, and the storages and codecs
 * each one has. See `compat.ts` for what each setting builds.
 *
 * | SESSION_COMPAT | SESSION_STORE (default first)  | SESSION_CODEC (default first)     | SESSION_KEYS                      |
 * | -------------- | ------------------------------ | --------------------------------- | --------------------------------- |
 * | `aiohttp`      | `cookie`, `redis`, `memcached` | `fernet`, `nacl`, `simple`        | the Fernet key, or NaCl hex key   |
 * | `starsessions` | `cookie`, `redis`              | `itsdangerous`                    | the `CookieStore` secret          |
 * | `starlette`    | `cookie`                       | `itsdangerous`                    | the `SessionMiddleware` secret    |
 * | `asgi`         | `cookie`                       | `jwt`, `fernet`, `base64`         | the asgi-sessions secret          |
 *
 * The cookie name defaults to the library's (`AIOHTTP_SESSION` for aiohttp, `session` for the
 * others); `SESSION_IDLE_TIMEOUT` is its `max_age` (`lifetime` for starsessions).
 *
 * @module
 */
import type { CompatKind } from './config.ts'
import { DemoConfigError } from './config.ts'

const KINDS: Readonly<Record<CompatKind, { stores: string[]; codecs: string[] }>> = {
  aiohttp: { stores: ['cookie', 'redis', 'memcached'], codecs: ['fernet', 'nacl', 'simple'] },
  starsessions: { stores: ['cookie', 'redis'], codecs: ['itsdangerous'] },
  starlette: { stores: ['cookie'], codecs: ['itsdangerous'] },
  asgi: { stores: ['cookie'], codecs: ['jwt', 'fernet', 'base64'] },
}

/** SESSION_COMPAT, checked; undefined when unset. */
export function parseCompat(env: Record<string, string | undefined>): CompatKind | undefined {
  const value = env.SESSION_COMPAT?.trim()
  if (value === undefined || value === '') return undefined
  if (!Object.hasOwn(KINDS, value)) {
    throw new DemoConfigError(
      `SESSION_COMPAT must be aiohttp, starsessions, starlette or asgi, got "${value}"`,
    )
  }
  return value as CompatKind
}

/** The codec a library uses by default. */
export function compatCodec(compat: CompatKind): string {
  return KINDS[compat].codecs[0] as string
}

/** Refuses a store or codec the library does not have. */
export function checkCompat(compat: CompatKind, store: string, codec: string): void {
  const { stores, codecs } = KINDS[compat]
  if (!stores.includes(store)) {
    throw new DemoConfigError(
      `SESSION_COMPAT=${compat} works with SESSION_STORE ${stores.join(', ')}, got "${store}"`,
    )
  }
  if (store === 'cookie' && !codecs.includes(codec)) {
    throw new DemoConfigError(
      `SESSION_COMPAT=${compat} works with SESSION_CODEC ${codecs.join(', ')}, got "${codec}"`,
    )
  }
}
