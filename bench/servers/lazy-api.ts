/**
 * The least any library with sessionware's API adds to a ceiling's work, written inline with
 * nothing else: a state object hung on the request, the response's `writeHead` hooked per request
 * (to send `Vary: Cookie` and a changed session's cookie before the headers leave), the session
 * loaded on the handler's first ask through a promise the handler awaits. The ceiling servers with
 * `-api` in their name (`node-sodium-cookie-api`, `node-memory-lookup-api`) run their work behind
 * it: their ratio is the most a lazy, promise-based session API can reach with that storage on
 * this machine.
 *
 * @module
 */

import type { IncomingMessage, ServerResponse } from 'node:http'
import { type Handler, notFound, send } from './common.ts'

/** A ceiling's work on one request's session, `S`. */
export interface LazyWork<S> {
  /** Opens the session of a Cookie header, checking its deadline as every session library does. */
  open(cookie: string | undefined): S
  /** The session's counter. */
  read(session: S): number
  /** Increments the counter (and the last-active time). */
  write(session: S): void
  /** The `Set-Cookie` value of a changed session; `undefined` when its cookie does not change. */
  cookie(session: S): string | undefined
}

/** The per-request state. */
class LazyState<S> {
  readonly cookie: string | undefined
  loaded: Promise<S> | undefined = undefined
  changed: S | undefined = undefined

  constructor(cookie: string | undefined) {
    this.cookie = cookie
  }
}

const STATE = Symbol('state')
type Attached<S> = IncomingMessage & { [STATE]?: LazyState<S> }

/** The handler: `work` behind the least a lazy, promise-based session API adds. */
export function lazyApi<S>(work: LazyWork<S>): Handler {
  const load = (req: Attached<S>): Promise<S> => {
    const state = req[STATE] as LazyState<S>
    if (state.loaded === undefined) state.loaded = Promise.resolve(work.open(state.cookie))
    return state.loaded
  }
  const route = async (req: Attached<S>, res: ServerResponse): Promise<void> => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read':
        return send(res, work.read(await load(req)))
      case '/write': {
        const session = await load(req)
        work.write(session)
        ;(req[STATE] as LazyState<S>).changed = session
        return send(res, 2)
      }
      default:
        return notFound(res)
    }
  }
  return (req: Attached<S>, res) => {
    const state = new LazyState<S>(req.headers.cookie)
    req[STATE] = state
    const writeHead = res.writeHead
    res.writeHead = function (this: ServerResponse, ...args: unknown[]) {
      if (state.loaded !== undefined) this.setHeader('vary', 'Cookie')
      if (state.changed !== undefined) {
        const cookie = work.cookie(state.changed)
        if (cookie !== undefined) this.setHeader('set-cookie', cookie)
      }
      return (writeHead as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as ServerResponse['writeHead']
    route(req, res).catch((error: unknown) => {
      console.error(error)
      res.statusCode = 500
      res.end()
    })
  }
}
