/**
 * HTTP helpers for tests over real loopback HTTP: start a node:http server on 127.0.0.1 (port 0)
 * that closes after the test, serve a Fetch-API handler over real node:http, and a tiny client with
 * a cookie jar.
 *
 * The client uses node:http `request` rather than `fetch`: the Cookie header is sent byte for byte
 * (duplicate names, 10 KB values, quotes), HEAD has no body to wait for, redirects are never
 * followed, and no connection pool outlives the test.
 *
 * Not part of the package.
 *
 * @module
 */

import type {
  IncomingHttpHeaders,
  IncomingMessage,
  RequestListener,
  ServerResponse,
} from 'node:http'
import { createServer, request as httpRequest } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Duplex } from 'node:stream'
import type { TestContext } from 'node:test'
import { parseSetCookie, type SetCookie } from 'cookie'

/** How long a request may take before the client gives up (a hang is a failure, not a timeout). */
const REQUEST_TIMEOUT_MS = 5000

/** A node:http `'upgrade'` listener. */
export type UpgradeListener = (req: IncomingMessage, socket: Duplex, head: Buffer) => void

/**
 * Starts a node:http server for `listener` (and `upgrade`, when given, for its `'upgrade'` event)
 * on 127.0.0.1 and a free port; it is closed (with every open connection) after the test. Resolves
 * to the base URL, such as `http://127.0.0.1:41234`.
 */
export async function serve(
  t: TestContext,
  listener: RequestListener,
  upgrade?: UpgradeListener,
): Promise<string> {
  const server = createServer(listener)
  if (upgrade !== undefined) server.on('upgrade', upgrade)
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject)
      resolve()
    })
  })
  t.after(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  )
  const { port } = server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/** A Fetch-API handler as runtimes call it. */
export type FetchListener = (request: Request) => Response | Promise<Response>

/** Options of {@link serveFetch}. */
export interface ServeFetchOptions {
  /**
   * Receives a rejection of the handler (the Fetch adapter's error path) and returns the status to
   * answer; the response then carries an `x-error-code` header with the error's `code`.
   *
   * @default answers 500, as Bun and Deno do for a rejected fetch handler
   */
  onError?: (error: unknown) => number
}

/** The `code` of an error, if it has a string one. */
export function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const code = (error as { code?: unknown }).code
  return typeof code === 'string' ? code : undefined
}

/** Turns a node:http request into a Fetch `Request` (URL from the Host header, body streamed). */
export function toRequest(req: IncomingMessage): Request {
  const url = new URL(req.url ?? '/', `http://${req.headers.host ?? '127.0.0.1'}`)
  const headers = new Headers()
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    headers.append(req.rawHeaders[i] as string, req.rawHeaders[i + 1] as string)
  }
  const method = req.method ?? 'GET'
  const init: RequestInit & { duplex?: 'half' } = { method, headers }
  if (method !== 'GET' && method !== 'HEAD') {
    init.body = new ReadableStream<Uint8Array>({
      start(controller) {
        req.on('data', (chunk: Buffer) => controller.enqueue(new Uint8Array(chunk)))
        req.on('end', () => controller.close())
        req.on('error', (error) => controller.error(error))
      },
    })
    init.duplex = 'half'
  }
  return new Request(url, init)
}

/** Writes a Fetch `Response` to a node:http response: status, every header (each Set-Cookie), body. */
export async function sendResponse(
  req: IncomingMessage,
  res: ServerResponse,
  response: Response,
): Promise<void> {
  res.statusCode = response.status
  if (response.statusText) res.statusMessage = response.statusText
  for (const [name, value] of response.headers) {
    if (name !== 'set-cookie') res.setHeader(name, value)
  }
  const cookies = response.headers.getSetCookie()
  if (cookies.length > 0) res.setHeader('set-cookie', cookies)
  if (response.body !== null && req.method !== 'HEAD') {
    const reader = response.body.getReader()
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      res.write(chunk.value)
    }
  }
  res.end()
}

/**
 * Serves a Fetch-API handler over real node:http on 127.0.0.1, converting each IncomingMessage to a
 * `Request` and the `Response` back, so Fetch adapters are tested over real loopback HTTP too.
 * Resolves to the base URL.
 */
export function serveFetch(
  t: TestContext,
  handler: FetchListener,
  options: ServeFetchOptions = {},
): Promise<string> {
  return serve(t, (req, res) => {
    const answer = async (): Promise<void> => {
      let response: Response
      try {
        response = await handler(toRequest(req))
      } catch (error) {
        const status = options.onError ? options.onError(error) : 500
        res.statusCode = status
        const code = errorCode(error)
        if (code !== undefined) res.setHeader('x-error-code', code)
        res.end()
        return
      }
      await sendResponse(req, res, response)
    }
    answer().catch((error: unknown) => res.destroy(error instanceof Error ? error : undefined))
  })
}

/** What a request got back. */
export interface HttpResult {
  status: number
  headers: IncomingHttpHeaders
  /** Raw Set-Cookie header values, in order. */
  rawSetCookies: string[]
  /** Set-Cookie headers parsed with the `cookie` package. */
  setCookies: SetCookie[]
  body: string
}

/** Options of {@link send}. */
export interface SendOptions {
  /** @default 'GET' */
  method?: string
  /** Sent exactly as given (a Cookie header is not encoded or merged). */
  headers?: Record<string, string | string[]>
  body?: string
}

/** One request with node:http; never follows redirects; fails after five seconds. */
export function send(url: string, options: SendOptions = {}): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          const rawSetCookies = res.headers['set-cookie'] ?? []
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            rawSetCookies,
            setCookies: rawSetCookies.map((header) => parseSetCookie(header)),
            body: Buffer.concat(chunks).toString('utf8'),
          })
        })
      },
    )
    req.setTimeout(REQUEST_TIMEOUT_MS, () => {
      req.destroy(new Error(`no response from ${url} within ${REQUEST_TIMEOUT_MS} ms`))
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

/** The Set-Cookie of cookie `name` in a result, if any. */
export function setCookieOf(result: HttpResult, name: string): SetCookie | undefined {
  return result.setCookies.find((cookie) => cookie.name === name)
}

/**
 * A browser-like client for one base URL: keeps the cookies the server sets (a Set-Cookie with
 * `Max-Age=0` or an empty value removes one) and sends them back. Expiry by date is not applied:
 * tests move the server's clock, not the client's.
 */
export class Client {
  readonly base: string
  readonly jar: Map<string, string> = new Map()

  constructor(base: string) {
    this.base = base
  }

  /** The Cookie header the client would send, or undefined with an empty jar. */
  get cookieHeader(): string | undefined {
    if (this.jar.size === 0) return undefined
    return [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
  }

  /** The value of cookie `name` in the jar. */
  cookie(name: string): string | undefined {
    return this.jar.get(name)
  }

  /** Sends a request to `path` with the jar's cookies (unless `headers.cookie` is given). */
  async request(path: string, options: SendOptions = {}): Promise<HttpResult> {
    const headers: Record<string, string | string[]> = {}
    const cookie = this.cookieHeader
    if (cookie !== undefined) headers.cookie = cookie
    Object.assign(headers, options.headers)
    const result = await send(this.base + path, { ...options, headers })
    for (const set of result.setCookies) {
      if (set.value === undefined || set.value === '' || set.maxAge === 0) this.jar.delete(set.name)
      else this.jar.set(set.name, set.value)
    }
    return result
  }

  /** A GET request. */
  get(path: string, options: Omit<SendOptions, 'method'> = {}): Promise<HttpResult> {
    return this.request(path, options)
  }
}

/** Parses a result body as JSON. */
export function json<T = Record<string, unknown>>(result: HttpResult): T {
  return JSON.parse(result.body) as T
}
