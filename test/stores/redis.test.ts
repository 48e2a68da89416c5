import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { after, describe, it, type TestContext } from 'node:test'
import { Cluster, Redis } from 'ioredis'
import { createClient, createCluster } from 'redis'
import type { SessionRecord } from '../../src/core/types.ts'
import {
  createRedisStore,
  type RedisStoreClient,
  type RedisStoreOptions,
} from '../../src/stores/redis.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import {
  type RedisCluster,
  redisCli,
  sharedRedis,
  sharedRedisCluster,
  startRedis,
} from '../support/redis-server.ts'
import { runStoreSuite, type StoreFixture } from '../support/store-suite.ts'

/*
 * Client settings (the advice in createRedisStore's TSDoc). By default both libraries hold commands
 * in an offline queue while disconnected and send them once the connection is back, so a request
 * would wait as long as Redis is down. The store's `timeout` bounds every call anyway (tested below
 * with a default client too); these settings make the client itself fail fast, so a stopped server
 * costs milliseconds and nothing piles up in memory:
 * - node-redis: `disableOfflineQueue: true` (a command while disconnected rejects at once) and a
 *   `reconnectStrategy` retrying every 100 ms up to 1 s, so the tests see the recovery quickly (the
 *   default backs off to 2 s plus jitter, and gives up for good after a `socketTimeout`). node-redis
 *   emits an `'error'` event per failed reconnect: it must have a listener.
 * - ioredis: `enableOfflineQueue: false` (same), `maxRetriesPerRequest: 1` (a command in flight when
 *   the connection drops is retried once, not 20 times) and the same quick `retryStrategy`.
 */
const reconnect = (retries: number): number => Math.min((retries + 1) * 100, 1000)
const ignore = (): void => {}

async function nodeRedis(url: string) {
  const client = createClient({
    url,
    disableOfflineQueue: true,
    socket: { reconnectStrategy: reconnect },
  })
  client.on('error', ignore)
  await client.connect()
  return client
}

type NodeRedisClient = Awaited<ReturnType<typeof nodeRedis>>

async function ioRedis(url: string): Promise<Redis> {
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

async function nodeRedisCluster(cluster: RedisCluster) {
  const client = createCluster({
    rootNodes: cluster.nodes.map(({ url }) => ({ url })),
    defaults: { disableOfflineQueue: true, socket: { reconnectStrategy: reconnect } },
  })
  client.on('error', ignore)
  await client.connect()
  return client
}

async function ioRedisCluster(cluster: RedisCluster): Promise<Cluster> {
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

/** Clients of this file, made once on first use and closed after the last test. */
const closers: (() => unknown)[] = []
after(async () => {
  for (const close of closers) await close()
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

const sharedNodeRedis = sharedClient(
  sharedRedis,
  ({ url }) => nodeRedis(url),
  (client) => client.destroy(),
)
const sharedIoRedis = sharedClient(
  sharedRedis,
  ({ url }) => ioRedis(url),
  (client) => client.disconnect(),
)
const sharedNodeRedisCluster = sharedClient(sharedRedisCluster, nodeRedisCluster, (client) =>
  client.destroy(),
)
const sharedIoRedisCluster = sharedClient(sharedRedisCluster, ioRedisCluster, (client) =>
  client.disconnect(),
)

/** A store on one of the shared clients, or null after the skip for a missing server. */
async function fixture(
  t: TestContext,
  client: (t: TestContext) => Promise<RedisStoreClient | null>,
  options: RedisStoreOptions = {},
): Promise<StoreFixture | null> {
  const connected = await client(t)
  if (connected === null) return null
  return {
    store: createRedisStore(connected, options),
    // Real time: Redis expires keys on its own clock.
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  }
}

runStoreSuite('redis store (node-redis client)', (t) =>
  fixture(t, sharedNodeRedis, { keyPrefix: 'suite-node:' }),
)
runStoreSuite('redis store (ioredis client)', (t) => fixture(t, sharedIoRedis))
runStoreSuite('redis store (node-redis cluster)', (t) => fixture(t, sharedNodeRedisCluster))
runStoreSuite('redis store (ioredis cluster)', (t) =>
  fixture(t, sharedIoRedisCluster, { keyPrefix: 'suite-io:' }),
)

runConcurrencySuite(
  'redis store (node-redis client)',
  async (t) => (await fixture(t, sharedNodeRedis))?.store ?? null,
)
runConcurrencySuite(
  'redis store (ioredis client)',
  async (t) => (await fixture(t, sharedIoRedis))?.store ?? null,
)
runConcurrencySuite(
  'redis store (node-redis cluster)',
  async (t) => (await fixture(t, sharedNodeRedisCluster))?.store ?? null,
)
runConcurrencySuite(
  'redis store (ioredis cluster)',
  async (t) => (await fixture(t, sharedIoRedisCluster))?.store ?? null,
)

const HOUR = 3_600_000

function record(fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: randomUUID(),
    data: `{"n":"${randomUUID()}"}`,
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...fields,
  }
}

/** Resolves once `check()` resolves true, or fails after `timeout` ms. */
async function eventually(check: () => Promise<boolean>, timeout = 10_000): Promise<void> {
  const deadline = Date.now() + timeout
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** How long `promise` took to settle, and how it settled. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const start = Date.now()
  try {
    await promise
    return { ms: Date.now() - start, error: undefined }
  } catch (error) {
    return { ms: Date.now() - start, error }
  }
}

/** Calls per command from INFO commandstats (`evalsha` → 3). */
async function commandCalls(client: NodeRedisClient): Promise<Map<string, number>> {
  const info = await client.info('commandstats')
  const calls = new Map<string, number>()
  for (const match of info.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) {
    calls.set(match[1] as string, Number(match[2]))
  }
  return calls
}

/** The commands `work` sent (all clients of the server), ignoring INFO itself. */
async function commandsDuring(client: NodeRedisClient, work: () => Promise<unknown>) {
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

describe('redis store specifics', () => {
  it('declares atomic, ttl and subjectIndex', async (t) => {
    const f = await fixture(t, sharedNodeRedis)
    if (f) assert.deepEqual(f.store.capabilities, { atomic: true, ttl: true, subjectIndex: true })
  })

  it('keeps a session in a hash at <prefix>{<id>} and its subject in <prefix>subject:{<subject>}', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const keyPrefix = `layout-${randomUUID()}:`
    const store = createRedisStore(client, { keyPrefix })
    const subject = `user-${randomUUID()}`
    const stored = record({ subject })
    await store.create(stored)
    const keys = (await client.keys(`${keyPrefix}*`)).sort()
    assert.deepEqual(keys, [`${keyPrefix}subject:{${subject}}`, `${keyPrefix}{${stored.id}}`])
    assert.equal(await client.type(`${keyPrefix}{${stored.id}}`), 'hash')
    assert.deepEqual(await client.hGetAll(`${keyPrefix}{${stored.id}}`), {
      data: stored.data,
      version: '1',
      createdAt: String(stored.createdAt),
      lastActiveAt: String(stored.lastActiveAt),
      expiresAt: String(stored.expiresAt),
      subject,
    })
    assert.deepEqual(await client.sMembers(`${keyPrefix}subject:{${subject}}`), [stored.id])
  })

  it('uses the prefix sessionware: by default', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const stored = record()
    await createRedisStore(client).create(stored)
    assert.equal(await client.exists(`sessionware:{${stored.id}}`), 1)
  })

  it('sets the key TTL to expiresAt on create, update and touch', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'ttl:' })
    const key = (id: string) => `ttl:{${id}}`
    const assertTtl = async (id: string, expiresAt: number) => {
      const pttl = await client.pTTL(key(id))
      const expected = expiresAt - Date.now()
      assert.ok(Math.abs(pttl - expected) < 2000, `PTTL ${pttl}, expected about ${expected}`)
    }
    const stored = record({ expiresAt: Date.now() + HOUR })
    await store.create(stored)
    await assertTtl(stored.id, stored.expiresAt)
    const updated = { ...stored, expiresAt: Date.now() + 2 * HOUR }
    await store.update(updated, 1)
    await assertTtl(stored.id, updated.expiresAt)
    const touched = Date.now() + 3 * HOUR
    await store.touch(stored.id, Date.now(), touched)
    await assertTtl(stored.id, touched)
  })

  it('keeps the subject set alive at least as long as its sessions', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'subject-ttl:' })
    const subject = `user-${randomUUID()}`
    const setKey = `subject-ttl:subject:{${subject}}`
    const long = record({ subject, expiresAt: Date.now() + 2 * HOUR })
    const short = record({ subject, expiresAt: Date.now() + HOUR })
    await store.create(long)
    await store.create(short)
    const afterCreates = await client.pttl(setKey)
    assert.ok(afterCreates > 2 * HOUR - 5000, `set PTTL ${afterCreates} shorter than a session's`)
    await store.touch(short.id, Date.now(), Date.now() + 5 * HOUR)
    assert.ok((await client.pttl(setKey)) > 5 * HOUR - 5000)
    await store.update({ ...long, expiresAt: Date.now() + 6 * HOUR }, 1)
    assert.ok((await client.pttl(setKey)) > 6 * HOUR - 5000)
  })

  it('touch rewrites only lastActiveAt and expiresAt', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'touch:' })
    const stored = record({ data: 'x'.repeat(1000) })
    await store.create(stored)
    await store.update({ ...stored, data: '{"v":2}' }, 1)
    const before = await client.hGetAll(`touch:{${stored.id}}`)
    await store.touch(stored.id, stored.lastActiveAt + 1, stored.expiresAt + 1)
    const afterwards = await client.hGetAll(`touch:{${stored.id}}`)
    assert.equal(afterwards.version, '2')
    assert.equal(afterwards.data, '{"v":2}')
    assert.deepEqual(afterwards, {
      ...before,
      lastActiveAt: String(stored.lastActiveAt + 1),
      expiresAt: String(stored.expiresAt + 1),
    })
  })

  it('indexes a subject, moves it on update and drops it on delete', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'index:' })
    const alice = `alice-${randomUUID()}`
    const bob = `bob-${randomUUID()}`
    const members = (subject: string) => client.sMembers(`index:subject:{${subject}}`)
    const stored = record({ subject: alice })
    await store.create(stored)
    assert.deepEqual(await members(alice), [stored.id])
    await store.update({ ...stored, subject: bob }, 1)
    assert.deepEqual(await members(alice), [])
    assert.deepEqual(await members(bob), [stored.id])
    await store.delete(stored.id)
    assert.deepEqual(await members(bob), [])
  })

  it('drops stale subject members lazily when listing', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'stale:' })
    const subject = `user-${randomUUID()}`
    const kept = record({ subject })
    const gone = record({ subject })
    await store.create(kept)
    await store.create(gone)
    await client.del(`stale:{${gone.id}}`) // expired or deleted behind the store's back
    const stranger = randomUUID()
    await client.sadd(`stale:subject:{${subject}}`, stranger)
    assert.deepEqual(
      (await store.listBySubject(subject)).map((r) => r.id),
      [kept.id],
    )
    assert.deepEqual(await client.smembers(`stale:subject:{${subject}}`), [kept.id])
    assert.equal(await store.deleteBySubject(subject), 1)
    assert.equal(await client.exists(`stale:subject:{${subject}}`), 0)
  })

  it('does not delete a session that moved to another subject', async (t) => {
    const client = await sharedIoRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'moved:' })
    const alice = `alice-${randomUUID()}`
    const moved = record({ subject: `bob-${randomUUID()}` })
    await store.create(moved)
    await client.sadd(`moved:subject:{${alice}}`, moved.id) // a stale member
    assert.equal(await store.deleteBySubject(alice), 0)
    assert.ok(await store.get(moved.id))
  })

  it('reads with one HGETALL and writes nothing', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client)
    const stored = record()
    await store.create(stored)
    assert.deepEqual(await commandsDuring(client, () => store.get(stored.id)), { hgetall: 1 })
    assert.deepEqual(await commandsDuring(client, () => store.get(randomUUID())), { hgetall: 1 })
  })

  it('writes an anonymous session with one script call (EVALSHA) per operation', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client)
    await store.create(record()) // loads the create script into the server's cache
    const stored = record()
    await store.touch(stored.id, 1, 2) // and the touch script (no-op: absent)
    await store.update(stored, 1) // and the update script (conflict: absent)
    await store.delete(stored.id) // and the delete script
    // One EVALSHA from the client each; INFO commandstats also counts the calls inside the script.
    assert.deepEqual(await commandsDuring(client, () => store.create(stored)), {
      evalsha: 1,
      exists: 1,
      hset: 1,
      pexpireat: 1,
    })
    assert.deepEqual(await commandsDuring(client, () => store.update(stored, 1)), {
      evalsha: 1,
      hget: 2,
      hset: 1,
      pexpireat: 1,
    })
    const now = Date.now()
    assert.deepEqual(await commandsDuring(client, () => store.touch(stored.id, now, now + HOUR)), {
      evalsha: 1,
      exists: 1,
      hget: 1,
      hset: 1,
      pexpireat: 1,
    })
    assert.deepEqual(await commandsDuring(client, () => store.delete(stored.id)), {
      evalsha: 1,
      hget: 1,
      del: 1,
    })
  })

  it('runs its scripts again after the server forgot them (SCRIPT FLUSH)', async (t) => {
    const client = await sharedNodeRedis(t)
    if (client === null) return
    const store = createRedisStore(client, { keyPrefix: 'flush:' })
    const stored = record()
    await store.create(stored)
    await client.scriptFlush()
    assert.deepEqual(await store.update({ ...stored, data: '{"v":2}' }, 1), {
      ok: true,
      version: 2,
    })
    assert.equal((await store.get(stored.id))?.data, '{"v":2}')
  })

  it('spreads sessions over the cluster and keeps each one in one slot', async (t) => {
    const cluster = await sharedRedisCluster(t)
    const client = await sharedNodeRedisCluster(t)
    if (cluster === null || client === null) return
    const store = createRedisStore(client, { keyPrefix: 'spread:' })
    const subject = `user-${randomUUID()}`
    const records = Array.from({ length: 30 }, () => record({ subject }))
    for (const r of records) await store.create(r)
    const perNode = await Promise.all(
      cluster.nodes.map(async ({ port }) => (await redisCli(port, 'keys', 'spread:{*')).trim()),
    )
    assert.ok(
      perNode.filter((keys) => keys !== '').length >= 2,
      'sessions are spread over the masters',
    )
    assert.equal((await store.listBySubject(subject)).length, 30)
    assert.equal(await store.deleteBySubject(subject, { exceptId: records[0]?.id as string }), 29)
  })

  it('rejects a client it does not recognise with ERR_SESSION_CONFIG', () => {
    for (const client of [null, undefined, 42, 'redis://localhost', {}, { get: () => {} }]) {
      assert.throws(() => createRedisStore(client as unknown as RedisStoreClient), {
        name: 'SessionConfigError',
        code: 'ERR_SESSION_CONFIG',
      })
    }
  })

  it('rejects invalid options with ERR_SESSION_CONFIG', () => {
    const client = { hgetall: ignore, evalsha: ignore } as unknown as RedisStoreClient
    const invalid: unknown[] = [
      { keyPrefix: 'has space:' },
      { keyPrefix: 'brace{' },
      { keyPrefix: 'brace}' },
      { keyPrefix: 'tab\t' },
      { keyPrefix: 'é' },
      { keyPrefix: 'x'.repeat(129) },
      { keyPrefix: 42 },
      { timeout: 0 },
      { timeout: -1 },
      { timeout: Number.NaN },
      { timeout: Number.POSITIVE_INFINITY },
      { timeout: '5' },
      { timeout: 3_000_000 },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createRedisStore(client, options as RedisStoreOptions),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
    assert.doesNotThrow(() => createRedisStore(client, { keyPrefix: '', timeout: 0.5 }))
    assert.doesNotThrow(() => createRedisStore(client, { keyPrefix: 'app:sess|v1~' }))
  })
})

describe('redis store when Redis is down', () => {
  /** Stops the server under a store, checks that calls fail fast, restarts it, checks recovery. */
  async function outage(
    t: TestContext,
    connect: (url: string) => Promise<RedisStoreClient>,
  ): Promise<void> {
    const server = await startRedis(t, { persistent: true })
    if (server === null) return
    const client = await connect(server.url)
    const store = createRedisStore(client, { timeout: 1 })
    const stored = record({ subject: `user-${randomUUID()}` })
    await store.create(stored)

    await server.stop()
    const { ms, error } = await timed(store.get(stored.id))
    assert.ok(error instanceof Error, 'get rejects while Redis is down')
    assert.ok(ms < 1500, `get took ${ms} ms to fail (timeout: 1 s)`)
    assert.ok((await timed(store.update(stored, 1))).error, 'update rejects too')

    await server.start()
    await eventually(async () => (await store.get(stored.id)) !== null)
    assert.deepEqual(await store.get(stored.id), stored)
    assert.deepEqual(await store.update({ ...stored, data: '{"after":true}' }, 1), {
      ok: true,
      version: 2,
    })
  }

  it('node-redis: calls fail within the timeout, and work again once Redis is back', async (t) => {
    await outage(t, async (url) => {
      const client = await nodeRedis(url)
      t.after(() => client.destroy())
      return client
    })
  })

  it('ioredis: calls fail within the timeout, and work again once Redis is back', async (t) => {
    await outage(t, async (url) => {
      const client = await ioRedis(url)
      t.after(() => client.disconnect())
      return client
    })
  })

  it('times out a call to a Redis that stopped answering (CLIENT PAUSE)', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client, { timeout: 1 })
    const stored = record()
    await store.create(stored)
    await redisCli(server.port, 'client', 'pause', '1500', 'ALL')
    const { ms, error } = await timed(store.get(stored.id))
    assert.match(String(error), /redis store: get timed out after 1 s/)
    assert.ok(ms >= 900 && ms < 2000, `get failed after ${ms} ms`)
    await eventually(async () => (await store.get(stored.id)) !== null)
  })

  it('times out even with a client that queues commands while disconnected', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    // node-redis defaults: the offline queue holds commands until the server is back.
    const client = createClient({ url: server.url })
    client.on('error', ignore)
    await client.connect()
    t.after(() => client.destroy())
    const store = createRedisStore(client, { timeout: 1 })
    await server.stop()
    const { ms, error } = await timed(store.get(randomUUID()))
    assert.match(String(error), /timed out after 1 s/)
    assert.ok(ms < 2000, `get failed after ${ms} ms`)
  })
})
