/**
 * Sessions on WebSocket upgrades: the upgrade request's session can be read, never written. An
 * upgrade is answered with 101 before (node:http `upgrade`, `ws`) or without (Bun's
 * `server.upgrade`, Deno's `upgradeWebSocket`) a response the application could put a cookie on,
 * and a socket has no later response, so writes throw `SessionReadOnlyError` instead of being
 * lost silently. Part of `sessionware/adapters/kit`.
 *
 * @module
 */
import type { SessionManager } from '../../core/manager.ts'
import type { AttachedRequest } from '../../core/request.ts'
import type { SessionData } from '../../core/types.ts'
import { type AttachOptions, attachRequest } from './attach.ts'

/**
 * Attaches a WebSocket upgrade request: `getSession(request)` then reads its session (loaded
 * lazily, once, like any request's), and every write (`set`, `regenerate`, `invalidate`,
 * `getFlash` of a waiting value, …) throws `SessionReadOnlyError`. Nothing is ever committed:
 * reading does not even refresh the idle timeout.
 */
export function attachUpgrade<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
  request: object,
  options: Omit<AttachOptions, 'onActivate'>,
): AttachedRequest {
  const attached = attachRequest(sessions, request, options)
  attached.upgradeOnly()
  return attached
}

/**
 * True when the headers ask for a WebSocket upgrade (`Upgrade: websocket`, any case). Accepts a
 * Fetch `Headers` object or the value of node:http's `req.headers.upgrade`.
 */
export function isWebSocketUpgrade(upgrade: Headers | string | undefined | null): boolean {
  const value = typeof upgrade === 'object' && upgrade !== null ? upgrade.get('upgrade') : upgrade
  return value?.toLowerCase() === 'websocket'
}
