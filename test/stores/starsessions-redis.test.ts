import { randomBytes } from 'node:crypto'
import type { TestContext } from 'node:test'
import {
  createAesGcmEncryptor,
  createFernetEncryptor,
  createStarsessionsRedisStore,
  type PayloadEncryptor,
  type RedisLayoutClient,
} from '../../src/stores/starsessions-redis.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { SHARED_CLIENTS, sharedIoRedis, sharedNodeRedis } from '../support/redis-clients.ts'
import { runStoreSuite, type StoreFixture } from '../support/store-suite.ts'

/** The conformance suite's ids are not Python's: any id is accepted there. */
const ANY_ID = /^[\s\S]+$/

const ENCRYPTORS: ReadonlyArray<readonly [string, PayloadEncryptor | undefined]> = [
  ['no encryptor', undefined],
  ['fernet', createFernetEncryptor({ keys: [randomBytes(32)] })],
  ['aes-gcm', createAesGcmEncryptor({ keys: [randomBytes(32)] })],
]

async function fixture(
  t: TestContext,
  client: (t: TestContext) => Promise<unknown>,
  encryptor: PayloadEncryptor | undefined,
): Promise<StoreFixture | null> {
  const connected = (await client(t)) as RedisLayoutClient | null
  if (connected === null) return null
  return {
    store: createStarsessionsRedisStore(connected, { idFormat: ANY_ID, encryptor }),
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  }
}

for (const [name, encryptor] of ENCRYPTORS) {
  runStoreSuite(`starsessions redis store (node-redis, ${name})`, (t) =>
    fixture(t, sharedNodeRedis, encryptor),
  )
  runStoreSuite(`starsessions redis store (ioredis, ${name})`, (t) =>
    fixture(t, sharedIoRedis, encryptor),
  )
}
for (const [name, client] of SHARED_CLIENTS.slice(2)) {
  runStoreSuite(`starsessions redis store (${name}, aes-gcm)`, (t) =>
    fixture(t, client, ENCRYPTORS[2]?.[1]),
  )
}
runConcurrencySuite('starsessions redis store', async (t) => {
  return (await fixture(t, sharedIoRedis, ENCRYPTORS[1]?.[1]))?.store ?? null
})
