/**
 * Holding a node:http response until the session commit has finished. Part of
 * `sessionware/adapters/kit`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import {
  type AttachedRequest,
  type CommitWatcher,
  RequestState,
  sharedHoldOf,
} from '../../core/request.ts'
import { addSessionHeaders } from './session-headers.ts'
import {
  hookPrototype,
  type Method,
  type Originals,
  OWN_HOOKS,
  type Shared,
} from './shared-hooks.ts'

/**
 * Receives an error of the handler or of the session commit, with the request and response, and
 * answers it (or, once headers are out, ends the connection).
 */
export type NodeErrorHandler<
  Req extends IncomingMessage = IncomingMessage,
  Res extends ServerResponse = ServerResponse,
> = (error: unknown, req: Req, res: Res) => void

/** What {@link holdNodeResponse} returns: how the adapter reports a failed handler. */
export interface NodeResponseHold {
  /**
   * The handler threw or rejected. Before the response was started (no writeHead, write, end or
   * flushHeaders yet): the session is discarded (nothing saved, no cookie) and `onError` answers.
   * While the commit that the response started is still running: `onError` gets the error once the
   * commit has settled (the headers are then on their way, so it can only end the connection).
   * Afterwards: `onError` gets it at once.
   */
  fail(error: unknown): void
  /**
   * The adapter has committed the session and put its Set-Cookie and `Vary` on the response
   * itself (Fastify's `onSend` does): from now on the held methods pass calls straight through
   * and add nothing. Does nothing once a call has started the commit.
   */
  release(): void
}

/** The response methods held until the commit, by index (the order of shared-hooks.ts). */
const WRITE_HEAD = 0
const WRITE = 1
const END = 2
const FLUSH_HEADERS = 3

/** Phases of a held response. */
const OPEN = 0 // nothing started
const COMMITTING = 1 // the commit is running; calls are queued
const DONE = 2 // calls pass straight through
const ANSWERED = 3 // the commit failed and onError answered: the application's calls are dropped

/** One call held while the commit runs. */
class HeldCall {
  readonly index: number
  readonly args: unknown[]

  constructor(index: number, args: unknown[]) {
    this.index = index
    this.args = args
  }
}

/** What a held or dropped call returns, as node's own method would. */
function heldResult(index: number, res: ServerResponse, writable: boolean): unknown {
  return index === WRITE ? writable : index === FLUSH_HEADERS ? undefined : res
}

/** The hooked methods, as own properties of a response. */
type Hooked = Record<'writeHead' | 'write' | 'end' | 'flushHeaders', Method>

/** Where `process.versions` tells the runtime (Bun and Deno have their own responses). */
const VERSIONS = (globalThis as { process?: { versions?: Record<string, string | undefined> } })
  .process?.versions
const NODE = VERSIONS !== undefined && VERSIONS.bun === undefined && VERSIONS.deno === undefined

/**
 * node's own `ServerResponse.prototype._implicitHeader`, through which `write`, `end` and
 * `flushHeaders` send the headers with `this.writeHead` (node 20 to 24); found on the first
 * response that has it, so that the kit needs no import of node:http.
 */
let nodeImplicitHeader: unknown

function findImplicitHeader(res: object): unknown {
  for (
    let proto = Object.getPrototypeOf(res);
    proto !== null;
    proto = Object.getPrototypeOf(proto)
  ) {
    if (Object.hasOwn(proto, '_implicitHeader') && proto.constructor?.name === 'ServerResponse') {
      return proto._implicitHeader
    }
  }
  return undefined
}

/** Whether every header this response sends goes through its `writeHead` property. */
function headersPassWriteHead(res: ServerResponse): boolean {
  if (!NODE) return false
  nodeImplicitHeader ??= findImplicitHeader(res)
  const own = (res as unknown as Record<string, unknown>)._implicitHeader
  return own !== undefined && own === nodeImplicitHeader
}

/**
 * The state of one held response: one object and, while the commit would answer synchronously,
 * one hook (`writeHead`, through which node sends the headers of `write`, `end` and
 * `flushHeaders` too); four hooks once the commit may wait for the store. Few own properties
 * matter: Express responses that get more than two cost 14–25 µs more per request (measured). The
 * queue of held calls exists only while an asynchronous commit runs.
 */
class Hold<Req extends IncomingMessage, Res extends ServerResponse>
  implements NodeResponseHold, CommitWatcher
{
  readonly req: Req
  readonly res: Res
  readonly attached: AttachedRequest
  readonly onError: NodeErrorHandler<Req, Res>
  /** The methods under the shared hooks of a prototype, when the hold uses them. */
  readonly shared: Originals | null
  readonly writeHead: Method
  write: Method | null = null
  end: Method | null = null
  flushHeaders: Method | null = null
  phase = OPEN
  /** Calls held while an asynchronous commit runs, in order. */
  queue: HeldCall[] | null = null
  /** The own hooks are {@link OWN_HOOKS} (the hold is the request state's `sharedHold`). */
  ownShared = false
  /** A write returned false while the commit ran: 'drain' is owed. */
  owesDrain = false
  /** Handler errors that arrived while the commit ran. */
  failures: unknown[] | null = null

  /** `shared`: the methods under hooks on a prototype of `res` (else the hooks are own). */
  constructor(
    req: Req,
    res: Res,
    attached: AttachedRequest,
    onError: NodeErrorHandler<Req, Res>,
    shared: Originals | null,
    /** Whether the own hooks may be {@link OWN_HOOKS} (see `holdNodeResponse`'s checks). */
    mayShare = false,
  ) {
    this.req = req
    this.res = res
    this.attached = attached
    this.onError = onError
    this.shared = shared
    if (shared !== null) {
      ;[this.writeHead, this.write, this.end, this.flushHeaders] = shared
      return
    }
    const target = res as unknown as Hooked
    this.writeHead = target.writeHead
    // The same four functions for every response, which find this hold through `res.req`.
    if (mayShare) this.ownShared = claimShared(req, attached as RequestState, this)
    target.writeHead = this.hook(WRITE_HEAD)
  }

  /**
   * The own hook of method `index` this hold puts on the response: the same function for every
   * response when it can find the hold through `res.req` ({@link OWN_HOOKS}), else a closure of
   * its own.
   */
  hook(index: number): Method {
    return this.ownShared ? (OWN_HOOKS[index] as Method) : (...args) => this.hold(index, args)
  }

  /** Hooks `write`, `end` and `flushHeaders` too: the commit may wait for the store. */
  mayWait(): void {
    if (this.phase !== OPEN || this.write !== null) return
    const target = this.res as unknown as Hooked
    this.write = target.write
    this.end = target.end
    this.flushHeaders = target.flushHeaders
    target.write = this.hook(WRITE)
    target.end = this.hook(END)
    target.flushHeaders = this.hook(FLUSH_HEADERS)
  }

  /** Calls the response's own method `index` (as it was before the hook) with `args`. */
  call(index: number, args: unknown[]): unknown {
    const method =
      index === WRITE_HEAD
        ? this.writeHead
        : index === WRITE
          ? this.write
          : index === END
            ? this.end
            : this.flushHeaders
    return (method as Method).apply(this.res, args)
  }

  /** A hooked method was called. */
  hold(index: number, args: unknown[]): unknown {
    const phase = this.phase
    if (phase === DONE) return this.call(index, args)
    if (phase === ANSWERED) return heldResult(index, this.res, false)
    if (phase === OPEN) {
      this.phase = COMMITTING
      let result: string[] | Promise<string[]>
      try {
        result = this.attached.commit()
      } catch (error) {
        this.commitFailed(error)
        return heldResult(index, this.res, false)
      }
      if (Array.isArray(result)) {
        // Nothing to wait for: this very call goes through now.
        this.phase = DONE
        addSessionHeaders(this.res, this.attached, result, index === WRITE_HEAD ? args : undefined)
        return this.call(index, args)
      }
      this.queue = [new HeldCall(index, args)]
      result.then(
        (cookies) => this.committed(cookies),
        (error: unknown) => this.commitFailed(error),
      )
    } else (this.queue as HeldCall[]).push(new HeldCall(index, args))
    if (index === WRITE) this.owesDrain = true
    return heldResult(index, this.res, false)
  }

  /** Adds the session's headers and replays the held calls. */
  flush(cookies: string[]): void {
    this.phase = DONE
    const queue = this.queue as HeldCall[]
    this.queue = null
    const head = queue.find((held) => held.index === WRITE_HEAD)?.args
    addSessionHeaders(this.res, this.attached, cookies, head)
    for (const held of queue) this.call(held.index, held.args)
  }

  committed(cookies: string[]): void {
    try {
      this.flush(cookies)
    } catch (error) {
      // A replayed call threw (an invalid header given to writeHead, say): the application's
      // error, which plain node:http would have thrown into the handler.
      this.phase = DONE
      this.onError(error, this.req, this.res)
      this.deliverFailures()
      return
    }
    if (this.deliverFailures()) return
    if (this.owesDrain) {
      this.owesDrain = false
      // A replayed write that filled the socket's buffer gets node's own 'drain' later.
      if (!this.res.writableNeedDrain && !this.res.destroyed) this.res.emit('drain')
    }
  }

  commitFailed(error: unknown): void {
    this.phase = DONE // the error handler's own calls go through
    this.queue = null
    this.owesDrain = false
    this.onError(error, this.req, this.res)
    // Once it answered, what the application still writes is dropped, as the held calls were.
    if (this.res.writableEnded) this.phase = ANSWERED
    this.deliverFailures()
  }

  deliverFailures(): boolean {
    if (this.failures === null) return false
    const errors = this.failures
    this.failures = null
    for (const error of errors) this.onError(error, this.req, this.res)
    return true
  }

  release(): void {
    if (this.phase === OPEN) this.phase = DONE
  }

  fail(error: unknown): void {
    if (this.phase === OPEN) {
      this.attached.discard()
      this.onError(error, this.req, this.res)
    } else if (this.phase === COMMITTING) {
      if (this.failures === null) this.failures = [error]
      else this.failures.push(error)
    } else this.onError(error, this.req, this.res)
  }
}

/**
 * Makes `hold` the one that hooks shared by many responses find through `res.req` (the request
 * state's `sharedHold`); false, and undone, when `attached` does not hang on `req` itself.
 */
function claimShared(req: object, attached: RequestState, hold: object): boolean {
  attached.sharedHold = hold
  if (sharedHoldOf(req) === hold) return true
  attached.sharedHold = undefined
  return false
}

/** A response whose headers were sent before the session was asked for: nothing to hold. */
class Unheld<Req extends IncomingMessage, Res extends ServerResponse> implements NodeResponseHold {
  readonly req: Req
  readonly res: Res
  readonly onError: NodeErrorHandler<Req, Res>

  constructor(req: Req, res: Res, onError: NodeErrorHandler<Req, Res>) {
    this.req = req
    this.res = res
    this.onError = onError
  }

  release(): void {}

  fail(error: unknown): void {
    this.onError(error, this.req, this.res)
  }
}

/** Options of {@link holdNodeResponse}. */
export interface NodeHoldOptions {
  /**
   * A prototype of the response that many responses share and keep (a top-level Express app's
   * `app.response`): the four hooks go on it, once, and find the hold through `res.req` and the
   * request's session state, so the response gets no property of its own (each own property added
   * to an Express response costs time, measured). Ignored (the hooks are then own properties) when
   * it is not a prototype of the response, when `res.req` is not `req`, when `attached` does not
   * hang on `req`, or when another hold already uses it on this request.
   *
   * @default none (the hooks are own properties of the response)
   */
  readonly via?: object | undefined
}

/**
 * Holds `writeHead`, `write`, `end` and `flushHeaders` of a node:http response until the session
 * commit (an async store write) has finished, then adds the session's Set-Cookie headers and
 * `Vary: Cookie` (merged with what the application set, by `setHeader` or in `writeHead`'s headers
 * in any form) and lets the calls through in order. The first of these calls starts the commit.
 *
 * - **Synchronous commit** (cookie storage, a session only read): the call goes through at once.
 *   On Node, while the commit would answer synchronously only `writeHead` is hooked (node sends
 *   the headers of `write`, `end` and `flushHeaders` through it); the other three are hooked when
 *   the core says the commit may wait ({@link AttachedRequest.watchCommit}). A touch or id renewal
 *   that falls due after the load is then left to the next request. On Bun and Deno, or when the
 *   response's `_implicitHeader` is not node's, all four are hooked from the start.
 * - **Backpressure**: while the commit runs, `write()` returns `false` and `'drain'` is emitted
 *   once the held calls have been flushed, so a handler that waits for `'drain'` buffers one chunk.
 * - **Commit error**: nothing held is sent; `onError` answers (headers not sent yet, so it can
 *   still choose the status); what the handler writes afterwards is dropped.
 * - **Headers already sent** when this is called: no cookie can be added, so the session becomes
 *   read-only (writes throw `SessionCommittedError`) and nothing is hooked.
 *
 * Install it from `onActivate` of {@link attachRequest}, so a request that never asks for its
 * session is not touched. The hooks stay on the response once the commit is done (they then pass
 * calls straight through): deleting them again would turn it into a slow dictionary-mode object.
 */
export function holdNodeResponse<Req extends IncomingMessage, Res extends ServerResponse>(
  req: Req,
  res: Res,
  attached: AttachedRequest,
  onError: NodeErrorHandler<Req, Res>,
  options: NodeHoldOptions = {},
): NodeResponseHold {
  if (res.headersSent) {
    attached.readOnly() // too late for a Set-Cookie: refuse writes, loudly
    return new Unheld(req, res, onError)
  }
  const via = options.via as Shared | undefined
  const mayShare =
    attached instanceof RequestState &&
    (res as unknown as Shared).req === req &&
    sharedHoldOf(req) === undefined
  if (mayShare && via !== undefined && Object.prototype.isPrototypeOf.call(via, res)) {
    const hold = new Hold(req, res, attached, onError, hookPrototype(via))
    if (claimShared(req, attached, hold)) return hold
  }
  const hold = new Hold(req, res, attached, onError, null, mayShare)
  if (!headersPassWriteHead(res) || !attached.watchCommit(hold)) hold.mayWait()
  return hold
}
