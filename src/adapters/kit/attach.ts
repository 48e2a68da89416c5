/**
 * Attaching a request to a session manager, and aliasing a framework's own request or context
 * object to it. Part of `sessionware/adapters/kit`.
 *
 * @module
 */
import type { RequestTransport } from '../../core/cookie.ts'
import type { SessionManager } from '../../core/manager.ts'
import { type AttachedRequest, aliasState, allStates, findState } from '../../core/request.ts'
import type { SessionData } from '../../core/types.ts'

/** Options of {@link attachRequest}. */
export interface AttachOptions {
  /** The request's Cookie header, as received (`null` or `undefined`: no cookie). */
  readonly cookieHeader: string | null | undefined
  /**
   * Describes how the request arrived ({@link nodeTransport}, {@link fetchTransport}, or the
   * framework's own view). Called lazily, only when a cookie is written, so it may do work.
   */
  readonly transport: () => RequestTransport
  /**
   * Called once, when the request first asks for its session (`getSession` or `newSession`),
   * before anything is loaded: the place to hook the response (see {@link holdNodeResponse}), so a
   * request that never asks runs exactly as without sessions.
   *
   * @default none
   */
  readonly onActivate?: ((attached: AttachedRequest) => void) | undefined
}

/**
 * Registers `request` with `sessions`: from now on `getSession(request)` and
 * `sessions.getSession(request)` find its session (loaded lazily, once). Call it once per request,
 * before the application's handler runs, with the object the application will pass to
 * `getSession`. Returns the handle that commits or discards the request's session.
 *
 * The same as `sessions.attach(request, cookieHeader, transport, onActivate)`, which takes the
 * options as arguments: on a framework's per-request path that form is measurably cheaper (no
 * options object per request; the adapters of this package use it).
 */
export function attachRequest<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
  request: object,
  options: AttachOptions,
): AttachedRequest {
  return sessions.attach(request, options.cookieHeader, options.transport, options.onActivate)
}

/**
 * Makes `alias` (a framework's own request or context object: Koa's `ctx`, Hono's `c`, Fastify's
 * `request`) share the session of `request`, which {@link attachRequest} registered: then
 * `getSession(alias)` and `getSession(request)` give the same session. Cheap: one property.
 *
 * @throws {SessionNotAttachedError} when `request` was never attached.
 */
export function aliasRequest(alias: object, request: object): void {
  aliasState(alias, request)
}

/** True when `request` (or an alias of it) was attached, to any session manager. */
export function isAttached(request: object): boolean {
  return findState(request) !== undefined
}

/**
 * The handles of every session manager attached to `request` (or an alias of it), the innermost
 * first: for an adapter that finds its own again through {@link AttachedRequest.adapterState}.
 */
export function attachedRequests(request: object): AttachedRequest[] {
  return allStates(request)
}
