/**
 * The Fastify 5 servers: bare Fastify, @fastify/secure-session (a 32-byte key, libsodium
 * secretbox cookies), @fastify/session (with @fastify/cookie and its default MemoryStore), each as
 * its README sets it up, and sessionware through the `fastifySessions` plugin of
 * `sessionware/adapters/fastify`; and the encrypted cookie's ceiling on Fastify
 * (`fastify-sodium-cookie`: bare Fastify doing bench/servers/sodium-cookie.ts's work).
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { FASTIFY_SEALED_CEILING, type Target } from '../targets.ts'
import { type Data, FOURTEEN_DAYS_S, HOST, type Listening, secret } from './common.ts'
import { type Manager, readN, writeN } from './sessionware.ts'
import { sodiumCookie } from './sodium-cookie.ts'

type Route = (request: FastifyRequest, reply: FastifyReply) => Promise<{ n: unknown }>

function routes(app: FastifyInstance, read: Route, write: Route): void {
  app.get('/none', async () => ({ n: 0 }))
  app.get('/read', read)
  app.get('/write', write)
}

/** The two plugins type `request.session` differently: the routes see it through this. */
type SessionLike = { get(key: 'n'): number | undefined; set(key: 'n', value: number): void }
const sessionOf = (request: FastifyRequest): SessionLike =>
  (request as unknown as { session: SessionLike }).session

function counterRoutes(app: FastifyInstance): void {
  routes(
    app,
    async (request) => ({ n: sessionOf(request).get('n') ?? null }),
    async (request) => {
      const session = sessionOf(request)
      const n = (session.get('n') ?? 0) + 1
      session.set('n', n)
      return { n }
    },
  )
}

async function secureSession(app: FastifyInstance): Promise<void> {
  const { default: plugin } = await import('@fastify/secure-session')
  await app.register(plugin, {
    key: randomBytes(32),
    cookieName: 'session',
    cookie: { path: '/', httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_S },
  })
  counterRoutes(app)
}

async function fastifySession(app: FastifyInstance): Promise<void> {
  const { default: cookie } = await import('@fastify/cookie')
  const { default: session } = await import('@fastify/session')
  await app.register(cookie)
  // Plain HTTP needs `secure: false` (its README); the rest are its defaults but for
  // saveUninitialized, off as express-session recommends.
  await app.register(session, {
    secret: secret(),
    saveUninitialized: false,
    cookie: { secure: false, httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_S * 1000 },
  })
  counterRoutes(app)
}

async function sessionware(app: FastifyInstance, manager: Manager): Promise<void> {
  const { fastifySessions } = await import('../../src/adapters/fastify.ts')
  await app.register(fastifySessions, { sessions: manager.sessions as never })
  routes(
    app,
    async (request) => ({ n: readN(await request.getSession<Data>()) ?? null }),
    async (request) => ({ n: writeN(await request.getSession<Data>()) }),
  )
}

/** Starts a Fastify target. */
export async function startFastify(
  target: Target,
  manager: Manager | undefined,
): Promise<Listening> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  if (target.name === FASTIFY_SEALED_CEILING) {
    const work = sodiumCookie()
    routes(
      app,
      async (request, reply) => {
        const n = work.read(request.headers.cookie)
        reply.header('vary', 'Cookie')
        return { n }
      },
      async (request, reply) => {
        const setCookie = work.write(request.headers.cookie)
        reply.header('vary', 'Cookie')
        reply.header('set-cookie', setCookie)
        return { n: 2 }
      },
    )
  } else if (target.kind === 'bare') {
    routes(
      app,
      async () => ({ n: 1 }),
      async () => ({ n: 2 }),
    )
  } else if (manager !== undefined) {
    await sessionware(app, manager)
  } else if (target.name === 'fastify-secure-session') {
    await secureSession(app)
  } else if (target.name === 'fastify-session') {
    await fastifySession(app)
  } else {
    throw new Error(`unknown Fastify target ${target.name}`)
  }
  await app.listen({ port: 0, host: HOST })
  const port = (app.server.address() as AddressInfo).port
  return { port, stop: () => app.close() }
}
