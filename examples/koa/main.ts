/**
 * The demo's JSON API on Koa (`npm run example koa`), with `GET /api/ws`, a WebSocket on the same
 * server whose first message is the session. Storage and cookie come from the demo's environment
 * variables (`examples/demo/config.ts`); HOST and PORT say where to listen.
 *
 * @module
 */
import http, { type IncomingMessage } from 'node:http'
import type { AddressInfo } from 'node:net'
import Koa from 'koa'
import {
  getSession,
  type Session,
  SessionCookieTooLargeError,
  SessionStoreError,
} from 'sessionware'
import { sessionMiddleware } from 'sessionware/adapters/koa'
import { withUpgradeSessions } from 'sessionware/adapters/node'
import { WebSocketServer } from 'ws'
import { parseListen } from '../demo/config.ts'
import { sessionsFromEnv } from '../demo/sessions.ts'

const listen = parseListen(process.env)
const { sessions, close } = await sessionsFromEnv(process.env)

const MAX_BODY = 64 * 1024
/** Keys the session serializer drops on read: refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

const shape = (session: Session) => ({
  id: session.id,
  isNew: session.isNew,
  data: session.toJSON(),
})

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
async function readObject(ctx: Koa.Context): Promise<Record<string, unknown>> {
  const text = await readBody(ctx.req)
  if (text === null) ctx.throw(413, 'request body over 64 KB')
  let body: unknown
  try {
    body = JSON.parse(text)
  } catch {
    ctx.throw(400, 'the body is not valid JSON')
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    ctx.throw(400, 'the body must be a JSON object')
  }
  const reserved = Object.keys(body).find((key) => RESERVED.has(key))
  if (reserved !== undefined) ctx.throw(400, `the key "${reserved}" is reserved`)
  return body as Record<string, unknown>
}

const routes: Record<string, Record<string, (ctx: Koa.Context) => Promise<unknown>>> = {
  '/api/none': { GET: async () => ({ ok: true }) },
  '/api/session': {
    GET: async (ctx) => shape(await ctx.getSession()),
    PATCH: async (ctx) => {
      const changes = await readObject(ctx)
      const session = await ctx.getSession()
      for (const [key, value] of Object.entries(changes)) {
        if (value === null) session.delete(key)
        else session.set(key, value)
      }
      return shape(session)
    },
    DELETE: async (ctx) => {
      ;(await ctx.getSession()).invalidate()
      return { id: null, isNew: true, data: {} }
    },
  },
  '/api/session/regenerate': {
    POST: async (ctx) => {
      const session = await ctx.getSession()
      session.regenerate()
      return shape(session)
    },
  },
}

const app = new Koa()

// Every error as JSON. A store failure reaches here as SessionStoreError with status 503.
app.use(async (ctx, next) => {
  try {
    await next()
  } catch (error) {
    const { status = 500, expose = false } = error as { status?: number; expose?: boolean }
    ctx.status = error instanceof SessionCookieTooLargeError ? 413 : status
    if (error instanceof SessionStoreError) {
      ctx.body = { error: 'session store unavailable', code: error.code }
    } else if (error instanceof SessionCookieTooLargeError) {
      ctx.body = { error: 'session cookie too large', code: error.code }
    } else {
      ctx.body = { error: expose ? (error as Error).message : 'internal server error' }
    }
    if (ctx.status >= 500) ctx.app.emit('error', error, ctx)
  }
})

app.use(sessionMiddleware(sessions))

app.use(async (ctx: Koa.Context) => {
  const methods = routes[ctx.path]
  if (methods === undefined) ctx.throw(404, `nothing at ${ctx.path}`)
  const route = methods[ctx.method === 'HEAD' ? 'GET' : ctx.method]
  if (route === undefined) {
    ctx.set('allow', Object.keys(methods).join(', '))
    ctx.throw(405, `${ctx.method} is not allowed on ${ctx.path}`)
  }
  ctx.body = await route(ctx)
})

// WebSockets on the same server: Koa never sees an upgrade, the node adapter reads its session.
const server = http.createServer(app.callback())
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
  console.log(
    `koa example listening on http://${address.includes(':') ? `[${address}]` : address}:${port}`,
  )
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
