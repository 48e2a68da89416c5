/**
 * `npm run demo`: builds the demo from `process.env` and listens on HOST:PORT until SIGINT or
 * SIGTERM. An invalid configuration prints a message and exits with code 2. A Redis, memcached or
 * PostgreSQL server that cannot be reached is not one: the demo warns and starts anyway,
 * answering 503 where a stored session is needed until the server is back (see `stores.ts`).
 *
 * @module
 */
import type { AddressInfo } from 'node:net'
import { createDemoApp, type DemoApp } from './app.ts'
import { DemoConfigError, parseListen } from './config.ts'

let app: DemoApp
let listen: ReturnType<typeof parseListen>
try {
  listen = parseListen(process.env)
  app = await createDemoApp(process.env)
} catch (error) {
  if (!(error instanceof DemoConfigError)) throw error
  console.error(`sessionware demo: invalid configuration: ${error.message}`)
  process.exit(2)
}

const { server } = app
server.on('error', (error: NodeJS.ErrnoException) => {
  console.error(
    `sessionware demo: cannot listen on ${listen.host}:${listen.port}: ${error.message}`,
  )
  process.exitCode = 1
  void app.close()
})
server.listen(listen.port, listen.host, () => {
  const { address, port } = server.address() as AddressInfo
  const host = address.includes(':') ? `[${address}]` : address
  console.log(`sessionware demo listening on http://${host}:${port} (storage: ${app.description})`)
})

let stopping = false
const stop = (signal: string): void => {
  if (stopping) return
  stopping = true
  console.log(`sessionware demo: ${signal} received, shutting down`)
  // Should closing hang, leave anyway after a few seconds.
  setTimeout(() => process.exit(1), 5000).unref()
  app.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error('sessionware demo: error while shutting down:', error)
      process.exit(1)
    },
  )
}
process.once('SIGINT', () => stop('SIGINT'))
process.once('SIGTERM', () => stop('SIGTERM'))
