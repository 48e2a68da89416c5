/**
 * The Redis ceiling: bare node:http doing exactly one Redis round trip per request through
 * node-redis, configured as sessionware's Redis store recommends (the client of
 * `sessionware-redis`), with no session library at all. No session over Redis can serve more
 * requests per second on the same machine, so its ratio to bare node:http is the most a Redis
 * store's can reach, and the Redis store's ratio over it is what the store's own code costs.
 *
 * The one key it reads is a hash shaped like a session of the store (its metadata and one field
 * `.n`), written once at start:
 *
 * - `/none`: no Redis command (the client only connected), `{"n":0}`;
 * - `/read`: one `HGETALL` of that key, `{"n":1}` (the value of its field `.n`);
 * - `/write`: one `HSET` of its `lastActiveAt`, `{"n":2}`.
 *
 * @module
 */

import type { Target } from '../targets.ts'
import { type Listening, listenNode, notFound, redisClient, send } from './common.ts'

/** Fourteen days in milliseconds, the lifetime the hash claims (it is never expired). */
const LIFETIME_MS = 14 * 24 * 3600 * 1000

/** The ceiling's client and the one key it reads: a session-shaped hash, written now. */
export async function roundtripHash(
  target: Target,
): Promise<{ client: Awaited<ReturnType<typeof redisClient>>; key: string }> {
  const client = await redisClient(true)
  const key = `${target.redisPrefix ?? 'bench:roundtrip:'}{fixed}`
  const now = Date.now()
  await client.hSet(key, {
    version: '1',
    createdAt: String(now),
    lastActiveAt: String(now),
    expiresAt: String(now + LIFETIME_MS),
    '.n': '1',
  })
  return { client, key }
}

/** Starts the ceiling server on the benchmark's redis-server. */
export async function startRedisRoundtrip(target: Target): Promise<Listening> {
  const { client, key } = await roundtripHash(target)
  const failed = (res: Parameters<typeof send>[0]) => (error: unknown) => {
    console.error(error)
    res.statusCode = 500
    res.end()
  }
  return listenNode((req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read':
        client.hGetAll(key).then((hash) => send(res, Number(hash['.n'])), failed(res))
        return
      case '/write':
        client.hSet(key, 'lastActiveAt', String(Date.now())).then(() => send(res, 2), failed(res))
        return
      default:
        return notFound(res)
    }
  })
}
