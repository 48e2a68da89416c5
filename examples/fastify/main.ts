/**
 * The demo's JSON API on Fastify 5, with a WebSocket (`@fastify/websocket`) that reads the
 * session of its upgrade request. `npm run example fastify`; configured by the demo's variables
 * (`examples/demo/config.ts`), HOST and PORT.
 *
 * @module
 */
import fastifyWebsocket from '@fastify/websocket'
import Fastify from 'fastify'
import { type Session, SessionStoreError } from 'sessionware'
import { fastifySessions } from 'sessionware/adapters/fastify'
import { DemoConfigError, parseListen } from '../demo/config.ts'
import { sessionsFromEnv } from '../demo/sessions.ts'

/** Keys the session serializer drops on read; refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

const shape = (session: Session) => ({
  id: session.id,
  isNew: session.isNew,
  data: session.toJSON(),
})

let env: Awaited<ReturnType<typeof sessionsFromEnv>>
let listen: ReturnType<typeof parseListen>
try {
  listen = parseListen(process.env)
  env = await sessionsFromEnv(process.env)
} catch (error) {
  if (!(error instanceof DemoConfigError)) throw error
  console.error(`fastify example: invalid configuration: ${error.message}`)
  process.exit(2)
}

const app = Fastify({ bodyLimit: 64 * 1024 }) // a bigger body: 413
await app.register(fastifySessions, { sessions: env.sessions })
await app.register(fastifyWebsocket)

app.setErrorHandler((error: { statusCode?: number; code?: string; message?: string }, _, reply) => {
  if (error instanceof SessionStoreError) {
    return reply.code(503).send({ error: 'session store unavailable', code: error.code })
  }
  const status = error.statusCode ?? 500 // Fastify's own: 400 bad JSON, 413 too large, …
  if (status >= 500) console.error('fastify example: request failed:', error)
  const message = status < 500 ? String(error.message) : 'internal server error'
  return reply.code(status).send({ error: message, code: error.code })
})

app.get('/api/none', async () => ({ ok: true }))
app.get('/api/session', async (request) => shape(await request.getSession()))
app.patch('/api/session', async (request, reply) => {
  const body = request.body
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return reply.code(400).send({ error: 'the body must be a JSON object' })
  }
  const entries = Object.entries(body)
  const reserved = entries.find(([key]) => RESERVED.has(key))
  if (reserved) return reply.code(400).send({ error: `the key "${reserved[0]}" is reserved` })
  const session = await request.getSession()
  for (const [key, value] of entries) {
    if (value === null) session.delete(key)
    else session.set(key, value)
  }
  return shape(session)
})
app.delete('/api/session', async (request) => {
  ;(await request.getSession()).invalidate()
  return { id: null, isNew: true, data: {} }
})
app.post('/api/session/regenerate', async (request) => {
  const session = await request.getSession()
  session.regenerate()
  return shape(session)
})
// The upgrade request's session, read-only: a write here would throw SessionReadOnlyError.
app.get('/api/ws', { websocket: true }, async (socket, request) => {
  socket.send(JSON.stringify(shape(await request.getSession())))
})

try {
  await app.listen({ host: listen.host, port: listen.port })
} catch (error) {
  console.error(`fastify example: cannot listen on ${listen.host}:${listen.port}:`, error)
  await env.close()
  process.exit(1)
}
const address = app.server.address()
if (address !== null && typeof address === 'object') {
  const host = address.address.includes(':') ? `[${address.address}]` : address.address
  console.log(`fastify example listening on http://${host}:${address.port}`)
}

const stop = async (): Promise<void> => {
  await app.close() // ends open WebSockets too
  await env.close()
  process.exit(0)
}
process.once('SIGINT', stop)
process.once('SIGTERM', stop)
