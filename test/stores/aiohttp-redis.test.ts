import type { TestContext } from 'node:test'
import {
  type AiohttpRedisStoreOptions,
  createAiohttpRedisStore,
  type RedisLayoutClient,
} from '../../src/stores/aiohttp-redis.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { SHARED_CLIENTS } from '../support/redis-clients.ts'
import { runStoreSuite, type StoreFixture } from '../support/store-suite.ts'

/** The conformance suite's ids are not Python's: any id is accepted here. */
const ANY_ID = /^[\s\S]+$/

async function fixture(
  t: TestContext,
  client: (t: TestContext) => Promise<unknown>,
  options: AiohttpRedisStoreOptions = {},
): Promise<StoreFixture | null> {
  const connected = (await client(t)) as RedisLayoutClient | null
  if (connected === null) return null
  return {
    store: createAiohttpRedisStore(connected, { idFormat: ANY_ID, ...options }),
    advance: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
  }
}

for (const [name, client] of SHARED_CLIENTS) {
  runStoreSuite(`aiohttp redis store (${name})`, (t) => fixture(t, client))
}
runConcurrencySuite('aiohttp redis store', async (t) => {
  const [, client] = SHARED_CLIENTS[0] as (typeof SHARED_CLIENTS)[number]
  return (await fixture(t, client))?.store ?? null
})
