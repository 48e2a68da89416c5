/**
 * One benchmark server, run as a child process by bench/run.ts:
 * `node --import tsx bench/server.ts <target>`. It listens on a free port of 127.0.0.1, reports
 * `{ type: 'ready', port }` over the IPC channel, answers `{ type: 'cpu' }` with the CPU time it has
 * used so far (`{ type: 'cpu', micros }`) and exits cleanly on `{ type: 'stop' }` (so that
 * `--cpu-prof` can write its profile).
 *
 * Every server answers the same three routes with the same body, `{"n":<value>}`:
 * - `/none`  never touches the session;
 * - `/read`  reads key `n` of the session (bare servers answer `{"n":1}`);
 * - `/write` increments key `n`, so the response carries a new Set-Cookie (bare: `{"n":2}`).
 * Each session library is set up as its documentation recommends; secrets are random per process
 * (cookies are minted over HTTP, so nobody else needs them). The Redis targets connect to the
 * benchmark's own redis-server at `BENCH_REDIS_URL`, each under its own key prefix.
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { targetByName } from './targets.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
type Stop = () => Promise<void>

const HOST = '127.0.0.1'
/** A secret of 64 characters (sessionware keys and iron-session passwords need at least 32). */
const secret = (): string => randomBytes(48).toString('base64url')
const FOURTEEN_DAYS_S = 14 * 24 * 3600
/** Run on stop, after the server has closed (Redis clients). */
const cleanups: Array<() => Promise<unknown>> = []

/** The benchmark's redis-server and the target's key prefix there. */
function redisTarget(name: string): { url: string; prefix: string } {
  const url = process.env.BENCH_REDIS_URL
  const prefix = targetByName(name)?.redisPrefix
  if (!url || !prefix) throw new Error(`${name}: BENCH_REDIS_URL is not set (bench/run.ts sets it)`)
  return { url, prefix }
}

/**
 * A connected node-redis client. `recommended`: configured as sessionware's Redis store TSDoc
 * recommends (fail fast while disconnected, reconnect forever); otherwise as connect-redis' README
 * shows it (`createClient()`). Both get an 'error' listener, without which node-redis throws.
 */
async function redisClient(url: string, recommended: boolean) {
  const { createClient } = await import('redis')
  const client = recommended
    ? createClient({
        url,
        disableOfflineQueue: true,
        // the store bounds every call; node-redis' own per-command AbortSignal timer is off
        commandOptions: { timeout: 0 },
        socket: { reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, 2000) },
      })
    : createClient({ url })
  client.on('error', (error: unknown) => console.error('redis client error:', error))
  await client.connect()
  cleanups.push(() => client.close())
  return client
}

function send(res: ServerResponse, n: unknown): void {
  res.setHeader('content-type', 'application/json')
  res.end(`{"n":${JSON.stringify(n ?? null)}}`)
}

function notFound(res: ServerResponse): void {
  res.statusCode = 404
  res.end()
}

function listenNode(handler: Handler): Promise<{ port: number; stop: Stop }> {
  const server: Server = createServer(handler)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const port = (server.address() as AddressInfo).port
      const stop: Stop = () =>
        new Promise((done) => {
          server.closeAllConnections()
          server.close(() => done())
        })
      resolve({ port, stop })
    })
  })
}

/** bare node:http: the baseline. */
function bareNode(): Handler {
  return (req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read':
        return send(res, 1)
      case '/write':
        return send(res, 2)
      default:
        return notFound(res)
    }
  }
}

type Data = { n: number }

async function sessionware(storageKind: 'sealed' | 'memory' | 'redis'): Promise<Handler> {
  const { createSessions, createCookieStorage, createServerStorage, getSession } = await import(
    '../src/index.ts'
  )
  const { withSessions } = await import('../src/adapters/node.ts')
  let storage: ReturnType<typeof createCookieStorage>
  if (storageKind === 'sealed') {
    const { createSealedCodec } = await import('../src/codecs/sealed.ts')
    storage = createCookieStorage({ codec: createSealedCodec({ keys: [secret()] }) })
  } else if (storageKind === 'memory') {
    const { createMemoryStore } = await import('../src/stores/memory.ts')
    // The default cap is 10,000 records; the benchmark holds 10,000 rotation sessions plus one.
    storage = createServerStorage({ store: createMemoryStore({ maxEntries: 50_000 }) })
  } else {
    const { createRedisStore } = await import('../src/stores/redis.ts')
    const { url, prefix } = redisTarget('sessionware-redis')
    const client = await redisClient(url, true)
    storage = createServerStorage({ store: createRedisStore(client, { keyPrefix: prefix }) })
  }
  const sessions = createSessions<Data>({ storage })
  return withSessions(sessions, async (req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read': {
        const session = await getSession<Data>(req)
        return send(res, session.get('n'))
      }
      case '/write': {
        const session = await getSession<Data>(req)
        const n = (session.get('n') ?? 0) + 1
        session.set('n', n)
        return send(res, n)
      }
      default:
        return notFound(res)
    }
  })
}

async function ironSession(): Promise<Handler> {
  const { getIronSession } = await import('iron-session')
  const options = { password: secret(), cookieName: 'session' }
  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read': {
        const session = await getIronSession<Partial<Data>>(req, res, options)
        return send(res, session.n)
      }
      case '/write': {
        const session = await getIronSession<Partial<Data>>(req, res, options)
        session.n = (session.n ?? 0) + 1
        await session.save()
        return send(res, session.n)
      }
      default:
        return notFound(res)
    }
  }
  return (req, res) => {
    handle(req, res).catch((error: unknown) => {
      console.error(error)
      res.statusCode = 500
      res.end()
    })
  }
}

declare module 'express-session' {
  interface SessionData {
    n: number
  }
}

async function express(store: 'none' | 'memory' | 'redis'): Promise<Handler> {
  const { default: createApp } = await import('express')
  const app = createApp()
  if (store !== 'none') {
    const { default: session } = await import('express-session')
    let redisStore: import('express-session').Store | undefined
    if (store === 'redis') {
      // connect-redis 9 as its README sets it up: a node-redis client and a key prefix.
      const { RedisStore } = await import('connect-redis')
      const { url, prefix } = redisTarget('express-session-redis')
      redisStore = new RedisStore({ client: await redisClient(url, false), prefix })
    }
    // The setup express-session recommends; `maxAge` gives a persistent cookie like the other
    // libraries' defaults (sessionware: the 14-day idle timeout, iron-session: 14 days).
    app.use(
      session({
        ...(redisStore === undefined ? {} : { store: redisStore }),
        secret: secret(),
        resave: false,
        saveUninitialized: false,
        cookie: { httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_S * 1000 },
      }),
    )
    app.get('/none', (_req, res) => {
      res.json({ n: 0 })
    })
    app.get('/read', (req, res) => {
      res.json({ n: req.session.n ?? null })
    })
    app.get('/write', (req, res) => {
      const n = (req.session.n ?? 0) + 1
      req.session.n = n
      res.json({ n })
    })
  } else {
    app.get('/none', (_req, res) => {
      res.json({ n: 0 })
    })
    app.get('/read', (_req, res) => {
      res.json({ n: 1 })
    })
    app.get('/write', (_req, res) => {
      res.json({ n: 2 })
    })
  }
  return app as unknown as Handler
}

async function fastify(withSession: boolean): Promise<{ port: number; stop: Stop }> {
  const { default: Fastify } = await import('fastify')
  const app = Fastify()
  if (withSession) {
    const { default: secureSession } = await import('@fastify/secure-session')
    await app.register(secureSession, {
      key: randomBytes(32),
      cookieName: 'session',
      cookie: { path: '/', httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_S },
    })
    app.get('/none', async () => ({ n: 0 }))
    // The plugin types session data as an empty interface that cannot be augmented from here.
    type Typed = { get(key: 'n'): number | undefined; set(key: 'n', value: number): void }
    app.get('/read', async (req) => ({ n: (req.session as unknown as Typed).get('n') ?? null }))
    app.get('/write', async (req) => {
      const session = req.session as unknown as Typed
      const n = (session.get('n') ?? 0) + 1
      session.set('n', n)
      return { n }
    })
  } else {
    app.get('/none', async () => ({ n: 0 }))
    app.get('/read', async () => ({ n: 1 }))
    app.get('/write', async () => ({ n: 2 }))
  }
  await app.listen({ port: 0, host: HOST })
  const port = (app.server.address() as AddressInfo).port
  return { port, stop: () => app.close() }
}

async function start(name: string): Promise<{ port: number; stop: Stop }> {
  switch (name) {
    case 'node':
      return listenNode(bareNode())
    case 'sessionware-sealed':
      return listenNode(await sessionware('sealed'))
    case 'sessionware-memory':
      return listenNode(await sessionware('memory'))
    case 'sessionware-redis':
      return listenNode(await sessionware('redis'))
    case 'iron-session':
      return listenNode(await ironSession())
    case 'express':
      return listenNode(await express('none'))
    case 'express-session':
      return listenNode(await express('memory'))
    case 'express-session-redis':
      return listenNode(await express('redis'))
    case 'fastify':
      return fastify(false)
    case 'fastify-secure-session':
      return fastify(true)
    default:
      throw new Error(`unknown target ${name}`)
  }
}

async function main(): Promise<void> {
  const name = process.argv[2] ?? ''
  if (targetByName(name) === undefined) throw new Error(`unknown target ${JSON.stringify(name)}`)
  if (typeof process.send !== 'function') throw new Error('bench/server.ts runs under bench/run.ts')
  const { port, stop } = await start(name)
  process.on('message', (message: { type?: string }) => {
    if (message?.type === 'cpu') {
      // CPU time of the whole process (every thread: GC helpers included), in microseconds.
      const usage = process.cpuUsage()
      process.send?.({ type: 'cpu', micros: usage.user + usage.system })
      return
    }
    if (message?.type !== 'stop') return
    const timer = setTimeout(() => process.exit(0), 2000)
    timer.unref()
    stop()
      .then(() => Promise.allSettled(cleanups.map((cleanup) => cleanup())))
      .then(
        () => process.exit(0),
        () => process.exit(0),
      )
  })
  // The parent went away without saying stop: do not linger.
  process.on('disconnect', () => process.exit(0))
  process.send({ type: 'ready', port })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
