/**
 * Serving apps through the Express adapter in tests, on Express 5 and Express 4 alike: the
 * conformance suite's `Mount`, and a fresh fixture behind an app the test builds. The error
 * middleware of both records each error (`fixture.onError` chooses the status) and answers JSON
 * `{ error, code }` with an `x-error-code` header.
 *
 * Not part of the package.
 *
 * @module
 */
import type { RequestListener } from 'node:http'
import { Readable } from 'node:stream'
import type { TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import express5, {
  type ErrorRequestHandler,
  type Express,
  type Request,
  type Response,
  type Router,
} from 'express'
import express4 from 'express4'
import { WebSocketServer } from 'ws'
import {
  discardOnError,
  type ExpressSessionOptions,
  sessionMiddleware,
} from '../../src/adapters/express.ts'
import { withUpgradeSessions } from '../../src/adapters/node.ts'
import type { Session, SessionData, SessionManager } from '../../src/index.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type Mount,
  type RouteResult,
  type StorageKind,
  WS_PATH,
  wsGreeting,
} from './adapter-suite.ts'
import { Client, errorCode, type HttpResult, serve, setCookieOf } from './http.ts'

/** One Express major version under test. */
export interface ExpressVersion {
  readonly name: 'Express 5' | 'Express 4'
  /**
   * Creates an app. Typed as Express 5's app: every call the tests make has the same shape in
   * both versions (Express 4's own types are checked in test-d).
   */
  readonly create: () => Express
  /** Creates a router (typed as Express 5's, as `create`). */
  readonly router: () => Router
  /** The version catches a rejected async handler itself (Express 5); else the test must. */
  readonly catchesRejections: boolean
}

export const EXPRESS_VERSIONS: readonly ExpressVersion[] = [
  { name: 'Express 5', create: express5, router: express5.Router, catchesRejections: true },
  {
    name: 'Express 4',
    create: express4 as unknown as () => Express,
    router: express4.Router as unknown as () => Router,
    catchesRejections: false,
  },
]

/** An async Express handler. */
type AsyncHandler = (req: Request, res: Response, next: (error?: unknown) => void) => Promise<void>

/**
 * An async handler as the version takes it: as it is for Express 5 (which sends a rejection to
 * the error middleware), with `.catch(next)` for Express 4 (which would leave it unhandled).
 */
export function asyncHandler(version: ExpressVersion, handler: AsyncHandler): AsyncHandler {
  if (version.catchesRejections) return handler
  return (req, res, next) => handler(req, res, next).catch(next)
}

/** The error middleware of the test apps: records the error, answers its status and code. */
function answerError(onError: (error: unknown) => number): ErrorRequestHandler {
  return (error, _req, res, _next) => {
    const status = onError(error)
    if (res.headersSent) {
      res.destroy()
      return
    }
    const code = errorCode(error)
    if (code !== undefined) res.set('x-error-code', code)
    res.status(status).json({ error: (error as Error).message, code })
  }
}

const pause = (): Promise<void> => sleep(2)

/** Answers a `RouteResult` the Express way: redirect, send, or a piped stream of its chunks. */
function sendResult(res: Response, result: RouteResult): void {
  const status = result.status ?? 200
  const location = result.headers?.location
  if (location !== undefined && status >= 300 && status < 400) {
    res.redirect(status, location)
    return
  }
  res.status(status)
  if (result.headers !== undefined) res.set(result.headers)
  else if (status !== 204) res.type('text/plain')
  const body = result.body ?? ''
  if (status === 204) res.end()
  else if (typeof body === 'string') res.send(body)
  else {
    const chunks = async function* () {
      for (const chunk of body) {
        await pause()
        yield chunk
      }
    }
    Readable.from(chunks()).pipe(res)
  }
}

/**
 * Serves `app` on 127.0.0.1 (closed after the test), with `sessions` on WebSocket upgrades to
 * `WS_PATH` when given; resolves to the base URL.
 */
export function serveExpress(
  t: TestContext,
  app: Express,
  sessions?: SessionManager,
): Promise<string> {
  if (sessions === undefined) return serve(t, app as unknown as RequestListener)
  const wss = new WebSocketServer({ noServer: true })
  t.after(() => wss.close())
  return serve(
    t,
    app as unknown as RequestListener,
    withUpgradeSessions(sessions, (req, socket, head) => {
      if (req.url !== WS_PATH) {
        socket.destroy()
        return
      }
      wss.handleUpgrade(req, socket, head, async (ws) => ws.send(await wsGreeting(req)))
    }),
  )
}

/** The conformance suite's mount for `version`. */
export function mountExpress(version: ExpressVersion): Mount {
  return (t, sessions, routes, { onError }) => {
    const app = version.create()
    app.use(sessionMiddleware(sessions))
    app.use(
      asyncHandler(version, async (req, res, next) => {
        const url = new URL(req.url ?? '/', 'http://app.invalid')
        const route = routes[url.pathname]
        if (route === undefined) {
          next()
          return
        }
        sendResult(res, await route({ request: req, url }))
      }),
    )
    app.use(discardOnError())
    app.use(answerError(onError))
    return serveExpress(t, app, sessions)
  }
}

/** Options of {@link startExpress}. */
export interface StartOptions {
  /** @default 'server' */
  kind?: StorageKind
  fixture?: FixtureOptions
  adapter?: ExpressSessionOptions
  /** Mount `discardOnError()` before the error middleware. @default true */
  discard?: boolean
  /** The app's error middleware. @default records the error, answers its status and code */
  onError?: ErrorRequestHandler
}

/**
 * A fresh fixture behind an app of `version`: `sessionMiddleware`, the routes `build` adds, then
 * `discardOnError()` and the recording error middleware.
 */
export async function startExpress(
  t: TestContext,
  version: ExpressVersion,
  build: (app: Express, fixture: Fixture) => void,
  options: StartOptions = {},
): Promise<{ client: Client; fixture: Fixture; base: string }> {
  const fixture = createFixture(options.kind ?? 'server', options.fixture)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const app = version.create()
  app.use(sessionMiddleware(fixture.sessions, options.adapter))
  build(app, fixture)
  if (options.discard !== false) app.use(discardOnError())
  app.use(options.onError ?? answerError(fixture.onError))
  const base = await serveExpress(t, app, fixture.sessions)
  return { client: new Client(base), fixture, base }
}

/**
 * `req.session` where the adapter loaded it (`undefined` elsewhere). Typed here by hand: in this
 * program express-session's types (of the benchmarks) keep `Request['session']`.
 */
export function eager(req: object): Session<SessionData, SessionData> {
  return (req as { session: Session<SessionData, SessionData> }).session
}

/** The value of the session's Set-Cookie in a result, if any. */
export function cookieOf(result: HttpResult): string | undefined {
  return setCookieOf(result, 'session')?.value
}
