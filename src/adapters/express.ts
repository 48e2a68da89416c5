/**
 * The Express adapter, for Express 4 and 5: {@link sessionMiddleware} gives every later middleware
 * and route its session (`await req.getSession()`, `await getSession(req)`, or `req.session` where
 * it is loaded eagerly), holds the response until the session is committed, and hands store and
 * cookie errors to Express's error middleware. {@link discardOnError}, mounted after the routes,
 * makes a request whose handler failed save nothing.
 *
 * Subpath: `sessionware/adapters/express`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { SessionManager } from '../core/manager.ts'
import { getSession, newSession } from '../core/request.ts'
import type { Session } from '../core/session.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from '../core/types.ts'
import { type AutoloadPattern, autoloadMatcher } from './express/autoload.ts'
import { attachRequest } from './kit/attach.ts'
import { holdNodeResponse } from './kit/node-response.ts'
import { nodeTransport } from './kit/transport.ts'

export type { AutoloadPattern } from './express/autoload.ts'

declare module 'express-serve-static-core' {
  interface Request {
    /**
     * The request's session, set once it is loaded: before the route runs where it is loaded
     * eagerly (`sessionMiddleware`'s `autoload`, or `autoloadSession()`), or by
     * `await req.getSession()` / `await req.newSession()`. `undefined` until then. Typed from
     * `Register`. When express-session's types are in the program too, they keep this property.
     */
    session: Express.Request extends { session: infer Other }
      ? Other
      : Session<RegisteredData, RegisteredFlash>
    /** The request's session (loaded once, lazily), also put on `req.session`. */
    getSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<Session<Data, Flash>>
    /** A fresh, empty session for the request (at login), also put on `req.session`. */
    newSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<Session<Data, Flash>>
  }
}

/** Express's `next`: no argument continues, an error goes to the error middleware. */
export type NextFunction = (error?: unknown) => void

/** A middleware as Express 4 and 5 call it. */
export type ExpressMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
) => void

/** An error-handling middleware (four parameters) as Express 4 and 5 call it. */
export type ExpressErrorMiddleware = (
  error: unknown,
  req: IncomingMessage,
  res: ServerResponse,
  next: NextFunction,
) => void

/** Options of {@link sessionMiddleware}. */
export interface ExpressSessionOptions {
  /**
   * Load the session before the next middleware runs, into `req.session`, for the requests whose
   * path (below where the middleware is mounted) matches: `true` for every request, a string for
   * a path and everything under it (`'/account'`: `/account`, `/account/…`, not `/accounts`; any
   * case, as Express routes), a RegExp tested against the path, or a list of these. Costs a
   * storage read (a store round trip, or a cookie decode) on every matching request, even one that
   * never uses its session. A load error goes to the error middleware.
   *
   * @default false (loaded when first asked for: `await req.getSession()`)
   */
  autoload?: boolean | AutoloadPattern | readonly AutoloadPattern[]
}

/** What the adapter keeps on a request. */
interface SessionRequest extends IncomingMessage {
  session?: unknown
  getSession?: typeof getSessionMethod
  newSession?: typeof newSessionMethod
  /** Express's router sets it: where an error goes from here. */
  next?: NextFunction
  [FAIL]?: (error: unknown, next: NextFunction) => void
}

const FAIL: unique symbol = Symbol('sessionware.express.fail')

async function getSessionMethod(this: SessionRequest): Promise<Session<SessionData, SessionData>> {
  const session = await getSession<SessionData, SessionData>(this)
  this.session = session
  return session
}

async function newSessionMethod(this: SessionRequest): Promise<Session<SessionData, SessionData>> {
  const session = await newSession<SessionData, SessionData>(this)
  this.session = session
  return session
}

/** Loads the session into `req.session`, then continues; a load error goes to `next`. */
function load(req: SessionRequest, next: NextFunction): void {
  getSessionMethod.call(req).then(() => next(), next)
}

/**
 * The session middleware: mount it once, before the routes (`app.use(sessionMiddleware(sessions))`).
 * In every later middleware and route, `await req.getSession()` (or `await getSession(req)`)
 * gives the session; with `options.autoload`, `req.session` holds it before the route runs. The
 * session is committed before the response headers leave, on every response path (`res.send`,
 * `res.json`, `res.redirect`, `res.sendFile`, `res.render`, piped streams, HEAD), with
 * `Vary: Cookie` on every response whose session was read. A store or cookie error (load, commit,
 * cookie too large) goes to Express's error middleware through `next(error)`. Mount
 * {@link discardOnError} after the routes so that a failed handler saves nothing.
 *
 * @example
 * ```ts
 * app.use(sessionMiddleware(sessions, { autoload: ['/account'] }))
 * app.get('/account', (req, res) => res.json({ user: req.session.get('user') }))
 * app.post('/visit', async (req, res) => {
 *   const session = await req.getSession()
 *   session.set('visits', (session.get('visits') ?? 0) + 1)
 *   res.json({ visits: session.get('visits') })
 * })
 * app.use(discardOnError())
 * ```
 */
export function sessionMiddleware<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
  options: ExpressSessionOptions = {},
): ExpressMiddleware {
  const autoload = autoloadMatcher(options.autoload)
  return (req: SessionRequest, res, next) => {
    attachRequest(sessions, req, {
      cookieHeader: req.headers.cookie,
      transport: () => nodeTransport(req),
      // Only a request that asks for its session has its response held.
      onActivate: (attached) => {
        let forward: NextFunction | undefined
        const hold = holdNodeResponse(req, res, attached, (error) => {
          ;(forward ?? req.next ?? next)(error)
        })
        req[FAIL] = (error, to) => {
          forward = to
          hold.fail(error)
        }
      },
    })
    req.getSession = getSessionMethod
    req.newSession = newSessionMethod
    if (autoload?.(req)) load(req, next)
    else next()
  }
}

/**
 * Loads the session into `req.session` before the next handler, wherever it is mounted: on a
 * router (`router.use(autoloadSession())`) or a route (`app.get('/me', autoloadSession(), …)`).
 * Needs {@link sessionMiddleware} earlier on the request's way. A load error goes to the error
 * middleware.
 */
export function autoloadSession(): ExpressMiddleware {
  return (req, _res, next) => load(req, next)
}

/**
 * The error-handling middleware that makes a failed request save nothing: mount it after the
 * routes and before the application's own error middleware. Express hands a thrown or rejected
 * error only to error middleware, so this is where the adapter learns that the handler failed:
 * the request's session changes are discarded (no store write, no cookie), and the error goes on
 * to the next error middleware, which answers. An error that arrives while the session is being
 * committed goes on once the commit has finished (the headers are then on their way).
 */
export function discardOnError(): ExpressErrorMiddleware {
  return (error, req: SessionRequest, _res, next) => {
    const fail = req[FAIL]
    if (fail === undefined) next(error)
    else fail(error, next)
  }
}
