/**
 * Serving a Fetch-API handler on whichever runtime runs the example: `Bun.serve` on Bun,
 * `Deno.serve` on Deno, and on Node.js `@hono/node-server`'s `serve` (a plain Fetch-to-node:http
 * bridge; any other works too). In an application you use your runtime's own line; this file only
 * lets one example run on all three.
 *
 * @module
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A running server. */
export interface Served {
  /** Where it listens, such as `http://127.0.0.1:3000`. */
  readonly url: string
  /** Stops listening. */
  close(): Promise<void>
}

/** What this file uses of Bun and Deno (the project installs neither runtime's types). */
interface Runtimes {
  Bun?: {
    serve(options: {
      hostname: string
      port: number
      fetch: (request: Request) => Promise<Response>
    }): { hostname: string; port: number; stop(): Promise<void> | void }
  }
  Deno?: {
    serve(
      options: { hostname: string; port: number; onListen(address: AddressInfoLike): void },
      handler: (request: Request) => Promise<Response>,
    ): { shutdown(): Promise<void> }
  }
}

interface AddressInfoLike {
  hostname: string
  port: number
}

const urlOf = (host: string, port: number): string =>
  `http://${host.includes(':') ? `[${host}]` : host}:${port}`

/** Serves `fetch` on `host`:`port` (0: a free port); resolves once it listens. */
export async function serveFetch(
  fetch: (request: Request) => Promise<Response>,
  { host, port }: { host: string; port: number },
): Promise<Served> {
  const { Bun, Deno } = globalThis as Runtimes
  if (Bun !== undefined) {
    const server = Bun.serve({ hostname: host, port, fetch })
    return { url: urlOf(server.hostname, server.port), close: async () => server.stop() }
  }
  if (Deno !== undefined) {
    let listening: (address: AddressInfoLike) => void = () => {}
    const address = new Promise<AddressInfoLike>((resolve) => {
      listening = resolve
    })
    const server = Deno.serve({ hostname: host, port, onListen: listening }, fetch)
    const { hostname, port: bound } = await address
    return { url: urlOf(hostname, bound), close: () => server.shutdown() }
  }
  const { serve } = await import('@hono/node-server')
  return new Promise((resolve) => {
    const server = serve({ fetch, hostname: host, port }, (info: AddressInfo) => {
      resolve({
        url: urlOf(info.address, info.port),
        close: () =>
          new Promise((closed) => {
            server.close(() => closed())
            ;(server as Server).closeAllConnections()
          }),
      })
    })
  })
}
