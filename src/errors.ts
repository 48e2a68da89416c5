/**
 * Typed errors with stable `code`s. Every error sessionware throws is a {@link SessionError};
 * switch on `err.code` (the {@link AnySessionError} union narrows) rather than on `instanceof`.
 *
 * Subpath: `sessionware/errors` (also re-exported from `sessionware`).
 *
 * @module
 */

/** Every stable error code. */
export type SessionErrorCode =
  | 'ERR_SESSION_CONFIG'
  | 'ERR_SESSION_STORE'
  | 'ERR_SESSION_COOKIE_TOO_LARGE'
  | 'ERR_SESSION_CONFLICT'
  | 'ERR_SESSION_INVALIDATED'
  | 'ERR_SESSION_REPLACED'
  | 'ERR_SESSION_COMMITTED'
  | 'ERR_SESSION_READ_ONLY'
  | 'ERR_SESSION_DECODE'
  | 'ERR_SESSION_NOT_ATTACHED'

/**
 * Why a cookie was not accepted. Reported through the `onInvalidCookie` option; the request then
 * gets a fresh session.
 *
 * - `malformed`: not a value this storage could have written (bad base64, bad JSON, wrong shape,
 *   too long, an id of the wrong format).
 * - `tampered`: the signature or authentication tag did not verify with any configured key.
 * - `unknown-key`: the token names a key id that none of the configured keys has.
 * - `expired`: idle or absolute timeout passed, or a codec's own age check failed (fernet's `ttl`,
 *   itsdangerous' `maxAge`, a timestamp beyond the allowed clock skew).
 * - `unknown-id`: a well-formed server session id that the store does not know (never adopted).
 */
export type InvalidCookieReason =
  | 'malformed'
  | 'tampered'
  | 'unknown-key'
  | 'expired'
  | 'unknown-id'

/** Base class of every error sessionware throws. */
export abstract class SessionError extends Error {
  /** A stable, machine-readable code. */
  abstract readonly code: SessionErrorCode

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Invalid options, thrown synchronously by a `create*()` factory or a codec/store factory. */
export class SessionConfigError extends SessionError {
  static readonly code = 'ERR_SESSION_CONFIG'
  readonly code = 'ERR_SESSION_CONFIG'
}

/** What a store was doing when it failed. */
export type StoreOperation =
  | 'load'
  | 'create'
  | 'update'
  | 'touch'
  | 'delete'
  | 'list'
  | 'revoke'
  | 'prune'

/**
 * The session store failed (unreachable, timed out, protocol error). `cause` is the client's own
 * error. The session is never silently replaced by an empty one: the application decides the
 * response (the demo answers 503).
 */
export class SessionStoreError extends SessionError {
  static readonly code = 'ERR_SESSION_STORE'
  readonly code = 'ERR_SESSION_STORE'
  /** The store operation that failed. */
  readonly operation: StoreOperation
  /**
   * 503 Service Unavailable: the status a framework's default error handler answers with (Koa
   * reads `status`; Express and Fastify read `statusCode`). The store is down, not the request
   * wrong, and a retry may succeed.
   */
  readonly status = 503
  /** The same as {@link SessionStoreError.status}. */
  readonly statusCode = 503

  constructor(operation: StoreOperation, options: { cause: unknown }) {
    const reason = options.cause instanceof Error ? `: ${options.cause.message}` : ''
    super(`session store failed to ${operation}${reason}`, options)
    this.operation = operation
  }
}

/** The Set-Cookie header would be larger than browsers accept (4096 bytes). Thrown at commit. */
export class SessionCookieTooLargeError extends SessionError {
  static readonly code = 'ERR_SESSION_COOKIE_TOO_LARGE'
  readonly code = 'ERR_SESSION_COOKIE_TOO_LARGE'
  /** Bytes the Set-Cookie header would have had. */
  readonly size: number
  /** The limit, 4096. */
  readonly limit: number

  constructor(size: number, limit: number) {
    super(
      `session cookie would be ${size} bytes, over the ${limit}-byte limit browsers accept; ` +
        'store less in the session or use a server-side store',
    )
    this.size = size
    this.limit = limit
  }
}

/** A compare-and-set write kept conflicting with concurrent writers after every retry. */
export class SessionConflictError extends SessionError {
  static readonly code = 'ERR_SESSION_CONFLICT'
  readonly code = 'ERR_SESSION_CONFLICT'
  /** How many writes were attempted. */
  readonly attempts: number

  constructor(attempts: number) {
    super(`session write conflicted with concurrent writers ${attempts} times; giving up`)
    this.attempts = attempts
  }
}

/**
 * A `Session` object was used after `newSession(request)` replaced it in the same request: its
 * writes would never be saved. Use the session `newSession` returned.
 */
export class SessionReplacedError extends SessionError {
  static readonly code = 'ERR_SESSION_REPLACED'
  readonly code = 'ERR_SESSION_REPLACED'

  constructor() {
    super(
      'this session was replaced by newSession(request) in this request; use the session it returned',
    )
  }
}

/** The session was written to after `invalidate()`. */
export class SessionInvalidatedError extends SessionError {
  static readonly code = 'ERR_SESSION_INVALIDATED'
  readonly code = 'ERR_SESSION_INVALIDATED'

  constructor() {
    super('session was invalidated in this request; call newSession(request) for a fresh one')
  }
}

/** The session was changed after its cookie had been committed (the headers were on their way). */
export class SessionCommittedError extends SessionError {
  static readonly code = 'ERR_SESSION_COMMITTED'
  readonly code = 'ERR_SESSION_COMMITTED'

  constructor() {
    super('session was changed after it was committed (response headers already prepared)')
  }
}

/**
 * The session was changed in a request that cannot send a cookie: a WebSocket upgrade (its 101
 * answer leaves before the application runs, and a socket has no later response). Read the session
 * there; change it over plain HTTP requests.
 */
export class SessionReadOnlyError extends SessionError {
  static readonly code = 'ERR_SESSION_READ_ONLY'
  readonly code = 'ERR_SESSION_READ_ONLY'

  constructor() {
    super(
      'the session of a WebSocket upgrade request is read-only: an upgrade has no response to carry a cookie',
    )
  }
}

/**
 * A codec or serializer could not decode a value. The core catches it, starts a fresh session and
 * reports `reason` through `onInvalidCookie`; it reaches user code only when a codec is called
 * directly (for example by `sessionware inspect`).
 */
export class SessionDecodeError extends SessionError {
  static readonly code = 'ERR_SESSION_DECODE'
  readonly code = 'ERR_SESSION_DECODE'
  /** Why decoding failed. */
  readonly reason: InvalidCookieReason

  constructor(reason: InvalidCookieReason, message?: string, options?: { cause?: unknown }) {
    super(message ?? `session cookie rejected: ${reason}`, options)
    this.reason = reason
  }
}

/** `getSession(request)` was called for a request that no sessionware adapter has seen. */
export class SessionNotAttachedError extends SessionError {
  static readonly code = 'ERR_SESSION_NOT_ATTACHED'
  readonly code = 'ERR_SESSION_NOT_ATTACHED'

  constructor() {
    super(
      'no session manager is attached to this request: wrap the handler with withSessions() ' +
        '(or the framework adapter) before calling getSession()',
    )
  }
}

/** The union of every concrete error, for `switch (err.code)` narrowing. */
export type AnySessionError =
  | SessionConfigError
  | SessionStoreError
  | SessionCookieTooLargeError
  | SessionConflictError
  | SessionInvalidatedError
  | SessionReplacedError
  | SessionCommittedError
  | SessionReadOnlyError
  | SessionDecodeError
  | SessionNotAttachedError

/** True when `value` is an error thrown by sessionware. */
export function isSessionError(value: unknown): value is AnySessionError {
  return value instanceof SessionError
}
