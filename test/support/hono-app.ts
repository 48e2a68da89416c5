/**
 * The adapter conformance app (`adapter-app.ts`) served by Hono through `sessionMiddleware`, the
 * way a Hono application answers: `c.text`, `c.body`, `c.redirect`, the `stream()` helper, a
 * module-level `Response` for shared results, `app.onError`, and the runtime's own
 * `upgradeWebSocket` for the WebSocket at `WS_PATH`. Runs on Node.js (`@hono/node-server`), Bun
 * and Deno alike.
 *
 * Not part of the package.
 *
 * @module
 */
import { Hono } from 'hono'
import { stream } from 'hono/streaming'
import type { ContentfulStatusCode, StatusCode } from 'hono/utils/http-status'
import type { UpgradeWebSocket } from 'hono/ws'
import { sessionMiddleware } from '../../src/adapters/hono.ts'
import type { SessionManager } from '../../src/index.ts'
import type { RouteResult, Routes } from './adapter-app.ts'
import { WS_PATH, wsGreeting } from './adapter-suite-upgrade.ts'
import { errorCode } from './http.ts'

/** Options of {@link honoApp}. */
export interface HonoAppOptions {
  /**
   * `app.onError`'s choice of status for an error (recorded by the caller); the answer carries an
   * `x-error-code` header with the error's code. @default 500, or 503 for ERR_SESSION_STORE
   */
  readonly onError?: (error: unknown) => number
  /** The runtime's `upgradeWebSocket`; when given, `WS_PATH` serves `wsGreeting`. */
  // biome-ignore lint/suspicious/noExplicitAny: each runtime's helper has its own socket type
  readonly upgradeWebSocket?: UpgradeWebSocket<any, any>
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

/** The default status for an error: 503 for a store error, 500 otherwise. */
function defaultStatus(error: unknown): number {
  return errorCode(error) === 'ERR_SESSION_STORE' ? 503 : 500
}

/** A Hono app with `sessionMiddleware(sessions)` serving `routes` (each route gets `c`). */
export function honoApp(
  sessions: SessionManager,
  routes: Routes,
  options: HonoAppOptions = {},
): Hono {
  const app = new Hono()
  const shared = new Map<RouteResult, Response>()
  app.use(sessionMiddleware(sessions))
  const upgrade = options.upgradeWebSocket
  if (upgrade !== undefined) {
    app.get(
      WS_PATH,
      upgrade((c) => ({
        async onOpen(_event, ws) {
          ws.send(await wsGreeting(c))
        },
      })),
    )
  }
  app.all('*', async (c) => {
    const url = new URL(c.req.url)
    const route = routes[url.pathname]
    if (route === undefined) return c.notFound()
    const result = await route({ request: c, url })
    const status = (result.status ?? 200) as StatusCode
    if (result.shared) {
      let response = shared.get(result)
      if (response === undefined) {
        response = new Response(null, { status, headers: result.headers })
        shared.set(result, response)
      }
      return response
    }
    const location = result.headers?.location
    if (location !== undefined && (status === 301 || status === 302 || status === 303)) {
      return c.redirect(location, status)
    }
    const body = result.body ?? ''
    if (typeof body !== 'string') {
      return stream(c, async (out) => {
        for (const chunk of body) {
          await out.write(chunk)
          await pause(2)
        }
      })
    }
    if (result.headers !== undefined) {
      return c.body(body, status as ContentfulStatusCode, result.headers)
    }
    return c.text(body, status as ContentfulStatusCode)
  })
  app.onError((error, c) => {
    const status = (options.onError ?? defaultStatus)(error)
    const code = errorCode(error)
    return c.body(null, status as StatusCode, code === undefined ? {} : { 'x-error-code': code })
  })
  return app
}
