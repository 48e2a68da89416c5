/**
 * The sessionware side of the layout interop and encryption-at-rest tests: a node:http server on
 * 127.0.0.1 with server storage over a given store (by default raw Python ids and Python's JSON),
 * and a small JSON API to read and change the session over real HTTP. Not part of the package.
 *
 * @module
 */

import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import {
  createServerStorage,
  createSessions,
  getSession,
  type Serializer,
  type ServerStorageOptions,
  type SessionOptions,
  type SessionStore,
} from '../../src/index.ts'
import { pythonServerStorageOptions } from '../../src/stores/python-storage-options.ts'

/** Options of {@link serveLayoutApp}. */
export interface LayoutAppOptions {
  readonly cookieName: string
  readonly idleTimeout?: number | null
  readonly absoluteTimeout?: number | null
  /** Replaces the Python JSON serializer. */
  readonly serializer?: Serializer
  /** Replaces the Python storage options (raw ids, Python JSON) altogether. */
  readonly storage?: Omit<ServerStorageOptions, 'store'>
  /** Called with the reason when a request's cookie cannot be used. */
  readonly onInvalidCookie?: (reason: string) => void
  /** The manager's options as they are (a compat preset): every option above but the name is ignored. */
  readonly sessions?: SessionOptions
}

/** The session as the app answers it. */
export interface AppSession {
  readonly id: string | null
  readonly isNew: boolean
  readonly data: Record<string, unknown>
}

/** One answer of the app. */
export interface AppResult {
  readonly status: number
  readonly body: AppSession & { flash?: unknown }
  /** The session cookie's value in `Set-Cookie` ('' for a deletion), or undefined. */
  readonly cookie: string | undefined
}

/** A running app. */
export interface LayoutApp {
  /**
   * `GET /read`; `POST /write` with `{ set?, delete?, flash? }`; `POST /invalidate`;
   * `POST /regenerate`; `GET /flash?key=k` (reads and consumes a flash value).
   */
  request(
    method: 'GET' | 'POST',
    path: string,
    options?: { cookie?: string; body?: unknown },
  ): Promise<AppResult>
}

/** Starts the app on 127.0.0.1; it stops when `t` ends. */
export async function serveLayoutApp(
  t: TestContext,
  store: SessionStore,
  options: LayoutAppOptions,
): Promise<LayoutApp> {
  const sessions =
    options.sessions === undefined
      ? createSessions({
          storage: createServerStorage({
            store,
            ...(options.storage ?? pythonServerStorageOptions),
            ...(options.serializer ? { serializer: options.serializer } : {}),
          }),
          ...(options.onInvalidCookie ? { onInvalidCookie: options.onInvalidCookie } : {}),
          cookie: { name: options.cookieName },
          ...(options.idleTimeout !== undefined ? { idleTimeout: options.idleTimeout } : {}),
          ...(options.absoluteTimeout !== undefined
            ? { absoluteTimeout: options.absoluteTimeout }
            : {}),
        })
      : createSessions(options.sessions)
  const server = http.createServer(
    withSessions(sessions, async (req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      let body: Record<string, unknown> = {}
      if (req.method === 'POST') {
        let text = ''
        for await (const chunk of req) text += chunk
        body = text === '' ? {} : JSON.parse(text)
      }
      const session = await getSession(req)
      const extra: { flash?: unknown } = {}
      if (url.pathname === '/write') {
        for (const [key, value] of Object.entries((body.set ?? {}) as Record<string, unknown>)) {
          session.set(key, value)
        }
        for (const key of (body.delete ?? []) as string[]) session.delete(key)
        for (const [key, value] of Object.entries((body.flash ?? {}) as Record<string, unknown>)) {
          session.flash(key, value)
        }
      } else if (url.pathname === '/invalidate') {
        session.invalidate()
      } else if (url.pathname === '/regenerate') {
        session.regenerate()
      } else if (url.pathname === '/flash') {
        extra.flash = session.getFlash(url.searchParams.get('key') ?? '') ?? null
      }
      res.setHeader('content-type', 'application/json')
      res.end(
        JSON.stringify({ id: session.id, isNew: session.isNew, data: session.toJSON(), ...extra }),
      )
    }),
  )
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const cookieName = options.cookieName
  return {
    async request(method, path, { cookie, body } = {}) {
      const headers: Record<string, string> = {}
      if (cookie !== undefined) headers.cookie = `${cookieName}=${cookie}`
      if (body !== undefined) headers['content-type'] = 'application/json'
      const response = await fetch(base + path, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      })
      let value: string | undefined
      for (const header of response.headers.getSetCookie()) {
        if (header.startsWith(`${cookieName}=`)) {
          value = (header.split(';')[0] as string).slice(cookieName.length + 1)
        }
      }
      return { status: response.status, body: await response.json(), cookie: value }
    },
  }
}
