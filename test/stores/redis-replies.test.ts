/*
 * The Redis store reads the same record from every shape a client may hand it a hash in: a plain
 * object (node-redis over RESP3 and over RESP2, ioredis), a Map and Buffers (node-redis with a type
 * mapping), and the flat field/value list of a script reply (the current record of a `replace`
 * conflict). Field names that are also Object.prototype's (`__proto__`, `constructor`) stay plain
 * own fields of a plain object, and a hash that is not a session reads as none.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { createClient, RESP_TYPES } from 'redis'
import type { SessionRecord } from '../../src/core/types.ts'
import { createRedisStore, type RedisStoreClient } from '../../src/stores/redis.ts'
import { ignore, ioRedis } from '../support/redis-clients.ts'
import { sharedRedis } from '../support/redis-server.ts'
import {
  assertConflict,
  assertSameRecord,
  mustCreate,
  newRecord,
} from '../support/store-helpers.ts'

/** Field names an object would treat specially, and names that order as integers. */
const AWKWARD: Readonly<Record<string, string>> = Object.fromEntries([
  ['__proto__', '"not a prototype"'],
  ['constructor', '"c"'],
  ['toString', '"t"'],
  ['hasOwnProperty', '"h"'],
  ['10', '"ten"'],
  ['2', '"two"'],
  ['', '"empty name"'],
  ['d:n', '1'],
])

/** The clients under test, by name: each connected to the file's redis-server. */
const CLIENTS: ReadonlyArray<
  readonly [string, (url: string, t: TestContext) => Promise<RedisStoreClient>]
> = [
  ['node-redis, RESP3', (url, t) => nodeRedis(t, createClient({ url }))],
  ['node-redis, RESP2', (url, t) => nodeRedis(t, createClient({ url, RESP: 2 }))],
  [
    'node-redis, RESP3 with maps as Map and strings as Buffer',
    (url, t) =>
      nodeRedis(
        t,
        createClient({
          url,
          commandOptions: {
            typeMapping: { [RESP_TYPES.MAP]: Map, [RESP_TYPES.BLOB_STRING]: Buffer },
          },
        }),
      ),
  ],
  [
    'node-redis, RESP3 with maps as arrays',
    (url, t) =>
      nodeRedis(
        t,
        createClient({ url, commandOptions: { typeMapping: { [RESP_TYPES.MAP]: Array } } }),
      ),
  ],
  [
    'ioredis',
    async (url, t) => {
      const client = await ioRedis(url)
      t.after(() => client.disconnect())
      return client
    },
  ],
]

/** What the tests need of a node-redis client, whatever its type mapping. */
interface Connectable {
  on(event: 'error', listener: (error: unknown) => void): unknown
  connect(): Promise<unknown>
  destroy(): void
}

/** Connects a node-redis client, destroyed when `t` ends. */
async function nodeRedis(t: TestContext, client: Connectable): Promise<RedisStoreClient> {
  client.on('error', ignore)
  await client.connect()
  t.after(() => client.destroy())
  return client as unknown as RedisStoreClient
}

/** Asserts that `fields` is a plain object whose own fields are exactly `expected`. */
function assertPlainFields(
  fields: SessionRecord['fields'],
  expected: Record<string, string>,
): void {
  assert.equal(Object.getPrototypeOf(fields), Object.prototype)
  assert.deepEqual(Object.getOwnPropertyNames(fields).sort(), Object.keys(expected).sort())
  for (const name of Object.keys(expected)) {
    assert.equal(Object.getOwnPropertyDescriptor(fields, name)?.value, expected[name], name)
  }
}

describe('redis store replies', () => {
  for (const [name, connect] of CLIENTS) {
    it(`${name}: reads a record with awkward field names as plain own fields`, async (t) => {
      const server = await sharedRedis(t)
      if (server === null) return
      const store = createRedisStore(await connect(server.url, t), { keyPrefix: 'replies:' })
      const created = newRecord({ subject: 'someone', fields: AWKWARD })
      await mustCreate(store, created)
      const stored = await store.get(created.id)
      assertSameRecord(stored, created)
      assertPlainFields((stored as SessionRecord).fields, AWKWARD)
      assert.equal(Object.hasOwn(Object.prototype, '"not a prototype"'), false)

      // The same record, from the flat list a script replies with.
      const result = await store.replace({ ...created, fields: {} }, 7)
      assertConflict(result)
      assertSameRecord(result.current, created)
      assertPlainFields((result.current as SessionRecord).fields, AWKWARD)
    })

    it(`${name}: reads a hash without the session times as no session`, async (t) => {
      const server = await sharedRedis(t)
      if (server === null) return
      const client = createClient({ url: server.url })
      client.on('error', ignore)
      await client.connect()
      t.after(() => client.destroy())
      const store = createRedisStore(await connect(server.url, t), { keyPrefix: 'replies:' })
      const { id } = newRecord()
      await client.hSet(`replies:{${id}}`, { version: '1', createdAt: '1', '.n': '1' })
      assert.equal(await store.get(id), null)
      await client.hSet(`replies:{${id}}`, { lastActiveAt: '1', expiresAt: 'soon' })
      assert.equal(await store.get(id), null)
      await client.hSet(`replies:{${id}}`, { expiresAt: String(Date.now() + 60_000) })
      assert.deepEqual((await store.get(id))?.fields, { n: '1' })
    })
  }
})
