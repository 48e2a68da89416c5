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
import { findState, getSession, newSession } from '../core/request.ts'
import type { Session } from '../core/session.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from '../core/types.ts'
import { type AutoloadPattern, autoloadMatcher } from './express/autoload.ts'
import { attachedRequests } from './kit/attach.ts'
import { holdNodeResponse, type NodeResponseHold } from './kit/node-response.ts'
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

/** What the adapter reads and writes on a request. */
interface SessionRequest extends IncomingMessage {
  session?: unknown
  getSession?: typeof getSessionMethod
  newSession?: typeof newSessionMethod
  /** Express's router sets it: where an error goes from here. */
  next?: NextFunction
}

function getSessionMethod(this: SessionRequest): Promise<Session<SessionData, SessionData>> {
  return getSession<SessionData, SessionData>(this)
}

function newSessionMethod(this: SessionRequest): Promise<Session<SessionData, SessionData>> {
  return newSession<SessionData, SessionData>(this)
}

/**
 * `getSession`, `newSession` and `req.session` (the loaded session; assigning it keeps the value
 * on that request), for a request prototype or a request itself.
 */
const ACCESSORS: PropertyDescriptorMap = {
  getSession: { value: getSessionMethod, configurable: true, writable: true },
  newSession: { value: newSessionMethod, configurable: true, writable: true },
  session: {
    configurable: true,
    get(this: object) {
      return findState(this)?.current
    },
    set(this: object, value: unknown) {
      Object.defineProperty(this, 'session', {
        value,
        configurable: true,
        enumerable: true,
        writable: true,
      })
    },
  },
}

/** Marks a prototype that has the {@link ACCESSORS}. */
const ACCESSORS_ON: unique symbol = Symbol.for('sessionware.express.accessors')

/**
 * The prototype of `target` when it is a top-level Express app's `app.request` or `app.response`
 * (which the request keeps throughout, in its sub-apps too); otherwise undefined.
 */
function topLevelPrototype(target: object): Record<PropertyKey, unknown> | undefined {
  const proto = Object.getPrototypeOf(target) as Record<PropertyKey, unknown>
  // An Express app is a function; a mounted one has a `parent`.
  const app: unknown = Object.hasOwn(proto, 'app') ? proto.app : null
  // A frozen or sealed prototype (hardened apps) cannot take them: each request or response does.
  return typeof app === 'function' &&
    (app as { parent?: unknown }).parent === undefined &&
    Object.isExtensible(proto)
    ? proto
    : undefined
}

/**
 * Gives `req` the accessors: through its prototype when that is a top-level Express app's
 * `app.request` (Express's place for request methods: every own property added to an Express
 * request costs time, measured), else on the request itself (a sub-app, whose prototype the
 * request leaves again on its way out, or plain node:http).
 */
function giveAccessors(req: SessionRequest): void {
  if ((Object.getPrototypeOf(req) as Record<PropertyKey, unknown>)[ACCESSORS_ON] === true) return
  const proto = topLevelPrototype(req)
  if (proto !== undefined) {
    Object.defineProperties(proto, ACCESSORS)
    Object.defineProperty(proto, ACCESSORS_ON, { value: true })
  } else Object.defineProperties(req, ACCESSORS)
}

/** The hold of one request's response, and where its handler's error goes. */
class ExpressHold {
  hold: NodeResponseHold | undefined = undefined
  forward: NextFunction | undefined = undefined
}

/** An error handler that keeps the error to itself (a second manager's hold). */
const KEEP: NextFunction = () => {}

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
    // The manager's attach, called directly (no options object: measurably cheaper, see
    // fastify.ts). Only a request that asks for its session has its response held.
    sessions.attach(
      req,
      req.headers.cookie,
      () => nodeTransport(req),
      (active) => {
        const state = new ExpressHold()
        const onError = (error: unknown) => (state.forward ?? req.next ?? next)(error)
        state.hold = holdNodeResponse(req, res, active, onError, { via: topLevelPrototype(res) })
        active.adapterState = state
      },
    )
    giveAccessors(req)
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
  return (error, req, _res, next) => {
    let first: ExpressHold | undefined
    for (const attached of attachedRequests(req)) {
      const state = attached.adapterState
      if (!(state instanceof ExpressHold) || state.hold === undefined) continue
      if (first === undefined) first = state
      else {
        // Every other manager discards first, so that the answer commits none of them.
        state.forward = KEEP
        state.hold.fail(error)
      }
    }
    if (first === undefined) next(error)
    else {
      first.forward = next
      first.hold?.fail(error)
    }
  }
}
