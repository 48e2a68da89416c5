/**
 * One real memcached for a test file: started on a free loopback port by the first test that asks
 * for it, shared by the file's other tests, stopped when the file's tests end; and memcached's own view of a key's TTL. Not part of the
 * package.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { Socket } from 'node:net'
import { after, type TestContext } from 'node:test'
import { freePort, requireBinary, type ServiceProcess, spawnService } from './services.ts'

/** A running memcached that a test may stop and start again (memcached then comes back empty). */
export interface MemcachedServer extends ServiceProcess {
  /** `host:port`, the form memcache-client's `server` option takes. */
  readonly url: string
}

// node:test runs every test file in its own process, so this module-level memo is per file.
let server: Promise<MemcachedServer> | undefined

// Registered when a test file imports this module, i.e. at the file's top level.
after(async () => {
  const running = await server?.catch(() => undefined)
  await running?.stop()
})

/**
 * The file's memcached, started on first call: `memcached -l 127.0.0.1 -p PORT -U 0 -m 64` (plus
 * `-u root` when running as root, which memcached otherwise refuses). When the binary is missing
 * it skips `t` loudly and returns null, or throws under SESSIONWARE_REQUIRE_SERVICES=1.
 */
export async function startMemcached(t: TestContext): Promise<MemcachedServer | null> {
  const binary = requireBinary(t, 'memcached', 'apt-get install memcached', [
    '/usr/bin/memcached',
    '/usr/local/bin/memcached',
  ])
  if (binary === null) return null
  server ??= launch(binary)
  try {
    return await server
  } catch (error) {
    server = undefined // let the next test try again (a port taken in the meantime, say)
    throw error
  }
}

async function launch(binary: string): Promise<MemcachedServer> {
  const port = await freePort()
  const args = ['-l', '127.0.0.1', '-p', String(port), '-U', '0', '-m', '64']
  if (process.getuid?.() === 0) args.push('-u', 'root')
  // Stopped by the `after` hook above; spawnService also kills it if the process exits early.
  const service = await spawnService(null, binary, args, port)
  return {
    url: `127.0.0.1:${port}`,
    port,
    stop: service.stop,
    start: service.start,
  }
}

/**
 * memcached's remaining TTL of `key` in seconds, read with the meta command `mg <key> t` over a raw
 * socket (-1: no expiry), or null when memcached does not hold the key.
 */
export async function ttlOf(server: MemcachedServer, key: string): Promise<number | null> {
  const socket = new Socket()
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject)
      socket.connect(server.port, '127.0.0.1', resolve)
    })
    let received = ''
    const line = await new Promise<string>((resolve, reject) => {
      socket.on('data', (chunk: Buffer) => {
        received += chunk.toString('latin1')
        const end = received.indexOf('\r\n')
        if (end >= 0) resolve(received.slice(0, end))
      })
      socket.once('error', reject)
      socket.write(`mg ${key} t\r\n`)
    })
    if (line === 'EN') return null
    const match = /^HD t(-?\d+)$/.exec(line)
    assert.ok(match, `unexpected reply to mg: ${line}`)
    return Number(match[1])
  } finally {
    socket.destroy()
  }
}
