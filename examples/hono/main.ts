/**
 * The demo's JSON API on Hono (`npm run example hono`), served on Node.js by `@hono/node-server`,
 * with `GET /api/ws`, a WebSocket whose first message is the session (`upgradeWebSocket` of
 * `@hono/node-server` with a `ws` server). Storage and cookie come from the demo's environment
 * variables (`examples/demo/config.ts`); HOST and PORT say where to listen.
 *
 * @module
 */
import type { AddressInfo } from 'node:net'
import { serve, upgradeWebSocket } from '@hono/node-server'
import { type Context, Hono } from 'hono'
import { bodyLimit } from 'hono/body-limit'
import { HTTPException } from 'hono/http-exception'
import { type Session, SessionCookieTooLargeError, SessionStoreError } from 'sessionware'
import { sessionMiddleware } from 'sessionware/adapters/hono'
import { WebSocketServer } from 'ws'
import { parseListen } from '../demo/config.ts'
import { sessionsFromEnv } from '../demo/sessions.ts'

const listen = parseListen(process.env)
const { sessions, close } = await sessionsFromEnv(process.env)

/** Keys the session serializer drops on read: refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

const shape = (session: Session) => ({
  id: session.id,
  isNew: session.isNew,
  data: session.toJSON(),
})

/** The JSON object in the body; throws 400 otherwise. */
async function readObject(c: Context): Promise<Record<string, unknown>> {
  let body: unknown
  try {
    body = JSON.parse(await c.req.text())
  } catch {
    throw new HTTPException(400, { message: 'the body is not valid JSON' })
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new HTTPException(400, { message: 'the body must be a JSON object' })
  }
  const reserved = Object.keys(body).find((key) => RESERVED.has(key))
  if (reserved !== undefined) {
    throw new HTTPException(400, { message: `the key "${reserved}" is reserved` })
  }
  return body as Record<string, unknown>
}

const app = new Hono()
app.use(sessionMiddleware(sessions)) // c.get('session'): loaded when first awaited

app.get('/api/none', (c) => c.json({ ok: true }))
app.get('/api/session', async (c) => c.json(shape(await c.get('session'))))
app.patch(
  '/api/session',
  bodyLimit({
    maxSize: 64 * 1024,
    onError: (c) => c.json({ error: 'request body over 64 KB' }, 413),
  }),
  async (c) => {
    const changes = await readObject(c)
    const session = await c.get('session')
    for (const [key, value] of Object.entries(changes)) {
      if (value === null) session.delete(key)
      else session.set(key, value)
    }
    return c.json(shape(session))
  },
)
app.delete('/api/session', async (c) => {
  ;(await c.get('session')).invalidate()
  return c.json({ id: null, isNew: true, data: {} })
})
app.post('/api/session/regenerate', async (c) => {
  const session = await c.get('session')
  session.regenerate()
  return c.json(shape(session))
})

// The upgrade request's session, read-only (writes throw SessionReadOnlyError).
app.get(
  '/api/ws',
  upgradeWebSocket((c) => ({
    async onOpen(_event, ws) {
      try {
        ws.send(JSON.stringify(shape(await c.get('session'))))
      } catch {
        ws.close(1011, 'session store unavailable')
      }
    },
  })),
)

for (const [path, allow] of [
  ['/api/none', 'GET'],
  ['/api/session', 'GET, PATCH, DELETE'],
  ['/api/session/regenerate', 'POST'],
] as const) {
  app.all(path, (c) => {
    c.header('allow', allow)
    return c.json({ error: `${c.req.method} is not allowed on ${path}` }, 405)
  })
}
app.notFound((c) => c.json({ error: `nothing at ${c.req.path}` }, 404))

// Handler and commit errors, as JSON. A handler that throws has saved nothing.
app.onError((error, c) => {
  if (error instanceof HTTPException) return c.json({ error: error.message }, error.status)
  if (error instanceof SessionStoreError) {
    console.error(error)
    return c.json({ error: 'session store unavailable', code: error.code }, 503)
  }
  if (error instanceof SessionCookieTooLargeError) {
    return c.json({ error: 'session cookie too large', code: error.code }, 413)
  }
  console.error(error)
  return c.json({ error: 'internal server error' }, 500)
})

const wss = new WebSocketServer({ noServer: true })
const server = serve(
  { fetch: app.fetch, hostname: listen.host, port: listen.port, websocket: { server: wss } },
  (info: AddressInfo) => {
    const host = info.address.includes(':') ? `[${info.address}]` : info.address
    console.log(`hono example listening on http://${host}:${info.port}`)
  },
)

const stop = (): void => {
  for (const ws of wss.clients) ws.terminate()
  server.close()
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
