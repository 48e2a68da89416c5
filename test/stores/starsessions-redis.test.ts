import { randomBytes } from 'node:crypto'
import { describe, it, type TestContext } from 'node:test'
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

/**
 * Whether the Fernet codec reads back tokens longer than a cookie (it takes `maxTokenLength`):
 * until then a session over about 3 KB cannot be stored with Fernet, and the conformance run with
 * Fernet (which stores 100 KB values) is skipped loudly.
 */
const FERNET_READS_LONG_TOKENS = (() => {
  try {
    ENCRYPTORS[1]?.[1]?.encrypt('x'.repeat(5000))
    return true
  } catch {
    return false
  }
})()

for (const [name, encryptor] of ENCRYPTORS) {
  if (name === 'fernet' && !FERNET_READS_LONG_TOKENS) {
    const reason =
      'the Fernet codec reads tokens of at most 4096 characters (src/lib/fernet.ts has no maxTokenLength yet)'
    process.stderr.write(`\n  SKIPPED: starsessions redis store with fernet: ${reason}\n`)
    describe(`starsessions redis store (fernet)`, () => {
      it('runs the store conformance suite', (t) => t.skip(reason))
    })
    continue
  }
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
