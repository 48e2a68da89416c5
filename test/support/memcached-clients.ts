/**
 * memcache-client clients for the memcached store tests: one shared client on the file's memcached
 * (test/support/memcached-server.ts) and others made on demand, all shut down after the file's last
 * test; and the record builder those tests use, whose ids are valid memcached keys.
 *
 * The tests pass memcache-client's MemcacheClient where a MemcachedStoreClient is expected: the
 * typecheck proves that the real client fits the store's structural contract.
 *
 * Not part of the package.
 *
 * @module
 */

import { after, type TestContext } from 'node:test'
import { MemcacheClient, type MemcacheClientOptions } from 'memcache-client'
import { type MemcachedServer, startMemcached } from './memcached-server.ts'
import { newRecord } from './store-helpers.ts'

/**
 * Clients made through this module; shut down when the file's tests end (the server is stopped by
 * its own module).
 */
const clients: MemcacheClient[] = []
after(() => {
  for (const client of clients) client.shutdown()
})

/** A new client with `options`, shut down after the file's last test. */
export function memcacheClient(options: MemcacheClientOptions): MemcacheClient {
  const client = new MemcacheClient(options)
  clients.push(client)
  return client
}

/** A new client on `server`, shut down after the file's last test. */
export function connect(server: MemcachedServer): MemcacheClient {
  return memcacheClient({ server: server.url })
}

/** The file's server and one shared client, or null after a loud skip. */
let shared: MemcacheClient | undefined
export async function memcached(
  t: TestContext,
): Promise<{ server: MemcachedServer; client: MemcacheClient } | null> {
  const server = await startMemcached(t)
  if (server === null) return null
  shared ??= connect(server)
  return { server, client: shared }
}

/** A live record whose id is a valid memcached key, with `overrides` on top. */
export const record: typeof newRecord = (overrides = {}) =>
  newRecord({ fields: { 'd:n': '1' }, ...overrides })
