/**
 * The session manager: per-request lazy state, loaded once, committed once before the response
 * headers go out. Exported from `sessionware`.
 *
 * @module
 */
import {
  type InvalidCookieReason,
  SessionConfigError,
  SessionNotAttachedError,
  SessionStoreError,
} from '../errors.ts'
import { commitState, planInput } from './commit.ts'
import { type RequestTransport, readCookie } from './cookie.ts'
import { ADDRESS, USER_AGENT } from './fields.ts'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options.ts'
import { planCommit } from './plan.ts'
import {
  type AttachedRequest,
  attachState,
  findState,
  RequestState,
  type StateOwner,
} from './request.ts'
import { Session, type SessionState } from './session.ts'
import { RequestSessionState, type StateSource } from './state.ts'
import type { LoadedSession, SessionStorage } from './storage.ts'
import type { RegisteredData, RegisteredFlash, SessionData, SessionStore } from './types.ts'

/** A stored session of a subject, for "your sessions" pages. */
export interface SessionInfo {
  /** Opaque, non-secret handle: compare with `session.handle`, pass to `revokeSession`. */
  readonly handle: string
  readonly createdAt: Date
  readonly lastActiveAt: Date
  readonly expiresAt: Date
  /**
   * The `User-Agent` of the session's last recorded request (option `clientInfo`): untrusted
   * text, escape it where you show it. Absent when none was recorded.
   */
  readonly userAgent?: string
  /**
   * The session's last recorded client address (option `clientInfo`). Absent when none was
   * recorded.
   */
  readonly address?: string
}

/** A session manager created by {@link createSessions}. */
export interface SessionManager<
  Data extends SessionData = RegisteredData,
  Flash extends SessionData = RegisteredFlash<Data>,
> {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions
  /**
   * Registers a request. For adapter authors (see `sessionware/adapters/kit`): call once per
   * request with its Cookie header, a function describing the transport (called only when a cookie
   * is written) and, optionally, a callback run once when the request first asks for its session
   * (to hook the response only then).
   */
  attach(
    request: object,
    cookieHeader: string | null | undefined,
    transport: () => RequestTransport,
    onActivate?: (request: AttachedRequest) => void,
  ): AttachedRequest
  /** The request's session, loaded lazily and once (concurrent calls share one load). */
  getSession(request: object): Promise<Session<Data, Flash>>
  /**
   * A fresh, empty session for the request, ignoring the cookie; the previous session (and, for a
   * renewed one, its old id) is deleted when the response goes out, after the new one is stored.
   * Use it at login: fixation-safe. A `Session` obtained before in the same request is replaced:
   * writing to it throws `SessionReplacedError`.
   */
  newSession(request: object): Promise<Session<Data, Flash>>
  /** The active sessions of a subject (server storage with a subject index). */
  listSessions(subject: string): Promise<SessionInfo[]>
  /**
   * Deletes one stored session by handle, only when it belongs to `subject` (checked atomically by
   * the store): the call behind a user's own "your sessions" page. Returns whether a session was
   * deleted.
   */
  revokeSession(handle: string, subject: string): Promise<boolean>
  /**
   * Deletes one stored session by handle, whoever owns it: for administrators. Returns whether a
   * session was deleted.
   */
  adminRevokeSession(handle: string): Promise<boolean>
  /** Deletes every session of a subject, optionally all but one handle; returns how many. */
  revokeSessions(subject: string, options?: { exceptHandle?: string | null }): Promise<number>
}

type IndexedStore = SessionStore &
  Required<Pick<SessionStore, 'listBySubject' | 'deleteBySubject' | 'deleteIfSubject'>>

class Manager implements StateOwner, StateSource {
  readonly options: ResolvedOptions
  readonly storage: SessionStorage
  /** The clock and the storage's rekey, for the states (see `RequestSessionState`). */
  readonly now: () => number
  readonly rekey: (state: SessionState) => void

  constructor(options: ResolvedOptions) {
    this.options = options
    this.storage = options.storage
    this.now = options.clock
    this.rekey = options.storage.rekey
  }

  deadline = (
    state: Pick<SessionState, 'maxAge' | 'lastActiveAt' | 'createdAt'>,
    lastActiveAt: number = state.lastActiveAt,
  ): number => {
    const o = this.options
    const idle = state.maxAge !== undefined ? state.maxAge * 1000 : o.idleTimeoutMs
    const a = idle === null ? Number.POSITIVE_INFINITY : lastActiveAt + idle
    const b =
      o.absoluteTimeoutMs === null
        ? Number.POSITIVE_INFINITY
        : state.createdAt + o.absoluteTimeoutMs
    return Math.min(a, b)
  }

  /**
   * A read-only request refreshes the last-active time once this much of the session's idle window
   * has passed: `touchAfter`, at most half the session's own idle timeout.
   */
  touchDue = (state: SessionState, now?: number): boolean => {
    if (state.isNew || state.invalidated) return false
    const idle = state.maxAge !== undefined ? state.maxAge * 1000 : this.options.idleTimeoutMs
    if (idle === null) return false
    const after = Math.min(this.options.touchAfterMs ?? Number.POSITIVE_INFINITY, idle / 2)
    return (now ?? state.now()) - state.lastActiveAt >= after
  }

  isPersistent = (state: SessionState): boolean =>
    state.persistent ?? this.options.cookie.persistent

  state(from: LoadedSession | null, now: number): SessionState {
    const state = new RequestSessionState(this, from, now)
    if (from === null) this.storage.rekey(state)
    return state
  }

  reject(reason: InvalidCookieReason, rs: RequestState): void {
    this.options.onInvalidCookie?.(reason, rs.request)
  }

  /**
   * Reads what the request's cookie names into `rs.loaded`, `rs.loadedAs` and `rs.stale`: at once
   * when the storage answers synchronously (cookie storage, the memory store), returning
   * undefined; otherwise it returns the storage's pending read, whose result the caller hands to
   * {@link found} (in its own reaction: each `then` in between is one more microtask per request).
   */
  read(rs: RequestState, now: number): Promise<LoadedSession | InvalidCookieReason> | undefined {
    const value = readCookie(rs.header, this.options.cookie.name, this.options.cookie.encoding)
    if (value === undefined) return undefined
    const read = this.storage.read(value, now)
    if (typeof read === 'string' || !('then' in read)) {
      this.found(rs, read, now)
      return undefined
    }
    return read
  }

  /** Records what the cookie gave. */
  found(rs: RequestState, result: LoadedSession | InvalidCookieReason, now: number): void {
    rs.loadedAs = 'invalid'
    if (typeof result === 'string') {
      this.reject(result, rs)
    } else if (this.deadline(result) <= now) {
      this.reject('expired', rs)
      rs.stale = result.handle
    } else {
      rs.loaded = result
      rs.loadedAs = result.forwardedFrom === null ? 'live' : 'forwarded'
    }
  }

  /** The request's session from what was read. */
  open(rs: RequestState, now: number): Session<SessionData, SessionData> {
    const state = this.state(rs.loaded, now)
    rs.state = state
    if (rs.locked !== false) state.committed = rs.locked
    if (rs.watcher !== null && this.watch(rs, now)) rs.mayWait()
    const session = new Session(state)
    rs.current = session
    return session
  }

  /**
   * Loads the request's session. A storage that answers synchronously costs one resolved promise
   * (the one `getSession` returns); only a pending read makes the load wait.
   */
  load(rs: RequestState): Promise<Session<SessionData, SessionData>> {
    const now = this.options.clock()
    let pending: Promise<LoadedSession | InvalidCookieReason> | undefined
    try {
      pending = this.read(rs, now)
      if (pending === undefined) return Promise.resolve(this.open(rs, now))
    } catch (error) {
      return Promise.reject(error)
    }
    rs.loading++
    return pending.then(
      (result) => {
        rs.loading--
        this.found(rs, result, now)
        return this.open(rs, now)
      },
      (error: unknown) => {
        rs.loading--
        throw error
      },
    )
  }

  async fresh(rs: RequestState): Promise<Session<SessionData, SessionData>> {
    rs.loading++
    try {
      const prior = rs.promise
      if (prior !== undefined) {
        try {
          await prior
        } catch {}
      }
      // What the cookie named must end with the new login, including a renewal's old id: read it
      // now unless the request did already.
      if (prior === undefined) {
        const now = this.options.clock()
        const pending = this.read(rs, now)
        if (pending !== undefined) this.found(rs, await pending, now)
      }
      if (rs.state !== undefined) rs.state.replaced = true
      rs.replacedByNew = true
      rs.state = this.state(null, this.options.clock())
      if (rs.locked !== false) rs.state.committed = rs.locked
      const session = new Session(rs.state)
      rs.current = session
      return session
    } finally {
      rs.loading--
    }
  }

  commit(rs: RequestState): string[] | Promise<string[]> {
    const state = rs.state
    if (state === undefined || rs.loading > 0) {
      if (rs.watcher !== null) {
        // A watched response does not wait for the first load (`newSession` ends the watch): that
        // session loads read-only, and what it has due waits for the next request.
        rs.watcher = null
        rs.readOnly()
        return []
      }
      // Still loading: wait. A failed load was the application's error already; nothing to save.
      return (rs.promise as Promise<unknown>).then(
        () => this.commit(rs),
        () => [],
      )
    }
    if (state.committed) return []
    state.committed = true
    // A watched commit stays synchronous: it starts no store work the clock alone made due.
    const quiet = rs.watcher !== null
    rs.watcher = null
    state.watcher = null
    // Still watched and untouched: the plan made when it loaded had nothing to do, and every
    // cause of a write since would have ended the watch. Most requests end here, with no clock
    // read and no plan; anything else is planned (and a quiet plan that writes is refused there).
    if (quiet && !state.changed && !state.invalidated && !state.regenerated && !rs.replacedByNew) {
      return []
    }
    return commitState(this.options, rs, state, quiet)
  }

  watch(rs: RequestState, now?: number): boolean {
    const state = rs.state
    if (state === undefined || rs.loading > 0) return true
    if (state.committed) return false
    const plan = planCommit(planInput(this.options, rs, state, now))
    // A write, a cookie to send, or a store step: the commit may wait or fail.
    if (plan.steps.length > 0 || plan.cookie !== 'keep') return true
    state.watcher = rs
    return false
  }

  attach(
    request: object,
    header: string | null | undefined,
    transport: () => RequestTransport,
    onActivate?: (request: AttachedRequest) => void,
  ): RequestState {
    return attachState(request, new RequestState(this, request, header, transport, onActivate))
  }

  indexedStore(): IndexedStore {
    const store = this.storage.store
    if (
      !store?.capabilities.subjectIndex ||
      !store.listBySubject ||
      !store.deleteBySubject ||
      !store.deleteIfSubject
    ) {
      throw new SessionConfigError(
        'listing and revoking sessions needs server storage with a store that has a subject index',
      )
    }
    return store as IndexedStore
  }
}

async function storeCall<T>(operation: 'list' | 'revoke', run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw new SessionStoreError(operation, { cause })
  }
}

/**
 * Creates a session manager. Wrap handlers with an adapter (`withSessions` from
 * `sessionware/adapters/node` or `sessionware/adapters/fetch`), then call `getSession(request)`.
 *
 * @example
 * ```ts
 * const sessions = createSessions<{ visits: number }>({
 *   storage: createCookieStorage({ codec: createSealedCodec({ keys: [process.env.SESSION_KEY!] }) }),
 * })
 * ```
 * @throws {SessionConfigError} for invalid options.
 */
export function createSessions<
  Data extends SessionData = RegisteredData,
  Flash extends SessionData = RegisteredFlash<Data>,
>(options: SessionOptions): SessionManager<Data, Flash> {
  const manager = new Manager(resolveOptions(options))
  const sessions: SessionManager<Data, Flash> = {
    options: manager.options,
    attach: (request, header, transport, onActivate) =>
      manager.attach(request, header, transport, onActivate),
    getSession(request) {
      const rs = findState(request, manager)
      if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
      return rs.session() as Promise<Session<Data, Flash>>
    },
    newSession(request) {
      const rs = findState(request, manager)
      if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
      return rs.fresh() as Promise<Session<Data, Flash>>
    },
    async listSessions(subject) {
      const store = manager.indexedStore()
      const records = await storeCall('list', () => store.listBySubject(subject))
      return records.map((r) => {
        const info: { -readonly [K in keyof SessionInfo]: SessionInfo[K] } = {
          handle: r.id,
          createdAt: new Date(r.createdAt),
          lastActiveAt: new Date(r.lastActiveAt),
          expiresAt: new Date(r.expiresAt),
        }
        const userAgent = r.fields[USER_AGENT]
        const address = r.fields[ADDRESS]
        if (userAgent !== undefined) info.userAgent = userAgent
        if (address !== undefined) info.address = address
        return info
      })
    },
    async revokeSession(handle, subject) {
      const store = manager.indexedStore()
      if (typeof subject !== 'string' || subject === '') {
        throw new SessionConfigError(
          'revokeSession needs the subject the session must belong to; adminRevokeSession revokes without that check',
        )
      }
      return storeCall('revoke', () => store.deleteIfSubject(handle, subject))
    },
    async adminRevokeSession(handle) {
      const store = manager.indexedStore()
      return storeCall('revoke', async () => {
        const record = await store.get(handle)
        if (record === null) return false
        await store.delete(handle)
        return true
      })
    },
    async revokeSessions(subject, options) {
      const store = manager.indexedStore()
      const exceptId = options?.exceptHandle ?? undefined
      return storeCall('revoke', () =>
        store.deleteBySubject(subject, exceptId === undefined ? undefined : { exceptId }),
      )
    },
  }
  return Object.freeze(sessions)
}
