/**
 * The adapter kit: everything a framework adapter needs, so that an adapter is glue only. The
 * node:http and Fetch adapters of this package are built on it.
 *
 * An adapter, for each request:
 * 1. attaches the request ({@link attachRequest}) with its Cookie header and a transport
 *    ({@link nodeTransport}, {@link fetchTransport}), and, when the framework hands the
 *    application its own request or context object, aliases that object to the request
 *    ({@link aliasRequest}) so `getSession(ctx)` works;
 * 2. on node:http-style responses, holds the response from `onActivate` until the commit has
 *    finished ({@link holdNodeResponse}); on Fetch responses, after the handler, commits and puts
 *    the cookies on a copy of the response ({@link withSessionCookies});
 * 3. follows the error policy ({@link finishRequest}): a handler that threw or rejected commits
 *    nothing (`attached.discard()`); otherwise the session is committed before the headers leave,
 *    and a commit error goes to the framework's error path;
 * 4. sends `Vary: Cookie` on every response whose session was read (`attached.active`).
 *
 * A WebSocket upgrade request is attached with {@link attachUpgrade} instead: its session can be
 * read, and writes throw `SessionReadOnlyError` (there is no response to carry a cookie).
 *
 * Subpath: `sessionware/adapters/kit`.
 *
 * @example A minimal Fetch-style adapter
 * ```ts
 * import type { SessionManager } from 'sessionware'
 * import { attachRequest, fetchTransport, finishRequest, withSessionCookies } from 'sessionware/adapters/kit'
 *
 * export function sessionMiddleware(sessions: SessionManager) {
 *   return async (request: Request, next: () => Promise<Response>): Promise<Response> => {
 *     const attached = attachRequest(sessions, request, {
 *       cookieHeader: request.headers.get('cookie'),
 *       transport: () => fetchTransport(request),
 *     })
 *     let response: Response
 *     try {
 *       response = await next()
 *     } catch (error) {
 *       finishRequest(attached, true) // nothing is saved
 *       throw error
 *     }
 *     if (!attached.active) return response // the session was never asked for
 *     return withSessionCookies(response, await finishRequest(attached, false), true)
 *   }
 * }
 * ```
 *
 * @module
 */

export type { RequestTransport } from '../core/cookie.ts'
export type { ResolvedCookieOptions, ResolvedOptions } from '../core/options.ts'
export type { AttachedRequest, CommitWatcher } from '../core/request.ts'
export type { SessionState } from '../core/session.ts'
export type { LoadedSession, SessionStorage, WriteOutcome } from '../core/storage.ts'
export {
  type AttachOptions,
  aliasRequest,
  attachedRequests,
  attachRequest,
  isAttached,
} from './kit/attach.ts'
export { withSessionCookies } from './kit/fetch-response.ts'
export {
  holdNodeResponse,
  type NodeErrorHandler,
  type NodeHoldOptions,
  type NodeResponseHold,
} from './kit/node-response.ts'
export { errorStatus, finishRequest, reportRequestError } from './kit/policy.ts'
export { fetchTransport, nodeTransport } from './kit/transport.ts'
export { attachUpgrade, isWebSocketUpgrade } from './kit/upgrade.ts'
export { varyOnCookie } from './kit/vary.ts'
