/**
 * sessionware: HTTP sessions for every TypeScript server. The core: the session manager, the
 * session object, storages, the default serializer, contracts and errors.
 *
 * Subpath: `sessionware`.
 *
 * @module
 */

export type { RequestTransport } from './core/cookie.ts'
export { type CookieStorageOptions, cookieStorage } from './core/cookie-storage.ts'
export {
  createSessions,
  type RequestSessions,
  type SessionInfo,
  type Sessions,
} from './core/manager.ts'
export type {
  CookieOptions,
  ResolvedCookieOptions,
  ResolvedOptions,
  SessionOptions,
} from './core/options.ts'
export { getSession, newSession } from './core/request.ts'
export { jsonSerializer } from './core/serializer.ts'
export { type ServerStorageOptions, serverStorage } from './core/server-storage.ts'
export { Session } from './core/session.ts'
export type { SessionStorage } from './core/storage.ts'
export {
  type CookieCodec,
  type DecodedCookie,
  type Serializer,
  type SessionData,
  type SessionRecord,
  type SessionStore,
  STORE_CONTRACT_VERSION,
  type StoreCapabilities,
  type WriteResult,
} from './core/types.ts'
export * as errors from './errors.ts'
export {
  type AnySessionError,
  type InvalidCookieReason,
  isSessionError,
  SessionCommittedError,
  SessionConfigError,
  SessionConflictError,
  SessionCookieTooLargeError,
  SessionDecodeError,
  SessionError,
  type SessionErrorCode,
  SessionInvalidatedError,
  SessionNotAttachedError,
  SessionStoreError,
  type StoreOperation,
} from './errors.ts'
