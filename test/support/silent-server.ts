/**
 * A TCP server on 127.0.0.1 that accepts connections and never says a word: a backend that hangs,
 * for the tests of a store's per-call timeout. Not part of the package.
 *
 * @module
 */

import { createServer, type Socket } from 'node:net'
import type { TestContext } from 'node:test'

/** Starts the server and returns its port; it closes (and drops its connections) when `t` ends. */
export async function silentServer(t: TestContext): Promise<number> {
  const sockets = new Set<Socket>()
  const silent = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
  t.after(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy()
        silent.close(() => resolve())
      }),
  )
  return (silent.address() as { port: number }).port
}
