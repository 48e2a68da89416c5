/**
 * The Express 5 servers: bare Express, bare Express with the Redis round trips of a session (the
 * ceiling of the Redis goals), express-session (MemoryStore, and connect-redis 9 on the
 * benchmark's redis-server) set up as its README recommends, and sessionware through
 * `sessionMiddleware` of `sessionware/adapters/express` (with `discardOnError` after the routes).
 *
 * @module
 */

import type { Express, Request, Response } from 'express'
import type { Target } from '../targets.ts'
import {
  type Data,
  FOURTEEN_DAYS_S,
  type Handler,
  type Listening,
  listenNode,
  redisClient,
  secret,
} from './common.ts'
import { roundtripHash } from './redis-roundtrip.ts'
import { type Manager, readN, writeN } from './sessionware.ts'

declare module 'express-session' {
  interface SessionData {
    n: number
  }
}

type Routes = {
  read: (req: Request, res: Response) => unknown
  write: (req: Request, res: Response) => unknown
}

function routes(app: Express, { read, write }: Routes): void {
  app.get('/none', (_req, res) => {
    res.json({ n: 0 })
  })
  app.get('/read', read)
  app.get('/write', write)
}

async function expressSession(app: Express, target: Target): Promise<void> {
  const { default: session } = await import('express-session')
  let store: import('express-session').Store | undefined
  if (target.storage === 'redis') {
    // connect-redis 9 as its README sets it up: a node-redis client and a key prefix.
    const { RedisStore } = await import('connect-redis')
    store = new RedisStore({ client: await redisClient(false), prefix: target.redisPrefix })
  }
  // The setup express-session recommends; `maxAge` gives a persistent cookie like the other
  // libraries' defaults (sessionware: the 14-day idle timeout).
  app.use(
    session({
      ...(store === undefined ? {} : { store }),
      secret: secret(),
      resave: false,
      saveUninitialized: false,
      cookie: { httpOnly: true, sameSite: 'lax', maxAge: FOURTEEN_DAYS_S * 1000 },
    }),
  )
  routes(app, {
    read: (req, res) => res.json({ n: req.session.n ?? null }),
    write: (req, res) => {
      const n = (req.session.n ?? 0) + 1
      req.session.n = n
      res.json({ n })
    },
  })
}

/**
 * The Express Redis ceiling: bare Express doing the Redis round trips any session over Redis needs,
 * with node-redis as `redis-roundtrip.ts` sets it up: none on `/none`, one `HGETALL` on `/read`
 * (the load), and on `/write` the load and then one `HSET` (a session is read before the handler
 * runs and saved after it, so a write costs two round trips whatever the library).
 */
async function redisRoundtrips(app: Express, target: Target): Promise<void> {
  const { client, key } = await roundtripHash(target)
  routes(app, {
    read: async (_req, res) => {
      const hash = await client.hGetAll(key)
      res.json({ n: Number(hash['.n']) })
    },
    write: async (_req, res) => {
      const hash = await client.hGetAll(key)
      await client.hSet(key, 'lastActiveAt', String(Date.now()))
      res.json({ n: Number(hash['.n']) + 1 })
    },
  })
}

async function sessionware(app: Express, manager: Manager): Promise<void> {
  const { discardOnError, sessionMiddleware } = await import('../../src/adapters/express.ts')
  app.use(sessionMiddleware(manager.sessions))
  routes(app, {
    read: async (req, res) => {
      res.json({ n: readN(await req.getSession<Data>()) ?? null })
    },
    write: async (req, res) => {
      res.json({ n: writeN(await req.getSession<Data>()) })
    },
  })
  app.use(discardOnError())
}

/** Starts an Express target. */
export async function startExpress(
  target: Target,
  manager: Manager | undefined,
): Promise<Listening> {
  const { default: createApp } = await import('express')
  const app = createApp()
  if (target.kind === 'bare' && target.storage === 'redis') {
    await redisRoundtrips(app, target)
  } else if (target.kind === 'bare') {
    routes(app, {
      read: (_req, res) => res.json({ n: 1 }),
      write: (_req, res) => res.json({ n: 2 }),
    })
  } else if (manager !== undefined) {
    await sessionware(app, manager)
  } else {
    await expressSession(app, target)
  }
  return listenNode(app as unknown as Handler)
}
