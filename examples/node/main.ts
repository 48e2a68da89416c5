/**
 * The demo's JSON API on plain node:http (`npm run example node`), with `GET /api/ws`, a WebSocket
 * on the same server whose first message is the session. Storage and cookie come from the demo's
 * environment variables (`examples/demo/config.ts`); HOST and PORT say where to listen.
 *
 * @module
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import {
  getSession,
  type Session,
  SessionCookieTooLargeError,
  SessionStoreError,
} from 'sessionware'
import { withSessions, withUpgradeSessions } from 'sessionware/adapters/node'
import { WebSocketServer } from 'ws'
import { parseListen } from '../demo/config.ts'
import { sessionsFromEnv } from '../demo/sessions.ts'

const listen = parseListen(process.env)
const { sessions, close } = await sessionsFromEnv(process.env)

const MAX_BODY = 64 * 1024
/** Keys the session serializer drops on read: refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

/** An answer other than 200, thrown by a route. */
class HttpError extends Error {
  readonly status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const shape = (session: Session) => ({
  id: session.id,
  isNew: session.isNew,
  data: session.toJSON(),
})

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' })
  res.end(JSON.stringify(body))
}

/** The body as text, or null when it is over 64 KB (drained up to 1 MB, so the client sees 413). */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size <= MAX_BODY) chunks.push(chunk)
      else if (size > 16 * MAX_BODY) req.destroy()
    })
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')))
    req.on('close', () => resolve(null))
    req.on('error', reject)
  })
}

/** The JSON object in the body; throws 400 or 413 otherwise. */
async function readObject(req: IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBody(req)
  if (text === null) throw new HttpError(413, 'request body over 64 KB')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'the body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HttpError(400, 'the body must be a JSON object')
  }
  const reserved = Object.keys(body).find((key) => RESERVED.has(key))
  if (reserved !== undefined) throw new HttpError(400, `the key "${reserved}" is reserved`)
  return body as Record<string, unknown>
}

const routes: Record<string, Record<string, (req: IncomingMessage) => Promise<unknown>>> = {
  '/api/none': { GET: async () => ({ ok: true }) },
  '/api/session': {
    GET: async (req) => shape(await getSession(req)),
    PATCH: async (req) => {
      const changes = await readObject(req)
      const session = await getSession(req)
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) session.delete(key)
        else session.set(key, value)
      }
      return shape(session)
    },
    DELETE: async (req) => {
      ;(await getSession(req)).invalidate()
      return { id: null, isNew: true, data: {} }
    },
  },
  '/api/session/regenerate': {
    POST: async (req) => {
      const session = await getSession(req)
      session.regenerate()
      return shape(session)
    },
  },
}

const server = http.createServer(
  withSessions(
    sessions,
    async (req, res) => {
      const { pathname } = new URL(req.url ?? '/', 'http://localhost')
      const methods = routes[pathname]
      if (methods === undefined) throw new HttpError(404, `nothing at ${pathname}`)
      const method = req.method === 'HEAD' ? 'GET' : (req.method ?? 'GET')
      const route = methods[method]
      if (route === undefined) {
        res.setHeader('allow', Object.keys(methods).join(', '))
        throw new HttpError(405, `${method} is not allowed on ${pathname}`)
      }
      sendJson(res, 200, await route(req))
    },
    {
      // Handler and commit errors, as JSON. A route that throws has saved nothing.
      onError: (error, _req, res) => {
        if (res.headersSent) {
          res.destroy()
        } else if (error instanceof HttpError) {
          sendJson(res, error.status, { error: error.message })
        } else if (error instanceof SessionStoreError) {
          console.error(error)
          sendJson(res, 503, { error: 'session store unavailable', code: error.code })
        } else if (error instanceof SessionCookieTooLargeError) {
          sendJson(res, 413, { error: 'session cookie too large', code: error.code })
        } else {
          console.error(error)
          sendJson(res, 500, { error: 'internal server error' })
        }
      },
    },
  ),
)

// WebSockets on the same server: the upgrade request's session, read-only.
const wss = new WebSocketServer({ noServer: true })
server.on(
  'upgrade',
  withUpgradeSessions(sessions, (req, socket, head) => {
    if (new URL(req.url ?? '/', 'http://localhost').pathname !== '/api/ws') {
      socket.destroy()
      return
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      getSession(req).then(
        (session) => ws.send(JSON.stringify(shape(session))),
        () => ws.close(1011, 'session store unavailable'),
      )
    })
  }),
)

server.listen(listen.port, listen.host, () => {
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  console.log(`node example listening on http://${host}:${port}`)
})

const stop = (): void => {
  server.close()
  server.closeAllConnections()
  for (const ws of wss.clients) ws.terminate()
  close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
