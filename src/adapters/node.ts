/**
 * The node:http adapter (also for anything built on `IncomingMessage`/`ServerResponse`).
 *
 * Subpath: `sessionware/adapters/node`.
 *
 * @module
 */
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { RequestSessions, Sessions } from '../core/manager.ts'
import type { SessionData } from '../core/types.ts'
import { SessionStoreError } from '../errors.ts'

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
   * Handles an error thrown (or rejected) by the handler or by the session commit. Commit errors
   * arrive before anything was sent, so this can still choose the status.
   *
   * @default answers 503 for a `SessionStoreError`, 500 otherwise (plain text), or destroys the
   * socket when headers were already sent
   */
  onError?: (error: unknown, req: Req, res: Res) => void
}

function defaultOnError(error: unknown, _req: IncomingMessage, res: ServerResponse): void {
  if (res.headersSent) {
    res.destroy(error instanceof Error ? error : undefined)
    return
  }
  const status = error instanceof SessionStoreError ? 503 : 500
  res.statusCode = status
  res.setHeader('content-type', 'text/plain; charset=utf-8')
  res.end(status === 503 ? 'Service Unavailable\n' : 'Internal Server Error\n')
}

/**
 * Takes the Set-Cookie values out of the headers argument of a held `writeHead(status, [message],
 * headers)` call (object or raw array form) and returns them, or null when it names none.
 */
function takeCookies(args: unknown[]): string[] | null {
  const index = typeof args[1] === 'string' ? 2 : 1
  const headers = args[index]
  if (headers === null || typeof headers !== 'object') return null
  const found: string[] = []
  let named = false
  if (Array.isArray(headers)) {
    const kept: unknown[] = []
    if (Array.isArray(headers[0])) {
      for (const pair of headers as unknown[][]) {
        if (String(pair[0]).toLowerCase() === 'set-cookie') {
          named = true
          found.push(...[pair[1]].flat().map(String))
        } else kept.push(pair)
      }
    } else {
      for (let i = 0; i < headers.length; i += 2) {
        if (String(headers[i]).toLowerCase() === 'set-cookie') {
          named = true
          found.push(...[headers[i + 1]].flat().map(String))
        } else kept.push(headers[i], headers[i + 1])
      }
    }
    args[index] = kept
  } else {
    const copy: OutgoingHttpHeaders = { ...(headers as OutgoingHttpHeaders) }
    for (const key of Object.keys(copy)) {
      if (key.toLowerCase() !== 'set-cookie') continue
      named = true
      const value = copy[key]
      if (value !== undefined) found.push(...[value].flat().map(String))
      delete copy[key]
    }
    args[index] = copy
  }
  return named ? found : null
}

type Method = (...args: unknown[]) => unknown

/** The response methods held until the commit, in this order. */
const HELD = ['writeHead', 'write', 'end', 'flushHeaders'] as const

/**
 * Holds `writeHead`, `write`, `end` and `flushHeaders` of the response until the session commit
 * (an async store write) has finished, then adds the Set-Cookie headers and lets the calls through
 * in order. Installed when the handler first asks for its session. Once the commit is done the
 * wrappers stay in place and pass every call straight through: deleting them again would turn the
 * response into a slow dictionary-mode object for the rest of its life (measured).
 */
function holdHeaders<Req extends IncomingMessage, Res extends ServerResponse>(
  req: Req,
  res: Res,
  rs: RequestSessions,
  onError: (error: unknown, req: Req, res: Res) => void,
): void {
  const target = res as unknown as Record<(typeof HELD)[number], Method>
  const originals: Method[] = [target.writeHead, target.write, target.end, target.flushHeaders]
  let phase: 0 | 1 | 2 | 3 = 0 // open, committing, done, failed and answered
  const queue: Array<[number, unknown[]]> = []
  const flush = (cookies: string[]): void => {
    phase = 2
    if (cookies.length > 0) {
      // Cookies given to writeHead replace those set with setHeader (node's own precedence); the
      // session's cookies are added to whichever the application chose.
      const head = queue.find(([index]) => index === 0)
      let app = head ? takeCookies(head[1]) : null
      if (app === null) {
        const existing = res.getHeader('set-cookie')
        app = existing === undefined ? [] : [existing].flat().map(String)
      }
      res.setHeader('set-cookie', [...app, ...cookies])
    }
    for (const [index, args] of queue) (originals[index] as Method).apply(res, args)
    queue.length = 0
  }
  const fail = (error: unknown): void => {
    phase = 2 // the error handler's own calls go through
    queue.length = 0
    onError(error, req, res)
    // Once it answered, what the application still writes is dropped, as the held calls were.
    if (res.writableEnded) phase = 3
  }
  const hold = (index: number, args: unknown[]): unknown => {
    if (phase === 2) return (originals[index] as Method).apply(res, args)
    if (phase === 3) return index === 1 ? false : index === 3 ? undefined : res
    if (phase === 0) {
      phase = 1
      let result: string[] | Promise<string[]>
      try {
        result = rs.commit()
      } catch (error) {
        fail(error)
        return index === 1 ? false : index === 3 ? undefined : res
      }
      if (Array.isArray(result)) {
        queue.push([index, args])
        flush(result) // nothing to wait for: this very call goes through now
        return index === 1 ? true : index === 3 ? undefined : res
      }
      result.then(flush, fail)
    }
    queue.push([index, args])
    return index === 1 ? true : index === 3 ? undefined : res
  }
  target.writeHead = (...args) => hold(0, args)
  target.write = (...args) => hold(1, args)
  target.end = (...args) => hold(2, args)
  target.flushHeaders = (...args) => hold(3, args)
}

/**
 * Wraps a node:http handler: inside it, `getSession(req)` works, and the session is committed
 * before the response headers leave (writeHead, write, end, redirects, HEAD and streamed bodies
 * alike). Handler and commit errors go to `options.onError`.
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
  sessions: Sessions<Data, Flash>,
  handler: NodeHandler<Req, Res>,
  options: NodeAdapterOptions<Req, Res> = {},
): (req: Req, res: Res) => void {
  const onError = options.onError ?? defaultOnError
  return (req, res) => {
    // The response is hooked only when the handler first asks for its session: a request that
    // never does runs exactly as without sessionware.
    sessions.attach(
      req,
      req.headers.cookie,
      () => ({ encrypted: (req.socket as TLSSocket).encrypted === true, host: req.headers.host }),
      (rs) => {
        if (res.headersSent)
          rs.readOnly() // too late for a Set-Cookie: refuse writes, loudly
        else holdHeaders(req, res, rs, onError)
      },
    )
    const fail = (error: unknown): void => onError(error, req, res)
    try {
      const result = handler(req, res)
      if (result instanceof Promise) result.then(undefined, fail)
    } catch (error) {
      fail(error)
    }
  }
}
