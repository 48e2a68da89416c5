/**
 * The demo app: storage built from the environment, the HTML pages and the JSON API behind one
 * node:http server (not listening; `main.ts` does that, tests listen on port 0). The Redis,
 * memcached and PostgreSQL clients are made in `stores.ts`.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import Database from 'better-sqlite3'
import { withSessions } from '../../src/adapters/node.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import {
  type CookieCodec,
  createCookieStorage,
  createServerStorage,
  createSessions,
  SessionConfigError,
  SessionCookieTooLargeError,
  type SessionOptions,
  type SessionStore,
  SessionStoreError,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { createSqliteStore } from '../../src/stores/sqlite.ts'
import { apiRoutes } from './api.ts'
import { cookieKeys, type DemoConfig, DemoConfigError, parseConfig } from './config.ts'
import { BodyTooLargeError, isCrossSite, type Routes, sendHtml, sendJson } from './http.ts'
import { errorPage } from './pages.ts'
import { openServerStore } from './stores.ts'
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

interface Built {
  storage: SessionOptions['storage']
  description: string
  /** Closes the store and any client made for it. */
  close: () => Promise<void>
}

/**
 * The demo's SQLite store. A database that an earlier sessionware (store contract v1) wrote holds
 * only demo sessions: its table is replaced, with a warning, instead of failing every request (an
 * application would migrate or drop it itself; the store refuses it with a SessionConfigError).
 */
async function openDemoSqlite(path: string, log: (message: string) => void): Promise<SessionStore> {
  const store = createSqliteStore(path)
  try {
    await store.get('demo-layout-probe')
    return store
  } catch (error) {
    await store.close()
    if (!(error instanceof SessionConfigError)) throw error
  }
  const db = new Database(path)
  try {
    db.exec('DROP TABLE IF EXISTS sessionware_sessions')
  } finally {
    db.close()
  }
  log(
    `sessionware demo: ${path} held the session table of an earlier sessionware; replaced it (the demo sessions in it are gone)`,
  )
  return createSqliteStore(path)
}

async function buildStorage(config: DemoConfig, log: (message: string) => void): Promise<Built> {
  if (config.store === 'memory') {
    const store = createMemoryStore()
    return {
      storage: createServerStorage({ store }),
      description: 'memory (lost on restart)',
      close: async () => store.close?.(),
    }
  }
  if (config.store === 'redis' || config.store === 'memcached' || config.store === 'postgres') {
    const { store, description, close } = await openServerStore(config, log)
    return { storage: createServerStorage({ store }), description, close }
  }
  if (config.store === 'sqlite') {
    let store: SessionStore
    try {
      await mkdir(config.dataDir, { recursive: true })
      store = await openDemoSqlite(config.sqlitePath, log)
    } catch (error) {
      throw new DemoConfigError(
        `SQLITE_PATH: cannot open ${config.sqlitePath}: ${(error as Error).message}`,
      )
    }
    return {
      storage: createServerStorage({ store }),
      description: `sqlite (${config.sqlitePath})`,
      close: async () => store.close?.(),
    }
  }
  let codec: CookieCodec
  if (config.codec === 'plain') codec = createPlainCodec()
  else {
    const keys = await cookieKeys(config, log)
    codec = config.codec === 'sealed' ? createSealedCodec({ keys }) : createSignedCodec({ keys })
  }
  return {
    storage: createCookieStorage({ codec }),
    description: `cookie (${config.codec} codec)`,
    close: async () => {},
  }
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
  const config = parseConfig(env)
  let built: Built
  let sessions: DemoSessions
  try {
    // With the default SQLite storage the secret is made on the first run too, next to the
    // database, so that switching to SESSION_STORE=cookie later keeps working without
    // configuration; server storage itself does not use it.
    if (config.store === 'sqlite' && config.keys === undefined) await cookieKeys(config, log)
    built = await buildStorage(config, log)
  } catch (error) {
    if (error instanceof SessionConfigError) throw new DemoConfigError(error.message)
    throw error
  }
  try {
    sessions = createSessions({
      storage: built.storage,
      cookie: { name: config.cookieName },
      idleTimeout: config.idleTimeout,
      absoluteTimeout: config.absoluteTimeout,
    })
  } catch (error) {
    await built.close()
    if (!(error instanceof SessionConfigError)) throw error
    const name = error.message.startsWith('cookie.') || error.message.includes('__Host-')
    throw new DemoConfigError(name ? `SESSION_COOKIE_NAME: ${error.message}` : error.message)
  }
  const { description } = built
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
