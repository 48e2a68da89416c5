/**
 * Holding a node:http response until the session commit has finished. Part of
 * `sessionware/adapters/kit`.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { AttachedRequest } from '../../core/request.ts'
import { varyOnCookie } from './vary.ts'
import { takeHeader } from './write-head.ts'

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
}

type Method = (...args: unknown[]) => unknown

/** The response methods held until the commit, by index. */
const WRITE_HEAD = 0
const WRITE = 1
const END = 2
const FLUSH_HEADERS = 3

/** Phases of a held response. */
const OPEN = 0 // nothing started
const COMMITTING = 1 // the commit is running; calls are queued
const DONE = 2 // calls pass straight through
const ANSWERED = 3 // the commit failed and onError answered: the application's calls are dropped

/** What a held or dropped call returns, as node's own method would. */
function heldResult(index: number, res: ServerResponse, writable: boolean): unknown {
  return index === WRITE ? writable : index === FLUSH_HEADERS ? undefined : res
}

/**
 * Holds `writeHead`, `write`, `end` and `flushHeaders` of a node:http response until the session
 * commit (an async store write) has finished, then adds the session's Set-Cookie headers and
 * `Vary: Cookie` (merged with what the application set, by `setHeader` or in `writeHead`'s headers
 * in any form) and lets the calls through in order. The first of these calls starts the commit.
 *
 * - **Synchronous commit** (cookie storage, a session only read): the call goes through at once.
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
): NodeResponseHold {
  if (res.headersSent) {
    attached.readOnly() // too late for a Set-Cookie: refuse writes, loudly
    return { fail: (error) => onError(error, req, res) }
  }
  const target = res as unknown as Record<'writeHead' | 'write' | 'end' | 'flushHeaders', Method>
  const originals: Method[] = [target.writeHead, target.write, target.end, target.flushHeaders]
  let phase = OPEN
  const queue: Array<[number, unknown[]]> = []
  /** A write returned false while the commit ran: 'drain' is owed. */
  let owesDrain = false
  /** Handler errors that arrived while the commit ran. */
  let failures: unknown[] | null = null

  const call = (index: number, args: unknown[]): unknown =>
    (originals[index] as Method).apply(res, args)

  const deliverFailures = (): boolean => {
    if (failures === null) return false
    const errors = failures
    failures = null
    for (const error of errors) onError(error, req, res)
    return true
  }

  /** Adds the session's headers and replays the held calls; returns the last call's result. */
  const flush = (cookies: string[]): unknown => {
    phase = DONE
    const head = queue.find(([index]) => index === WRITE_HEAD)?.[1]
    if (attached.active) {
      const app = head ? takeHeader(head, 'vary') : null
      res.setHeader('vary', varyOnCookie(app === null ? res.getHeader('vary') : app))
    }
    if (cookies.length > 0) {
      // Cookies given to writeHead replace those set with setHeader (node's own precedence); the
      // session's cookies are added to whichever the application chose.
      let app = head ? takeHeader(head, 'set-cookie') : null
      if (app === null) {
        const existing = res.getHeader('set-cookie')
        app = existing === undefined ? [] : [existing].flat().map(String)
      }
      res.setHeader('set-cookie', [...app, ...cookies])
    }
    let result: unknown
    for (const [index, args] of queue.splice(0)) result = call(index, args)
    return result
  }

  const commitFailed = (error: unknown): void => {
    phase = DONE // the error handler's own calls go through
    queue.length = 0
    owesDrain = false
    onError(error, req, res)
    // Once it answered, what the application still writes is dropped, as the held calls were.
    if (res.writableEnded) phase = ANSWERED
    deliverFailures()
  }

  const committed = (cookies: string[]): void => {
    try {
      flush(cookies)
    } catch (error) {
      // A replayed call threw (an invalid header given to writeHead, say): the application's
      // error, which plain node:http would have thrown into the handler.
      phase = DONE
      onError(error, req, res)
      deliverFailures()
      return
    }
    if (deliverFailures()) return
    if (owesDrain) {
      owesDrain = false
      // A replayed write that filled the socket's buffer gets node's own 'drain' later.
      if (!res.writableNeedDrain && !res.destroyed) res.emit('drain')
    }
  }

  const hold = (index: number, args: unknown[]): unknown => {
    if (phase === DONE) return call(index, args)
    if (phase === ANSWERED) return heldResult(index, res, false)
    queue.push([index, args])
    if (phase === OPEN) {
      phase = COMMITTING
      let result: string[] | Promise<string[]>
      try {
        result = attached.commit()
      } catch (error) {
        commitFailed(error)
        return heldResult(index, res, false)
      }
      // Nothing to wait for: this very call goes through now.
      if (Array.isArray(result)) return flush(result)
      result.then(committed, commitFailed)
    }
    if (index === WRITE) owesDrain = true
    return heldResult(index, res, false)
  }

  target.writeHead = (...args) => hold(WRITE_HEAD, args)
  target.write = (...args) => hold(WRITE, args)
  target.end = (...args) => hold(END, args)
  target.flushHeaders = (...args) => hold(FLUSH_HEADERS, args)

  return {
    fail(error) {
      if (phase === OPEN) {
        attached.discard()
        onError(error, req, res)
      } else if (phase === COMMITTING) {
        if (failures === null) failures = [error]
        else failures.push(error)
      } else onError(error, req, res)
    },
  }
}
