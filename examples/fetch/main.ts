/**
 * The demo's JSON API as one Fetch-API handler (`npm run example fetch`), on Node.js, Bun
 * (`-- --runtime=bun`) or Deno (`-- --runtime=deno`); no WebSocket. Storage and cookie come from
 * the demo's environment variables (`examples/demo/config.ts`); HOST and PORT say where to listen.
 * On Bun and Deno, use `SESSION_STORE=memory` or `cookie`: the default SQLite store needs
 * better-sqlite3, which neither runtime can load.
 *
 * @module
 */
import {
  getSession,
  type Session,
  SessionCookieTooLargeError,
  SessionStoreError,
} from 'sessionware'
import { withSessions } from 'sessionware/adapters/fetch'
import { parseListen } from '../demo/config.ts'
import { sessionsFromEnv } from '../demo/sessions.ts'
import { serveFetch } from './serve.ts'

const listen = parseListen(process.env)
const { sessions, close } = await sessionsFromEnv(process.env).catch((error: unknown) => {
  // Such as the default SQLite store on Bun or Deno, which cannot load better-sqlite3.
  console.error(`fetch example: cannot start: ${(error as Error).message}`)
  console.error('(on Bun and Deno, run it with SESSION_STORE=memory or SESSION_STORE=cookie)')
  process.exit(2)
})

const MAX_BODY = 64 * 1024
/** Keys the session serializer drops on read: refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

/** An answer other than 200, thrown by a route. */
class HttpError extends Error {
  readonly status: number
  readonly headers: Record<string, string>
  constructor(status: number, message: string, headers: Record<string, string> = {}) {
    super(message)
    this.status = status
    this.headers = headers
  }
}

const shape = (session: Session) => ({
  id: session.id,
  isNew: session.isNew,
  data: session.toJSON(),
})

/** The body as text; throws 413 past 64 KB (reading stops there). */
async function readText(request: Request): Promise<string> {
  const tooLarge = new HttpError(413, 'request body over 64 KB')
  if (Number(request.headers.get('content-length') ?? 0) > MAX_BODY) throw tooLarge
  const decoder = new TextDecoder()
  let text = ''
  let size = 0
  const reader = request.body?.getReader()
  for (let read = await reader?.read(); read && !read.done; read = await reader?.read()) {
    size += read.value.byteLength
    if (size > MAX_BODY) {
      await reader?.cancel()
      throw tooLarge
    }
    text += decoder.decode(read.value, { stream: true })
  }
  return text + decoder.decode()
}

/** The JSON object in the body; throws 400 or 413 otherwise. */
async function readObject(request: Request): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = JSON.parse(await readText(request))
  } catch (error) {
    if (error instanceof HttpError) throw error
    throw new HttpError(400, 'the body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object')
  }
  const reserved = Object.keys(body).find((key) => RESERVED.has(key))
  if (reserved !== undefined) throw new HttpError(400, `the key "${reserved}" is reserved`)
  return body as Record<string, unknown>
}

const routes: Record<string, Record<string, (request: Request) => Promise<unknown>>> = {
  '/api/none': { GET: async () => ({ ok: true }) },
  '/api/session': {
    GET: async (request) => shape(await getSession(request)),
    PATCH: async (request) => {
      const changes = await readObject(request)
      const session = await getSession(request)
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) session.delete(key)
        else session.set(key, value)
      }
      return shape(session)
    },
    DELETE: async (request) => {
      ;(await getSession(request)).invalidate()
      return { id: null, isNew: true, data: {} }
    },
  },
  '/api/session/regenerate': {
    POST: async (request) => {
      const session = await getSession(request)
      session.regenerate()
      return shape(session)
    },
  },
}

/** The application: a Fetch handler whose session `withSessions` commits after it returns. */
const app = withSessions(sessions, async (request: Request) => {
  const { pathname } = new URL(request.url)
  const methods = routes[pathname]
  if (methods === undefined) throw new HttpError(404, `nothing at ${pathname}`)
  const method = request.method === 'HEAD' ? 'GET' : request.method
  const route = methods[method]
  if (route === undefined) {
    const allow = Object.keys(methods).join(', ')
    throw new HttpError(405, `${method} is not allowed on ${pathname}`, { allow })
  }
  return Response.json(await route(request))
})

/** Handler and commit errors, as JSON. A handler that throws has saved nothing. */
function failed(error: unknown): Response {
  if (error instanceof HttpError) {
    return Response.json({ error: error.message }, { status: error.status, headers: error.headers })
  }
  if (error instanceof SessionStoreError) {
    console.error(error)
    return Response.json({ error: 'session store unavailable', code: error.code }, { status: 503 })
  }
  if (error instanceof SessionCookieTooLargeError) {
    return Response.json({ error: 'session cookie too large', code: error.code }, { status: 413 })
  }
  console.error(error)
  return Response.json({ error: 'internal server error' }, { status: 500 })
}

const server = await serveFetch((request) => app(request).catch(failed), listen)
console.log(`fetch example listening on ${server.url}`)

const stop = (): void => {
  Promise.all([server.close(), close()]).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
