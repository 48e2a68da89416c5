/**
 * The Starlette `SessionMiddleware` preset (FastAPI's sessions too). Part of `sessionware/compat`.
 *
 * @module
 */
import { createItsdangerousCodec } from '../codecs/itsdangerous.ts'
import { createCookieStorage } from '../core/cookie-storage.ts'
import type { SessionOptions } from '../core/options.ts'
import { overStandardBase64 } from './base64-layer.ts'
import { plainEnvelope } from './envelopes.ts'
import { type KeyInput, keyList } from './keys.ts'
import { pythonJsonSerializer } from './serializers.ts'

/** Options of {@link starletteCompat}. */
export interface StarletteCompatOptions {
  /**
   * `secret_key` of the Starlette app (its text); or a list, newest first: the first signs, all
   * verify (Starlette itself has one).
   */
  readonly secret: KeyInput
  /**
   * `max_age` in seconds: the signature's maximum age (time since the last write) and the
   * cookie's Max-Age. `null`: a browser-session cookie, signatures of any age accepted by the
   * codec, with sessionware's idle timeout (14 days) still enforced on the last write.
   *
   * @default 1209600 (14 days)
   */
  readonly maxAge?: number | null
  /** `session_cookie`. @default 'session' */
  readonly cookieName?: string
  /** @default '/' */
  readonly path?: string
  /** `same_site`. @default 'lax' */
  readonly sameSite?: 'lax' | 'strict' | 'none'
  /**
   * `https_only`: `true` always sends Secure; otherwise sessionware's automatic Secure applies (on,
   * except plain HTTP to a local address outside production), where Starlette would send none.
   *
   * @default false
   */
  readonly httpsOnly?: boolean
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
 * Options for `createSessions` that share sessions with a Starlette or FastAPI app using
 * `SessionMiddleware`: the data object in Python's JSON, standard base64, signed with
 * itsdangerous' `TimestampSigner`, written raw in the cookie. Expiry is the signature's age, as in
 * Starlette: time since the last write.
 *
 * @example
 * ```ts
 * const sessions = createSessions(starletteCompat({ secret: process.env.SECRET_KEY! }))
 * ```
 * @throws {SessionConfigError} for a missing secret.
 */
export function starletteCompat(options: StarletteCompatOptions): SessionOptions {
  const maxAge = options.maxAge === undefined ? 1_209_600 : options.maxAge
  const codec = createItsdangerousCodec({
    keys: keyList(options?.secret, 'secret'),
    maxAge,
    clock: options.clock,
  })
  return {
    storage: createCookieStorage({
      codec: overStandardBase64(codec),
      serializer: pythonJsonSerializer,
      envelope: plainEnvelope,
    }),
    cookie: {
      name: options.cookieName ?? 'session',
      path: options.path ?? '/',
      domain: options.domain,
      sameSite: options.sameSite ?? 'lax',
      secure: options.httpsOnly === true ? true : undefined,
      persistent: maxAge !== null,
      encoding: 'raw',
    },
    idleTimeout: maxAge ?? undefined,
    absoluteTimeout: null,
    clock: options.clock,
  }
}
