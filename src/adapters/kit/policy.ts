/**
 * The error policy every adapter follows, and the default error reporter. Part of
 * `sessionware/adapters/kit`.
 *
 * @module
 */
import type { AttachedRequest } from '../../core/request.ts'
import { SessionStoreError } from '../../errors.ts'

/**
 * Ends a request's session by the error policy: after a handler that completed, commits (returns
 * the Set-Cookie values to send, synchronously when no store I/O is needed); after a handler that
 * threw or rejected (`failed`), discards: nothing of the request is saved and no cookie is sent,
 * so a half-done change never reaches the store. A commit error is thrown (or rejected) for the
 * framework's error path.
 *
 * Call it exactly once per request, before the response headers go out.
 */
export function finishRequest(attached: AttachedRequest, failed: true): []
export function finishRequest(
  attached: AttachedRequest,
  failed: boolean,
): string[] | Promise<string[]>
export function finishRequest(
  attached: AttachedRequest,
  failed: boolean,
): string[] | Promise<string[]> {
  if (failed) {
    attached.discard()
    return []
  }
  return attached.commit()
}

/**
 * The default error reporter: writes the error, with its stack and `cause`, to `console.error`,
 * once. Used by the node:http adapter's default `onError`; an adapter whose framework has its own
 * error reporting (Express, Fastify, Koa, Hono, a Fetch runtime) hands the error there instead.
 */
export function reportRequestError(error: unknown): void {
  // biome-ignore lint/suspicious/noConsole: reporting the error is this function's whole purpose
  console.error('sessionware: request failed:', error)
}

/**
 * The status an adapter answers a sessionware error with when the application's error handler
 * does not choose one: 503 for a store failure (`SessionStoreError`, which also carries it as
 * `status`/`statusCode`), 500 for anything else.
 */
export function errorStatus(error: unknown): 503 | 500 {
  return error instanceof SessionStoreError ? 503 : 500
}
