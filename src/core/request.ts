/**
 * The per-request state: the lazy load shared by every `getSession` of a request, the link to the
 * manager that commits it, and where it hangs on the request object. Internal.
 *
 * @module
 */
import { SessionNotAttachedError } from '../errors.ts'
import type { RequestTransport } from './cookie.ts'
import type { Loaded } from './plan.ts'
import type { Session, SessionState } from './session.ts'
import type { LoadedSession } from './storage.ts'
import type { RegisteredData, RegisteredFlash, SessionData } from './types.ts'

type AnySession = Session<SessionData, SessionData>

/**
 * The per-request handle an adapter holds (from `sessions.attach` or the adapter kit's
 * `attachRequest`).
 */
export interface AttachedRequest {
  /** True once `getSession` or `newSession` was called for the request (the session was read). */
  readonly active: boolean
  /**
   * Makes the session read-only: for an adapter that can no longer add a Set-Cookie header (the
   * headers were sent before the request asked for its session). Writes then throw
   * `SessionCommittedError`.
   */
  readOnly(): void
  /**
   * Makes the session of a WebSocket upgrade read-only: writes throw `SessionReadOnlyError`, and
   * `commit()` sends nothing. Call it right after attaching the upgrade request.
   */
  upgradeOnly(): void
  /**
   * Saves what must be saved and returns the Set-Cookie header values to send (often none). Call
   * once, before the response headers go out. Returns the array directly when no store I/O is
   * needed (cookie storage, or a session that was only read), a promise otherwise. Throws or
   * rejects with a typed error (store failure, cookie too large) for the framework's error path.
   * Every response of an `active` request should also carry `Vary: Cookie`.
   */
  commit(): string[] | Promise<string[]>
  /**
   * The handler failed: nothing of this request is saved and no cookie is sent; the session
   * becomes read-only. Call it instead of `commit()`.
   */
  discard(): void
  /**
   * Asks to be told when `commit()` may stop answering synchronously with no cookie, for an
   * adapter that holds less of the response while it does (see `holdNodeResponse`). Returns
   * `false` when it already may (nothing is registered: be ready for a promise or an error).
   * Otherwise returns `true`, and `watcher.mayWait()` is called once, synchronously, before
   * `commit()` can write, wait or throw: when `newSession` is called, the session is written to,
   * or the loaded session has a write due (a stale record, a touch, an id renewal, a rotated
   * cookie, an invalid cookie to clear). While the watcher waits, `commit()` returns no cookie,
   * synchronously: a touch or a renewal that falls due between the load and the commit is left to
   * the next request, and a response that starts while the load still waits for the store goes out
   * without waiting (that session is then read-only, and what its load found due is left to the
   * next request). Call it at most once, before the request asks for its session (from
   * `onActivate`).
   */
  watchCommit(watcher: CommitWatcher): boolean
  /**
   * The session the request's last `getSession` or `newSession` opened, once it has loaded;
   * `undefined` before (for a synchronous accessor such as Express's `req.session`).
   */
  readonly current: Session<SessionData, SessionData> | undefined
  /**
   * Free for the adapter: one value it wants to find again from the request with
   * `attachedRequests` (the Express adapter keeps its response hold here). Not read by the core.
   *
   * @default undefined
   */
  adapterState: unknown
}

/** Told by {@link AttachedRequest.watchCommit} when a request's commit may have to wait. */
export interface CommitWatcher {
  /** The commit may return a promise from now on. Called at most once. */
  mayWait(): void
}

/** What a request's state needs from its manager. */
export interface StateOwner {
  load(state: RequestState): Promise<AnySession>
  fresh(state: RequestState): Promise<AnySession>
  commit(state: RequestState): string[] | Promise<string[]>
  /**
   * Whether the commit of a request that started its load may have to wait (for that load, or for
   * store work now due); when not, and writes could make it wait, points the state's watcher at
   * `state`.
   */
  watch(state: RequestState): boolean
}

/**
 * Where a request's state hangs: a symbol-keyed property on the request object itself. (A WeakMap
 * of short-lived requests costs the garbage collector far more; measured.) `Symbol.for` lets two
 * copies of the library in one process see each other's requests.
 */
const STATE: unique symbol = Symbol.for('sessionware.request') as never

interface Attached {
  [STATE]?: RequestState
}

/** Hangs `state` on its request, in front of any state another manager attached before. */
export function attachState(request: object, state: RequestState): RequestState {
  state.next = (request as Attached)[STATE]
  ;(request as Attached)[STATE] = state
  return state
}

/**
 * Makes `alias` (a framework's own context object) find the session state of `request`, so that
 * `getSession(alias)` and `getSession(request)` are the same session.
 */
export function aliasState(alias: object, request: object): void {
  const state = (request as Attached)[STATE]
  if (state === undefined) throw new SessionNotAttachedError()
  ;(alias as Attached)[STATE] = state
}

/** Every state attached to a request, the innermost first. */
export function allStates(request: object): RequestState[] {
  const states: RequestState[] = []
  for (let rs = (request as Attached)[STATE]; rs !== undefined; rs = rs.next) states.push(rs)
  return states
}

/** The state a manager (or, without one, the innermost manager) attached to a request. */
export function findState(request: object, owner?: StateOwner): RequestState | undefined {
  for (let rs = (request as Attached)[STATE]; rs !== undefined; rs = rs.next) {
    if (owner === undefined || rs.owner === owner) return rs
  }
  return undefined
}

/** The shared-prototype hold of `request`'s response (see `RequestState.sharedHold`), if any. */
export function sharedHoldOf(request: object): unknown {
  for (let rs = (request as Attached)[STATE]; rs !== undefined; rs = rs.next) {
    if (rs.sharedHold !== undefined) return rs.sharedHold
  }
  return undefined
}

/** One request's session state, for one manager. */
export class RequestState implements AttachedRequest, CommitWatcher {
  readonly owner: StateOwner
  readonly request: object
  readonly header: string | null | undefined
  readonly transport: () => RequestTransport
  next: RequestState | undefined
  promise: Promise<AnySession> | undefined
  state: SessionState | undefined
  /** The session the cookie gave, when it gave a live one. */
  loaded: LoadedSession | null = null
  /** What the cookie gave. */
  loadedAs: Loaded = 'none'
  /** Handle of an expired record found under the cookie's id. */
  stale: string | null = null
  /** `newSession()` replaced what the cookie gave. */
  replacedByNew = false
  onActivate: ((request: AttachedRequest) => void) | undefined
  /** Writes are refused: `true` (too late for a cookie) or `'upgrade'` (a WebSocket upgrade). */
  locked: boolean | 'upgrade' = false
  /** The handler failed: nothing is committed. */
  discarded = false
  /** Loads (getSession, newSession) still running. */
  loading = 0
  /** Waits to hear when the commit may stop being synchronous (`watchCommit`). */
  watcher: CommitWatcher | null = null
  current: AnySession | undefined = undefined
  adapterState: unknown = undefined
  /**
   * The adapter kit's hold of this request's response when its hooks sit on a prototype that many
   * responses share (`holdNodeResponse`'s `via`): the hooks find it from the response through
   * `res.req`, so the response itself gets no property (each added to an Express response costs
   * time, measured).
   */
  sharedHold: unknown = undefined

  constructor(
    owner: StateOwner,
    request: object,
    header: string | null | undefined,
    transport: () => RequestTransport,
    onActivate: ((request: AttachedRequest) => void) | undefined,
  ) {
    this.owner = owner
    this.request = request
    this.header = header
    this.transport = transport
    this.onActivate = onActivate
  }

  get active(): boolean {
    return this.promise !== undefined
  }

  /** The session, loaded on the first call; every later call shares that load. */
  session(): Promise<AnySession> {
    if (this.promise === undefined) {
      this.#activate()
      this.promise = this.owner.load(this)
    }
    return this.promise
  }

  /** A fresh session replacing whatever the request had. */
  fresh(): Promise<AnySession> {
    this.#activate()
    this.mayWait()
    const promise = this.owner.fresh(this)
    this.promise = promise
    return promise
  }

  readOnly(): void {
    if (this.locked === false) this.locked = true
    if (this.state && this.state.committed === false) this.state.committed = this.locked
  }

  upgradeOnly(): void {
    this.locked = 'upgrade'
    if (this.state) this.state.committed = 'upgrade'
  }

  commit(): string[] | Promise<string[]> {
    if (this.promise === undefined || this.discarded || this.locked === 'upgrade') return []
    return this.owner.commit(this)
  }

  discard(): void {
    this.discarded = true
    this.readOnly()
  }

  watchCommit(watcher: CommitWatcher): boolean {
    if (this.promise !== undefined && this.owner.watch(this)) return false
    this.watcher = watcher
    return true
  }

  /** Tells the watcher, once, that the commit may have to wait from now on. */
  mayWait(): void {
    const watcher = this.watcher
    if (watcher === null) return
    this.watcher = null
    if (this.state !== undefined) this.state.watcher = null
    watcher.mayWait()
  }

  /** Runs the adapter's activation callback, once, before the first load. */
  #activate(): void {
    const callback = this.onActivate
    if (callback === undefined) return
    this.onActivate = undefined
    callback(this)
  }
}

/**
 * The session of a request, from whichever manager an adapter attached to it (the innermost when
 * several are). `Data` and `Flash` type the session; they are not checked at run time.
 *
 * @throws {SessionNotAttachedError} (as a rejection) when no adapter saw the request.
 */
export function getSession<
  Data extends SessionData = RegisteredData,
  Flash extends SessionData = RegisteredFlash<Data>,
>(request: object): Promise<Session<Data, Flash>> {
  const rs = findState(request)
  if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
  return rs.session() as Promise<Session<Data, Flash>>
}

/**
 * A fresh, empty session for the request, ignoring its cookie (see `SessionManager.newSession`).
 *
 * @throws {SessionNotAttachedError} (as a rejection) when no adapter saw the request.
 */
export function newSession<
  Data extends SessionData = RegisteredData,
  Flash extends SessionData = RegisteredFlash<Data>,
>(request: object): Promise<Session<Data, Flash>> {
  const rs = findState(request)
  if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
  return rs.fresh() as Promise<Session<Data, Flash>>
}
