/**
 * What every benchmark server shares: the listening address, random secrets, the JSON body, a
 * node:http listener, and the clients of the benchmark's own redis-server and PostgreSQL (their
 * addresses in `BENCH_REDIS_URL` and `BENCH_POSTGRES_URL`, set by the orchestrator).
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { PrefillReport } from './prefill.ts'

/** Every server listens on loopback. */
export const HOST = '127.0.0.1'
/** Fourteen days in seconds: the cookie lifetime every library is given (sessionware's default). */
export const FOURTEEN_DAYS_S = 14 * 24 * 3600

/** The session data every server keeps: one counter. */
export type Data = { n: number }

/** A node:http request handler. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void

/** A listening server: its port and how to stop it. */
export interface Listening {
  readonly port: number
  stop(): Promise<void>
  /** What a ceiling server of the scale run made when it filled its own store. */
  readonly report?: PrefillReport
}

/** Run on stop, after the server has closed (Redis and PostgreSQL clients, stores). */
export const cleanups: Array<() => Promise<unknown>> = []

/** A secret of 64 characters (sessionware keys and iron-session passwords need at least 32). */
export const secret = (): string => randomBytes(48).toString('base64url')

/** The body every route answers: `{"n":<value>}`. */
export const body = (n: unknown): string => `{"n":${JSON.stringify(n ?? null)}}`

/** Answers `{"n":<value>}` on a node:http response. */
export function send(res: ServerResponse, n: unknown): void {
  res.setHeader('content-type', 'application/json')
  res.end(body(n))
}

/** Answers 404 on a node:http response. */
export function notFound(res: ServerResponse): void {
  res.statusCode = 404
  res.end()
}

/** Serves a handler with node:http on a free loopback port. */
export function listenNode(handler: Handler): Promise<Listening> {
  const server = createServer(handler)
  return new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, HOST, () => {
      const port = (server.address() as AddressInfo).port
      const stop = (): Promise<void> =>
        new Promise((done) => {
          server.closeAllConnections()
          server.close(() => done())
        })
      resolve({ port, stop })
    })
  })
}

/** An environment variable the orchestrator must have set. */
export function required(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set (the benchmark sets it)`)
  return value
}

/**
 * A connected node-redis client. `recommended`: configured as sessionware's Redis store TSDoc
 * recommends (fail fast while disconnected, reconnect forever, no per-command timer: the store
 * bounds every call); otherwise as connect-redis' README shows it (`createClient({ url })`). Both
 * get an 'error' listener, without which node-redis throws. `BENCH_REDIS_CSC=1` adds client-side
 * caching to the recommended client (RESP3, 100,000 entries, FIFO), for A/B runs of bench/ab.ts.
 */
export async function redisClient(recommended: boolean) {
  const { createClient } = await import('redis')
  const url = required('BENCH_REDIS_URL')
  const client = recommended
    ? createClient({
        url,
        disableOfflineQueue: true,
        commandOptions: { timeout: 0 },
        ...(process.env.BENCH_REDIS_CSC
          ? {
              RESP: 3 as const,
              clientSideCache: {
                maxEntries: 100_000,
                evictPolicy: 'FIFO' as const,
                recordStats: false,
              },
            }
          : {}),
        socket: { reconnectStrategy: (retries: number) => Math.min((retries + 1) * 100, 2000) },
      })
    : createClient({ url })
  client.on('error', (error: unknown) => console.error('redis client error:', error))
  await client.connect()
  cleanups.push(() => client.close())
  return client
}

/** A `pg.Pool` on the benchmark's PostgreSQL, ended on stop. */
export async function postgresPool() {
  const { default: pg } = await import('pg')
  const pool = new pg.Pool({ connectionString: required('BENCH_POSTGRES_URL'), max: 8 })
  pool.on('error', (error: unknown) => console.error('postgres pool error:', error))
  cleanups.push(() => pool.end())
  return pool
}
