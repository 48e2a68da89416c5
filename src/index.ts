/**
 * sessionware: HTTP sessions for every TypeScript server. The core: the session manager, the
 * session object, storages, the default serializer, the store contract and errors. What adapter
 * authors need besides lives in `sessionware/adapters/kit`.
 *
 * Subpath: `sessionware`.
 *
 * @module
 */

export { type CookieStorageOptions, createCookieStorage } from './core/cookie-storage.ts'
export {
  type CookieEnvelope,
  type EnvelopeSession,
  sessionwareEnvelope,
} from './core/envelope.ts'
export { createSessions, type SessionInfo, type SessionManager } from './core/manager.ts'
export type { CookieEncoding, CookieOptions, SessionOptions } from './core/options.ts'
export { getSession, newSession } from './core/request.ts'
export { jsonSerializer } from './core/serializer.ts'
export { createServerStorage, type ServerStorageOptions } from './core/server-storage.ts'
export { Session } from './core/session.ts'
export {
  type CookieCodec,
  type DecodedCookie,
  type PatchResult,
  type Register,
  type RegisteredData,
  type RegisteredFlash,
  type Serializer,
  type SessionData,
  type SessionFields,
  type SessionPatch,
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
  SessionReadOnlyError,
  SessionReplacedError,
  SessionStoreError,
  type StoreOperation,
} from './errors.ts'
