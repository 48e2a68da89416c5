/**
 * The node:http servers: bare node:http (the baseline every measurement is paired with),
 * sessionware through its node adapter (`withSessions` of `sessionware/adapters/node`) and
 * iron-session (`getIronSession(req, res, options)`, as its README shows for node:http).
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { withSessions } from '../../src/adapters/node.ts'
import { getSession } from '../../src/index.ts'
import {
  MEMORY_API_CEILING,
  MEMORY_CEILING,
  REDIS_CEILING,
  SEALED_API_CEILING,
  SEALED_CEILING,
  type Target,
} from '../targets.ts'
import {
  type Data,
  type Handler,
  type Listening,
  listenNode,
  notFound,
  secret,
  send,
} from './common.ts'
import { startMemoryLookup } from './memory-lookup.ts'
import { startRedisRoundtrip } from './redis-roundtrip.ts'
import { type Manager, readN, writeN } from './sessionware.ts'
import { startSodiumCookie } from './sodium-cookie.ts'

/** bare node:http: the baseline. */
function bare(): Handler {
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

function sessionware(manager: Manager): Handler {
  return withSessions(manager.sessions, async (req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read':
        return send(res, readN(await getSession<Data>(req)))
      case '/write':
        return send(res, writeN(await getSession<Data>(req)))
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

/** Starts a node:http target (`manager`: sessionware's, for its targets). */
export async function startNode(target: Target, manager: Manager | undefined): Promise<Listening> {
  if (target.name === REDIS_CEILING) return startRedisRoundtrip(target)
  if (target.name === MEMORY_CEILING) return startMemoryLookup()
  if (target.name === MEMORY_API_CEILING) return startMemoryLookup({ api: true })
  if (target.group === 'scale' && target.kind === 'bare' && target.storage === 'memory') {
    // The memory ceiling of the scale run, filled before it listens (BENCH_PREFILL).
    const count = Number(process.env.BENCH_PREFILL ?? 0)
    const sample = Number(process.env.BENCH_SAMPLE ?? 10_000)
    return startMemoryLookup(count > 0 ? { prefill: { count, sample } } : {})
  }
  if (target.name === SEALED_CEILING) return startSodiumCookie()
  if (target.name === SEALED_API_CEILING) return startSodiumCookie(true)
  if (target.kind === 'bare') return listenNode(bare())
  if (manager !== undefined) return listenNode(sessionware(manager))
  if (target.name === 'iron-session') return listenNode(await ironSession())
  throw new Error(`unknown node:http target ${target.name}`)
}
