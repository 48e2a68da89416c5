/**
 * The demo app: storage built from the environment, the HTML pages and the JSON API behind one
 * node:http server (not listening; `main.ts` does that, tests listen on port 0). The Redis,
 * memcached and PostgreSQL clients are made in `stores.ts`.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { withSessions } from '../../src/adapters/node.ts'
import { SessionCookieTooLargeError, SessionStoreError } from '../../src/index.ts'
import { apiRoutes } from './api.ts'
import { BodyTooLargeError, isCrossSite, type Routes, sendHtml, sendJson } from './http.ts'
import { errorPage } from './pages.ts'
import { sessionsFromEnv } from './sessions.ts'
import { type DemoSessions, webRoutes } from './web.ts'

/** A demo app, ready to listen. */
export interface DemoApp {
  /** The HTTP server, not yet listening. */
  readonly server: Server
  /** The session manager. */
  readonly sessions: DemoSessions
  /** Closes the server (and its open connections) and the store. Safe to call twice. */
  close(): Promise<void>
  /** The storage in words, such as `sqlite (/srv/demo/.demo-data/sessions.db)`. */
  readonly description: string
}

/** Options of {@link createDemoApp}. */
export interface DemoAppOptions {
  /** Receives warnings and unexpected errors. @default console.error */
  log?: (message: string) => void
}

function onError(log: (message: string) => void, storage: string) {
  return (error: unknown, req: IncomingMessage, res: ServerResponse): void => {
    if (res.headersSent) {
      res.destroy()
      return
    }
    let status = 500
    let body: { error: string; code?: string } = { error: 'internal server error' }
    if (error instanceof SessionStoreError) {
      status = 503
      body = { error: 'session store unavailable', code: error.code }
      log(`sessionware demo: ${error.message}`)
    } else if (error instanceof SessionCookieTooLargeError) {
      status = 413
      body = { error: 'session cookie too large', code: error.code }
    } else if (error instanceof BodyTooLargeError) {
      status = 413
      body = { error: 'request body over 64 KB' }
    } else {
      log(`sessionware demo: ${error instanceof Error ? (error.stack ?? error.message) : error}`)
    }
    if (req.url?.startsWith('/api/')) {
      sendJson(res, status, body)
      return
    }
    const title = status === 503 ? 'Service unavailable' : status === 413 ? 'Too large' : 'Error'
    const message =
      status === 503 ? 'Sessions are unavailable right now. Please try again shortly.' : body.error
    sendHtml(res, status, errorPage({ user: undefined, storage }, title, message))
  }
}

function router(routes: Routes, storage: string) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = new URL(req.url ?? '/', 'http://demo.invalid').pathname
    const api = path.startsWith('/api/')
    const methods = routes[path]
    const fail = (status: number, title: string, message: string): void => {
      if (api) sendJson(res, status, { error: message })
      else sendHtml(res, status, errorPage({ user: undefined, storage }, title, message))
    }
    if (methods === undefined) {
      fail(404, 'Not found', `There is no page at ${path}.`)
      return
    }
    const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
    const handler = methods[method]
    if (handler === undefined) {
      res.setHeader('allow', Object.keys(methods).join(', '))
      fail(405, 'Method not allowed', `${method} is not allowed on ${path}.`)
      return
    }
    if (method !== 'GET' && isCrossSite(req)) {
      fail(403, 'Forbidden', 'Cross-site requests are not accepted.')
      return
    }
    await handler(req, res)
  }
}

/**
 * Builds the demo from environment variables (see `config.ts`); does not listen.
 *
 * @throws {DemoConfigError} for an invalid configuration.
 */
export async function createDemoApp(
  env: Record<string, string | undefined>,
  options: DemoAppOptions = {},
): Promise<DemoApp> {
  const log = options.log ?? ((message: string) => console.error(message))
  const built = await sessionsFromEnv(env, { log })
  const { sessions, description } = built
  const routes = { ...webRoutes({ sessions, storage: description }), ...apiRoutes(sessions) }
  const server = createServer(
    withSessions(sessions, router(routes, description), { onError: onError(log, description) }),
  )
  let closing: Promise<void> | undefined
  const close = async (): Promise<void> => {
    if (server.listening) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
    }
    await built.close()
  }
  return {
    server,
    sessions,
    description,
    close() {
      closing ??= close()
      return closing
    },
  }
}
