/**
 * The demo's JSON API on Express (`npm run example express`), with `GET /api/ws`, a WebSocket on
 * the same server whose first message is the session. Storage and cookie come from the demo's
 * environment variables (`examples/demo/config.ts`); HOST and PORT say where to listen.
 *
 * @module
 */
import type { AddressInfo } from 'node:net'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import {
  getSession,
  type Session,
  SessionCookieTooLargeError,
  SessionStoreError,
} from 'sessionware'
import { discardOnError, sessionMiddleware } from 'sessionware/adapters/express'
import { withUpgradeSessions } from 'sessionware/adapters/node'
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

const notAllowed: RequestHandler = (req, res) => {
  res.status(405).json({ error: `${req.method} is not allowed on ${req.path}` })
}

const app = express()
app.use(sessionMiddleware(sessions))

app.get('/api/none', (_req, res) => {
  res.json({ ok: true })
})

app
  .route('/api/session')
  .get(async (req, res) => {
    res.json(shape(await req.getSession()))
  })
  // Any Content-Type is read as JSON, up to 64 KB (more: 413; not JSON: 400).
  .patch(express.json({ limit: '64kb', type: () => true }), async (req, res) => {
    const body: unknown = req.body
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      res.status(400).json({ error: 'the body must be a JSON object' })
      return
    }
    const reserved = Object.keys(body).find((key) => RESERVED.has(key))
    if (reserved !== undefined) {
      res.status(400).json({ error: `the key "${reserved}" is reserved` })
      return
    }
    const session = await req.getSession()
    for (const [key, value] of Object.entries(body)) {
      if (value === null) session.delete(key)
      else session.set(key, value)
    }
    res.json(shape(session))
  })
  .delete(async (req, res) => {
    ;(await req.getSession()).invalidate()
    res.json({ id: null, isNew: true, data: {} })
  })
  .all(notAllowed)

app
  .route('/api/session/regenerate')
  .post(async (req, res) => {
    const session = await req.getSession()
    session.regenerate()
    res.json(shape(session))
  })
  .all(notAllowed)

app.use((req, res) => {
  res.status(404).json({ error: `nothing at ${req.path}` })
})

// A request whose handler failed saves nothing; then the errors are answered as JSON.
app.use(discardOnError())
app.use(((error, _req, res, next) => {
  if (res.headersSent) {
    next(error) // Express ends the connection
  } else if (error instanceof SessionStoreError) {
    console.error(error)
    res.status(503).json({ error: 'session store unavailable', code: error.code })
  } else if (error instanceof SessionCookieTooLargeError) {
    res.status(413).json({ error: 'session cookie too large', code: error.code })
  } else if (error?.type === 'entity.too.large') {
    res.status(413).json({ error: 'request body over 64 KB' })
  } else if (error?.type === 'entity.parse.failed') {
    res.status(400).json({ error: 'the body is not valid JSON' })
  } else if (error?.expose === true && typeof error.status === 'number') {
    res.status(error.status).json({ error: error.message })
  } else {
    console.error(error)
    res.status(500).json({ error: 'internal server error' })
  }
}) satisfies ErrorRequestHandler)

const server = app.listen(listen.port, listen.host, () => {
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  console.log(`express example listening on http://${host}:${port}`)
})

// WebSockets on the same server (Express never sees upgrades): the session, read-only.
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
