/**
 * The node:http adapter (also for anything built on `IncomingMessage`/`ServerResponse`).
 *
 * Subpath: `sessionware/adapters/node`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Duplex } from 'node:stream'
import type { SessionManager } from '../core/manager.ts'
import type { SessionData } from '../core/types.ts'
import { isAttached } from './kit/attach.ts'
import { holdNodeResponse, type NodeResponseHold } from './kit/node-response.ts'
import { errorStatus, reportRequestError } from './kit/policy.ts'
import { nodeTransport } from './kit/transport.ts'
import { attachUpgrade } from './kit/upgrade.ts'

/** A node:http request handler, sync or async. */
export type NodeHandler<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
> = (req: Req, res: Res) => unknown

/** Options of {@link withSessions}. */
export interface NodeAdapterOptions<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
> {
  /**
   * Handles an error thrown (or rejected) by the handler or by the session commit. A handler error
   * that arrives before the response was started has discarded the session (nothing saved, no
   * cookie); a commit error arrives before anything was sent. Either way this can still choose the
   * status. An error that arrives once the headers are out can only end the connection.
   *
   * @default reports the error with `console.error`, then answers 503 for a `SessionStoreError`,
   * 500 otherwise (plain text); destroys the socket when headers were already sent; does nothing
   * more when the response was already complete
   */
  onError?: (error: unknown, req: Req, res: Res) => void
}

/** The default `onError`: report, then answer (or cut a response already under way). */
function defaultOnError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  reportRequestError(error)
  if (res.writableEnded) return
  if (res.headersSent) {
    res.destroy()
    return
  }
  const status = errorStatus(error)
  res.statusCode = status
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end(status === 503 ? 'Service Unavailable\n' : 'Internal Server Error\n')
}

/**
 * Wraps a node:http handler: inside it, `getSession(req)` works, and the session is committed
 * before the response headers leave (writeHead, write, end, redirects, HEAD and streamed bodies
 * alike), with `Vary: Cookie` on every response whose session was read. A handler that throws or
 * rejects before starting its response saves nothing. While a store write is pending, `write()`
 * returns `false` and `'drain'` follows. Handler and commit errors go to `options.onError`.
 *
 * @example
 * ```ts
 * http.createServer(withSessions(sessions, async (req, res) => {
 *   const session = await getSession(req)
 *   session.set('visits', (session.get('visits') ?? 0) + 1)
 *   res.end(`visit ${session.get('visits')}`)
 * })).listen(3000)
 * ```
 */
export function withSessions<
  Data extends SessionData,
  Flash extends SessionData,
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
>(
  sessions: SessionManager<Data, Flash>,
  handler: NodeHandler<Req, Res>,
  options: NodeAdapterOptions<Req, Res> = {},
): (req: Req, res: Res) => void {
  const onError = options.onError ?? defaultOnError
  return (req, res) => {
    // The response is hooked only when the handler first asks for its session: a request that
    // never does runs exactly as without sessionware.
    let hold: NodeResponseHold | undefined
    sessions.attach(
      req,
      req.headers.cookie,
      () => nodeTransport(req),
      (attached) => {
        hold = holdNodeResponse(req, res, attached, onError)
      },
    )
    let result: unknown
    try {
      result = handler(req, res)
    } catch (error) {
      if (hold === undefined) onError(error, req, res)
      else hold.fail(error)
      return
    }
    if (result instanceof Promise) {
      result.then(undefined, (error: unknown) => {
        if (hold === undefined) onError(error, req, res)
        else hold.fail(error)
      })
    }
  }
}

/** A node:http `'upgrade'` listener, sync or async. */
export type UpgradeListener<Req extends IncomingMessage = IncomingMessage> = (
  req: Req,
  socket: Duplex,
  head: Buffer,
) => unknown

/**
 * Wraps a node:http `'upgrade'` listener (for example one that hands the request to `ws`'s
 * `handleUpgrade`): inside it, and in the WebSocket's handlers that keep `req`, `getSession(req)`
 * reads the upgrade request's session. The session is read-only: an upgrade has no response to
 * carry a cookie, so writes throw `SessionReadOnlyError`; change the session over plain HTTP
 * requests. A listener that throws or rejects has its socket destroyed and the error reported with
 * `console.error`.
 *
 * @example
 * ```ts
 * const wss = new WebSocketServer({ noServer: true })
 * server.on('upgrade', withUpgradeSessions(sessions, (req, socket, head) => {
 *   wss.handleUpgrade(req, socket, head, async (ws) => {
 *     const session = await getSession(req)
 *     ws.send(JSON.stringify(session.toJSON()))
 *   })
 * }))
 * ```
 */
export function withUpgradeSessions<
  Data extends SessionData,
  Flash extends SessionData,
  Req extends IncomingMessage = IncomingMessage,
>(
  sessions: SessionManager<Data, Flash>,
  listener: UpgradeListener<Req>,
): (req: Req, socket: Duplex, head: Buffer) => void {
  return (req, socket, head) => {
    attachUpgradeRequest(sessions, req)
    const fail = (error: unknown): void => {
      reportRequestError(error)
      socket.destroy()
    }
    try {
      const result = listener(req, socket, head)
      if (result instanceof Promise) result.then(undefined, fail)
    } catch (error) {
      fail(error)
    }
  }
}

/**
 * Attaches a node:http upgrade request that no {@link withUpgradeSessions} saw (for example in the
 * `'connection'` handler of a `ws` server made with `{ server }`): `getSession(req)` then reads its
 * session, read-only. Does nothing when the request is already attached.
 */
export function attachUpgradeRequest<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
  req: IncomingMessage,
): void {
  if (isAttached(req)) return
  attachUpgrade(sessions, req, {
    cookieHeader: req.headers.cookie,
    transport: () => nodeTransport(req),
  })
}
