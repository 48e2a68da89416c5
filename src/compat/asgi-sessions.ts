/**
 * The asgi-sessions preset. Part of `sessionware/compat`.
 *
 * @module
 */
import { createBase64Codec } from '../codecs/base64.ts'
import { createFernetCodec } from '../codecs/fernet.ts'
import { createJwtCodec } from '../codecs/jwt.ts'
import { createCookieStorage } from '../core/cookie-storage.ts'
import type { SessionOptions } from '../core/options.ts'
import type { CookieCodec } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { plainEnvelope } from './envelopes.ts'
import { asgiFernetKey } from './keys.ts'
import { compactJsonSerializer } from './serializers.ts'

/** Options of {@link asgiSessionsCompat}. */
export interface AsgiSessionsCompatOptions {
  /**
   * The `session_type` of the asgi-sessions app: `'jwt'` (HS256), `'fernet'` or `'base64'`
   * (readable and forgeable, refused in production).
   */
  readonly type: 'jwt' | 'fernet' | 'base64'
  /** `secret_key` of the app, as text. Required for `'jwt'` and `'fernet'`. */
  readonly secret?: string
  /** `session_cookie`. @default 'session' */
  readonly cookieName?: string
  /** `max_age` in seconds: the cookie's Max-Age. @default 1209600 (14 days) */
  readonly maxAge?: number
  /** `samesite`. @default 'lax' */
  readonly sameSite?: 'lax' | 'strict' | 'none'
  /**
   * `secure`: `true` always sends Secure; otherwise sessionware's automatic Secure applies.
   *
   * @default false
   */
  readonly secure?: boolean
  /**
   * The clock, epoch milliseconds: the manager's and the codec's (for signature and token times).
   *
   * @default Date.now
   */
  readonly clock?: () => number
}

function codecOf(options: AsgiSessionsCompatOptions): CookieCodec {
  if (options.type === 'base64') return createBase64Codec()
  if (typeof options.secret !== 'string' || options.secret === '') {
    throw new SessionConfigError(
      `asgiSessionsCompat: secret is required for type '${options.type}'`,
    )
  }
  if (options.type === 'jwt') return createJwtCodec({ keys: [options.secret] })
  if (options.type === 'fernet')
    return createFernetCodec({ keys: [asgiFernetKey(options.secret)], clock: options.clock })
  throw new SessionConfigError(
    `asgiSessionsCompat: type must be 'jwt', 'fernet' or 'base64'. Received: ${String(options.type)}`,
  )
}

/**
 * Options for `createSessions` that share sessions with an app using asgi-sessions: the data
 * object in compact JSON, encoded as its session type does, written raw in the cookie. asgi-sessions
 * keeps no times in the payload, so none can be checked on the server: a session lasts as long as
 * the browser keeps the cookie (its Max-Age, from the last write), as in asgi-sessions.
 *
 * @example
 * ```ts
 * const sessions = createSessions(asgiSessionsCompat({ type: 'jwt', secret: process.env.SECRET! }))
 * ```
 * @throws {SessionConfigError} for a missing secret or an unknown type.
 */
export function asgiSessionsCompat(options: AsgiSessionsCompatOptions): SessionOptions {
  const maxAge = options.maxAge ?? 1_209_600
  return {
    storage: createCookieStorage({
      codec: codecOf(options),
      serializer: compactJsonSerializer,
      envelope: plainEnvelope,
    }),
    cookie: {
      name: options.cookieName ?? 'session',
      sameSite: options.sameSite ?? 'lax',
      secure: options.secure === true ? true : undefined,
      encoding: 'raw',
    },
    idleTimeout: maxAge,
    absoluteTimeout: null,
    clock: options.clock,
  }
}
