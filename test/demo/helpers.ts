/**
 * Helpers for the demo tests: start the demo in-process on 127.0.0.1:0, and a fetch client with a
 * one-host cookie jar.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { createDemoApp, type DemoApp } from '../../examples/demo/app.ts'

/** A demo app listening on 127.0.0.1 at a free port. */
export interface Running {
  readonly app: DemoApp
  /** `http://127.0.0.1:PORT` */
  readonly url: string
  /** What the app logged (warnings, store errors). */
  readonly logs: string[]
}

/** Starts the demo with `env` (and nothing from process.env). */
export async function startDemo(env: Record<string, string | undefined>): Promise<Running> {
  const logs: string[] = []
  const app = await createDemoApp(env, { log: (message) => logs.push(message) })
  await new Promise<void>((resolve, reject) => {
    app.server.once('error', reject)
    app.server.listen(0, '127.0.0.1', () => resolve())
  })
  const { port } = app.server.address() as AddressInfo
  return { app, url: `http://127.0.0.1:${port}`, logs }
}

/** A fresh temporary directory, removed by the returned function. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'sessionware-demo-'))
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) }
}

/** A test key of 40 characters. */
export const TEST_KEY = 'demo-test-key-0123456789-abcdefghijklmnop'

/** A parsed Set-Cookie header. */
export interface SetCookie {
  name: string
  value: string
  /** Lower-cased attribute names to values (`''` for flags). */
  attributes: Map<string, string>
  /** Max-Age=0 or an Expires in the past. */
  expired: boolean
}

/** Parses a Set-Cookie header value. */
export function parseSetCookie(header: string): SetCookie {
  const [pair = '', ...rest] = header.split(';')
  const eq = pair.indexOf('=')
  const attributes = new Map<string, string>()
  for (const part of rest) {
    const [key = '', ...value] = part.trim().split('=')
    attributes.set(key.toLowerCase(), value.join('='))
  }
  const maxAge = attributes.get('max-age')
  const expires = attributes.get('expires')
  const expired =
    (maxAge !== undefined && Number(maxAge) <= 0) ||
    (expires !== undefined && Date.parse(expires) <= Date.now())
  return { name: pair.slice(0, eq).trim(), value: pair.slice(eq + 1).trim(), attributes, expired }
}

/** A client that keeps cookies like a browser would (one host, no paths). */
export class Client {
  readonly base: string
  readonly jar: Map<string, string>

  constructor(base: string, jar: Map<string, string> = new Map()) {
    this.base = base
    this.jar = jar
  }

  /** Another client starting with a copy of this one's cookies. */
  copy(): Client {
    return new Client(this.base, new Map(this.jar))
  }

  /** Fetches `path` (no redirects followed), then stores the cookies the answer sets. */
  async fetch(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (this.jar.size > 0) {
      headers.set('cookie', [...this.jar].map(([name, value]) => `${name}=${value}`).join('; '))
    }
    const response = await fetch(this.base + path, {
      ...init,
      headers,
      redirect: 'manual',
      signal: AbortSignal.timeout(5000),
    })
    for (const header of response.headers.getSetCookie()) {
      const cookie = parseSetCookie(header)
      if (cookie.expired) this.jar.delete(cookie.name)
      else this.jar.set(cookie.name, cookie.value)
    }
    return response
  }

  /** Sends a JSON body. */
  json(path: string, method: string, body: unknown): Promise<Response> {
    return this.fetch(path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    })
  }

  /** Posts an HTML form (same-origin, as a browser would say). */
  form(
    path: string,
    fields: Record<string, string>,
    origin: string = this.base,
  ): Promise<Response> {
    return this.fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin },
      body: new URLSearchParams(fields).toString(),
    })
  }
}

/** The parsed body of a JSON API session answer. */
export interface SessionAnswer {
  id: string | null
  isNew: boolean
  data: Record<string, unknown>
}

/**
 * Cleanups for a test, run when it ends in reverse order of registration (close the app and the
 * browser before removing the directory they use).
 */
export function cleanups(t: TestContext): (cleanup: () => unknown) => void {
  const stack: Array<() => unknown> = []
  t.after(async () => {
    for (const cleanup of stack.reverse()) await cleanup()
  })
  return (cleanup) => {
    stack.push(cleanup)
  }
}

/** The body of every 503 from the JSON API. */
export const STORE_UNAVAILABLE = { error: 'session store unavailable', code: 'ERR_SESSION_STORE' }

/** Resolves once `check()` resolves true; fails after `timeoutMs` (errors count as false). */
export async function eventually(
  check: () => Promise<boolean>,
  timeoutMs: number,
  what = 'the condition',
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (await check().catch(() => false)) return
    if (Date.now() > deadline) throw new Error(`${what} did not hold within ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

/** Runs `work` and returns its result with the milliseconds it took. */
export async function timed<T>(work: () => Promise<T>): Promise<{ result: T; ms: number }> {
  const start = performance.now()
  const result = await work()
  return { result, ms: Math.round(performance.now() - start) }
}

/** SESSION_STORE_TIMEOUT of the demos {@link startTimedDemo} starts, in seconds. */
export const STORE_TIMEOUT = 1
/** While the store's server is down, every answer (and startup) must come within this many ms. */
export const BOUND_MS = STORE_TIMEOUT * 1000 + 1000

/**
 * Starts the demo for one test with SESSION_STORE_TIMEOUT = {@link STORE_TIMEOUT} and `env`, and
 * closes it when the test ends.
 */
export async function startTimedDemo(
  t: TestContext,
  env: Record<string, string>,
): Promise<Running> {
  const running = await startDemo({ SESSION_STORE_TIMEOUT: String(STORE_TIMEOUT), ...env })
  cleanups(t)(() => running.app.close())
  return running
}
