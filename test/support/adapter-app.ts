/**
 * The small app every adapter serves in the adapter conformance suite, written once against a
 * framework-neutral interface, and its glue to node:http and to the Fetch API.
 *
 * Not part of the package.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { Session } from '../../src/core/session.ts'
import { getSession, newSession } from '../../src/index.ts'

/** What a route sees: the request object `getSession` takes, and the parsed URL. */
export interface RouteContext {
  readonly request: object
  readonly url: URL
}

/** What a route answers; each adapter's glue turns it into its own response. */
export interface RouteResult {
  /** @default 200 */
  readonly status?: number
  /** When given, node sends them with `res.writeHead(status, headers)`. */
  readonly headers?: Readonly<Record<string, string>>
  /** A string, or chunks streamed one by one (node: several `res.write` before `end`). */
  readonly body?: string | readonly string[]
  /**
   * The Fetch glue answers the same `Response` object every time this result is returned (built
   * once, as an application's module-level constant would be). Only for results without a body.
   */
  readonly shared?: boolean
}

/** One route of the app. */
export type Route = (context: RouteContext) => Promise<RouteResult>

/** The app: pathname → route. */
export type Routes = Readonly<Record<string, Route>>

/** The JSON `view` of a session that most routes answer with. */
export interface SessionView {
  id: string | null
  isNew: boolean
  data: Record<string, unknown>
  timeLeft: number
}

/** A session as JSON. */
export function view(session: Session): SessionView {
  return {
    id: session.id,
    isNew: session.isNew,
    data: session.toJSON(),
    timeLeft: session.timeLeft,
  }
}

const text = (value: unknown): RouteResult => ({ body: JSON.stringify(value) })

/** Increments `n`. */
async function increment(request: object): Promise<Session> {
  const session = await getSession(request)
  session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
  return session
}

/** Chunks of the streamed route; the body must arrive as their concatenation. */
export const STREAM_CHUNKS: readonly string[] = ['alpha;', 'beta;', 'gamma;', 'delta;', 'end']

/** Characters in the `big` value: sealed, the cookie passes 4096 bytes. */
export const BIG_VALUE_LENGTH = 5000

/** The result every `/shared*` route answers: one constant, as an application would keep it. */
export const SHARED_RESULT: RouteResult = Object.freeze({ status: 204, shared: true })

/**
 * The app every adapter serves:
 * - `/none` never touches the session;
 * - `/get` reads (answers {@link SessionView});
 * - `/twice` calls getSession twice concurrently (answers `{ same }`);
 * - `/inc` increments `n`; `/set?key=…&value=…` sets a string;
 * - `/flash-set` sets flash `notice` (answers what getFlash gives in the same request);
 *   `/flash-get` reads it (answers `{ notice }`);
 * - `/regenerate`, `/invalidate` do that (after reading);
 * - `/login` calls newSession and sets `user`;
 * - `/redirect` increments `n`, then answers 302 to `/get`;
 * - `/throw` increments `n`, then throws;
 * - `/stream` increments `n`, then streams {@link STREAM_CHUNKS};
 * - `/big` stores {@link BIG_VALUE_LENGTH} characters;
 * - `/vary?value=…` reads the session and answers with the application's own `Vary: <value>`;
 * - `/shared-login` logs in (newSession, `user`), `/shared-get` reads, `/shared-none` does
 *   neither; all three answer {@link SHARED_RESULT}.
 */
export const appRoutes: Routes = Object.freeze({
  '/none': async () => ({ body: 'none' }),
  '/get': async ({ request }) => text(view(await getSession(request))),
  '/twice': async ({ request }) => {
    const [a, b] = await Promise.all([getSession(request), getSession(request)])
    return text({ same: a === b })
  },
  '/inc': async ({ request }) => text(view(await increment(request))),
  '/set': async ({ request, url }) => {
    const session = await getSession(request)
    session.set(url.searchParams.get('key') ?? 'value', url.searchParams.get('value') ?? '')
    return text(view(session))
  },
  '/flash-set': async ({ request }) => {
    const session = await getSession(request)
    session.flash('notice', 'saved')
    return text({ notice: session.getFlash('notice') ?? null })
  },
  '/flash-get': async ({ request }) => {
    const session = await getSession(request)
    return text({ notice: session.getFlash('notice') ?? null })
  },
  '/regenerate': async ({ request }) => {
    const session = await getSession(request)
    session.regenerate()
    return text(view(session))
  },
  '/invalidate': async ({ request }) => {
    const session = await getSession(request)
    session.invalidate()
    return text({ invalidated: session.invalidated })
  },
  '/login': async ({ request }) => {
    const session = await newSession(request)
    session.set('user', 'ann')
    return text(view(session))
  },
  '/redirect': async ({ request }) => {
    await increment(request)
    return { status: 302, headers: { location: '/get' } }
  },
  '/throw': async ({ request }) => {
    await increment(request)
    throw new Error('boom in handler')
  },
  '/stream': async ({ request }) => {
    await increment(request)
    return { body: STREAM_CHUNKS }
  },
  '/big': async ({ request }) => {
    const session = await getSession(request)
    session.set('big', 'x'.repeat(BIG_VALUE_LENGTH))
    return text({ ok: true })
  },
  '/vary': async ({ request, url }) => {
    await getSession(request)
    const headers = {
      'content-type': 'text/plain; charset=utf-8',
      vary: url.searchParams.get('value') ?? '',
    }
    return { headers, body: 'vary' }
  },
  '/shared-login': async ({ request }) => {
    const session = await newSession(request)
    session.set('user', 'ann')
    return SHARED_RESULT
  },
  '/shared-get': async ({ request }) => {
    await getSession(request)
    return SHARED_RESULT
  },
  '/shared-none': async () => SHARED_RESULT,
})

const pause = (): Promise<void> => sleep(2)

/** Serves `routes` as a node:http handler (async; errors reject). Unknown paths answer 404. */
export function nodeHandler(
  routes: Routes,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app.invalid')
    const route = routes[url.pathname]
    if (route === undefined) {
      res.statusCode = 404
      res.end()
      return
    }
    const result = await route({ request: req, url })
    const status = result.status ?? 200
    if (result.headers !== undefined) {
      res.writeHead(status, { ...result.headers })
    } else {
      res.statusCode = status
      if (status !== 204) res.setHeader('content-type', 'text/plain; charset=utf-8')
    }
    const body = result.body ?? ''
    if (typeof body === 'string') {
      res.end(body)
      return
    }
    // Two writes at once (held together while the commit runs), then one per tick.
    for (const [index, chunk] of body.entries()) {
      if (index > 1) await pause()
      res.write(chunk)
    }
    res.end()
  }
}

/**
 * Serves `routes` as a Fetch-API handler (async; errors reject). Unknown paths answer 404. A
 * `shared` result is answered with one `Response` object, made once and kept (see `responses`).
 */
export function fetchHandler(
  routes: Routes,
  responses: Map<RouteResult, Response> = new Map(),
): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url)
    const route = routes[url.pathname]
    if (route === undefined) return new Response(null, { status: 404 })
    const result = await route({ request, url })
    const status = result.status ?? 200
    if (result.shared) {
      let response = responses.get(result)
      if (response === undefined) {
        response = new Response(null, { status, headers: result.headers })
        responses.set(result, response)
      }
      return response
    }
    const headers = result.headers ?? { 'content-type': 'text/plain; charset=utf-8' }
    const body = result.body ?? ''
    if (typeof body === 'string') {
      return new Response(status === 302 || body === '' ? null : body, { status, headers })
    }
    const chunks = [...body]
    const encoder = new TextEncoder()
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = chunks.shift()
        if (chunk === undefined) {
          controller.close()
          return
        }
        await pause()
        controller.enqueue(encoder.encode(chunk))
      },
    })
    return new Response(stream, { status, headers })
  }
}
