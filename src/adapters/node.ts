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

/**
 * Holds `writeHead`, `write`, `end` and `flushHeaders` of the response until the session commit
 * (an async store write) has finished, then adds the Set-Cookie headers and lets the calls through
 * in order. A request whose handler never asked for its session passes straight through.
 */
function holdHeaders<Req extends IncomingMessage, Res extends ServerResponse>(
  req: Req,
  res: Res,
  rs: RequestSessions,
  onError: (error: unknown, req: Req, res: Res) => void,
): void {
  const target = res as unknown as Record<string, Method>
  const names = ['writeHead', 'write', 'end', 'flushHeaders'] as const
  const originals = names.map((name) => target[name] as Method)
  // Another layer may have patched these as own properties already: put those back, not the prototype's.
  const own = names.map((name) => Object.hasOwn(target, name))
  let phase: 0 | 1 | 2 = 0 // open, committing, done
  const queue: Array<[number, unknown[]]> = []
  const restore = (): void => {
    names.forEach((name, index) => {
      if (own[index]) target[name] = originals[index] as Method
      else delete target[name]
    })
  }
  const flush = (cookies: string[]): void => {
    restore()
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
  names.forEach((name, index) => {
    const original = originals[index] as Method
    target[name] = function held(...args: unknown[]): unknown {
      if (phase === 0) {
        if (!rs.active) {
          restore()
          phase = 2
          return original.apply(res, args)
        }
        phase = 1
        rs.commit().then(flush, (error: unknown) => {
          restore()
          phase = 2
          queue.length = 0
          onError(error, req, res)
        })
      }
      if (phase === 1) {
        queue.push([index, args])
        return name === 'write' ? true : name === 'flushHeaders' ? undefined : res
      }
      return original.apply(res, args)
    }
  })
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
    const rs = sessions.attach(req, req.headers.cookie, () => ({
      encrypted: (req.socket as TLSSocket).encrypted === true,
      host: req.headers.host,
    }))
    holdHeaders(req, res, rs, onError)
    const fail = (error: unknown): void => onError(error, req, res)
    try {
      const result = handler(req, res)
      if (result instanceof Promise) result.then(undefined, fail)
    } catch (error) {
      fail(error)
    }
  }
}
