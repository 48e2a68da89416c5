import { after, type TestContext } from 'node:test'
import { MemcacheClient } from 'memcache-client'
import {
  type AiohttpMemcachedStoreOptions,
  createAiohttpMemcachedStore,
} from '../../src/stores/aiohttp-memcached.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
import { type MemcachedServer, startMemcached } from '../support/memcached-server.ts'
import { runStoreSuite } from '../support/store-suite.ts'

/** The conformance suite's ids are not Python's: any id is accepted there. */
const ANY_ID = /^[\s\S]+$/

const clients: MemcacheClient[] = []
after(() => {
  for (const client of clients) client.shutdown()
})

let shared: MemcacheClient | undefined
/** The file's memcached and one shared client, or null after a loud skip. */
async function memcached(
  t: TestContext,
): Promise<{ server: MemcachedServer; client: MemcacheClient } | null> {
  const server = await startMemcached(t)
  if (server === null) return null
  if (shared === undefined) {
    shared = new MemcacheClient({ server: server.url })
    clients.push(shared)
  }
  return { server, client: shared }
}

runStoreSuite('aiohttp memcached store', async (t) => {
  const found = await memcached(t)
  if (found === null) return null
  let offset = 0
  const options: AiohttpMemcachedStoreOptions = {
    idFormat: ANY_ID,
    cookieName: 'SUITE',
    clock: () => Date.now() + offset,
  }
  return {
    store: createAiohttpMemcachedStore(found.client, options),
    advance: (ms) => {
      offset += ms
    },
  }
})

runConcurrencySuite('aiohttp memcached store', async (t) => {
  const found = await memcached(t)
  return found && createAiohttpMemcachedStore(found.client, { idFormat: ANY_ID })
})
