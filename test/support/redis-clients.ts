/**
 * Redis clients for the Redis store tests: node-redis and ioredis, on a standalone server or on a
 * three-master cluster (test/support/redis-server.ts), set up as createRedisStore's TSDoc advises,
 * and shared per test file.
 *
 * By default both libraries hold commands in an offline queue while disconnected and send them
 * once the connection is back, so a request would wait as long as Redis is down. The store's
 * `timeout` bounds every call anyway (tested with a default client too); these settings make the
 * client itself fail fast, so a stopped server costs milliseconds and nothing piles up in memory:
 * - node-redis: `disableOfflineQueue: true` and a `reconnectStrategy` retrying every 100 ms up to
 *   1 s, so the tests see the recovery quickly (the default backs off to 2 s plus jitter, and
 *   gives up for good after a `socketTimeout`). node-redis emits an `'error'` event per failed
 *   reconnect: it must have a listener.
 * - ioredis: `enableOfflineQueue: false`, `maxRetriesPerRequest: 1` (a command in flight when the
 *   connection drops is retried once, not 20 times) and the same quick `retryStrategy`.
 *
 * Not part of the package.
 *
 * @module
 */

import { after, type TestContext } from 'node:test'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import type { RedisStoreClient } from '../../src/stores/redis.ts'
import { type RedisCluster, sharedRedis, sharedRedisCluster } from './redis-server.ts'

export const reconnect = (retries: number): number => Math.min((retries + 1) * 100, 1000)
export const ignore = (): void => {}

/** A node-redis client on `url`, connected. */
export async function nodeRedis(url: string) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnect },
  })
  client.on('error', ignore)
  await client.connect()
  return client
}

export type NodeRedisClient = Awaited<ReturnType<typeof nodeRedis>>

/** An ioredis client on `url`, connected. */
export async function ioRedis(url: string): Promise<Redis> {
  const client = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: reconnect,
    lazyConnect: true,
  })
  client.on('error', ignore)
  await client.connect()
  return client
}

/** A node-redis cluster client, connected. */
export async function nodeRedisCluster(cluster: RedisCluster) {
  const client = createCluster({
    rootNodes: cluster.nodes.map(({ url }) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: reconnect } },
  })
  client.on('error', ignore)
  await client.connect()
  return client
}

/** An ioredis cluster client, connected. */
export async function ioRedisCluster(cluster: RedisCluster): Promise<Cluster> {
  const client = new Cluster(
    cluster.nodes.map(({ host, port }) => ({ host, port })),
    {
      enableOfflineQueue: false,
      lazyConnect: true,
      clusterRetryStrategy: reconnect,
      redisOptions: { maxRetriesPerRequest: 1 },
    },
  )
  client.on('error', ignore)
  await client.connect()
  return client
}

/** Clients of this test file, made once on first use and closed after its last test. */
const closers: (() => unknown)[] = []
after(async () => {
  for (const close of closers.splice(0)) await close()
})

/** A client on a shared server, connected once; null after the skip for a missing server. */
function sharedClient<Server, Client>(
  server: (t: TestContext) => Promise<Server | null>,
  connect: (server: Server) => Promise<Client>,
  close: (client: Client) => unknown,
): (t: TestContext) => Promise<Client | null> {
  let client: Promise<Client> | undefined
  return async (t) => {
    const running = await server(t)
    if (running === null) return null
    client ??= connect(running).then((connected) => {
      closers.push(() => close(connected))
      return connected
    })
    return client
  }
}

export const sharedNodeRedis = sharedClient(
  sharedRedis,
  ({ url }) => nodeRedis(url),
  (client) => client.destroy(),
)
export const sharedIoRedis = sharedClient(
  sharedRedis,
  ({ url }) => ioRedis(url),
  (client) => client.disconnect(),
)
export const sharedNodeRedisCluster = sharedClient(sharedRedisCluster, nodeRedisCluster, (client) =>
  client.destroy(),
)
export const sharedIoRedisCluster = sharedClient(sharedRedisCluster, ioRedisCluster, (client) =>
  client.disconnect(),
)

/** The four shared clients by name: both libraries, standalone and Cluster. */
export const SHARED_CLIENTS: ReadonlyArray<
  readonly [string, (t: TestContext) => Promise<RedisStoreClient | null>]
> = [
  ['node-redis client', sharedNodeRedis],
  ['ioredis client', sharedIoRedis],
  ['node-redis cluster', sharedNodeRedisCluster],
  ['ioredis cluster', sharedIoRedisCluster],
]

/** Calls per command from INFO commandstats (`evalsha` → 3). */
async function commandCalls(client: NodeRedisClient): Promise<Map<string, number>> {
  const info = await client.info('commandstats')
  const calls = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1] as string, Number(match[2]))
  }
  return calls
}

/**
 * The commands `work` made the server run (all clients; scripts' own commands included), without
 * INFO itself. Nothing else may use the server meanwhile.
 */
export async function commandsDuring(
  client: NodeRedisClient,
  work: () => Promise<unknown>,
): Promise<Record<string, number>> {
  const before = await commandCalls(client)
  await work()
  const afterwards = await commandCalls(client)
  const sent: Record<string, number> = {}
  for (const [name, calls] of afterwards) {
    const diff = calls - (before.get(name) ?? 0)
    if (diff > 0 && name !== 'info') sent[name] = diff
  }
  return sent
}
