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
import {
  clearCookie,
  isLocalPlainHttp,
  type RequestTransport,
  readCookie,
  setCookie,
} from './cookie.ts'
import { type ResolvedOptions, resolveOptions, type SessionOptions } from './options.ts'
import { type Bag, bag, Session, type SessionState } from './session.ts'
import type { LoadedSession, SessionStorage } from './storage.ts'
import type { SessionData, SessionStore } from './types.ts'

/** A stored session of a subject, for "your sessions" pages. */
export interface SessionInfo {
  /** Opaque, non-secret handle: compare with `session.handle`, pass to `revokeSession`. */
  readonly handle: string
  readonly createdAt: Date
  readonly lastActiveAt: Date
  readonly expiresAt: Date
}

/** The per-request handle an adapter holds. */
export interface RequestSessions {
  /** True once `getSession` or `newSession` was called for the request. */
  readonly active: boolean
  /**
   * Saves what must be saved and returns the Set-Cookie header values to send (often none). Call
   * once, before the response headers go out. Rejects with a typed error (store failure, cookie too
   * large, conflict) for the framework's error path.
   */
  commit(): Promise<string[]>
}

/** A session manager created by {@link createSessions}. */
export interface Sessions<
  Data extends SessionData = SessionData,
  Flash extends SessionData = Data,
> {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions
  /**
   * Registers a request. For adapter authors: call once per request with its Cookie header and a
   * function describing the transport (called only when a cookie is written).
   */
  attach(
    request: object,
    cookieHeader: string | null | undefined,
    transport: () => RequestTransport,
  ): RequestSessions
  /** The request's session, loaded lazily and once (concurrent calls share one load). */
  getSession(request: object): Promise<Session<Data, Flash>>
  /**
   * A fresh, empty session for the request, ignoring the cookie; the previous stored session is
   * deleted when the response goes out. Use it at login: fixation-safe.
   */
  newSession(request: object): Promise<Session<Data, Flash>>
  /** The active sessions of a subject (server storage with a subject index). */
  listSessions(subject: string): Promise<SessionInfo[]>
  /**
   * Deletes one stored session by handle. With `subject`, only when the session belongs to that
   * subject. Returns whether a session was deleted.
   */
  revokeSession(handle: string, subject?: string): Promise<boolean>
  /** Deletes every session of a subject, optionally all but one handle; returns how many. */
  revokeSessions(subject: string, options?: { exceptHandle?: string | null }): Promise<number>
}

const registry = new WeakMap<object, RequestState>()

class RequestState implements RequestSessions {
  readonly manager: Manager
  readonly header: string | null | undefined
  readonly transport: () => RequestTransport
  readonly request: object
  next: RequestState | undefined
  promise: Promise<Session<SessionData, SessionData>> | undefined
  state: SessionState | undefined
  loaded: LoadedSession | null = null
  /** A cookie was presented and must be cleared if nothing replaces it. */
  presented = false
  /** Handle of a stored session that newSession() replaced. */
  replaced: string | null = null

  constructor(
    manager: Manager,
    request: object,
    header: string | null | undefined,
    transport: () => RequestTransport,
  ) {
    this.manager = manager
    this.request = request
    this.header = header
    this.transport = transport
  }

  get active(): boolean {
    return this.promise !== undefined
  }

  commit(): Promise<string[]> {
    if (this.promise === undefined) return Promise.resolve([])
    return this.manager.commit(this)
  }
}

class Manager {
  readonly options: ResolvedOptions
  readonly storage: SessionStorage

  constructor(options: ResolvedOptions) {
    this.options = options
    this.storage = options.storage
  }

  deadline = (state: SessionState): number => {
    const o = this.options
    const idle = state.maxAge !== undefined ? state.maxAge * 1000 : o.idleTimeoutMs
    const a = idle === null ? Number.POSITIVE_INFINITY : state.lastActiveAt + idle
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
  touchDue = (state: SessionState): boolean => {
    if (state.isNew || state.invalidated) return false
    const idle = state.maxAge !== undefined ? state.maxAge * 1000 : this.options.idleTimeoutMs
    if (idle === null) return false
    const after = Math.min(this.options.touchAfterMs ?? Number.POSITIVE_INFINITY, idle / 2)
    return state.now() - state.lastActiveAt >= after
  }

  state(from: LoadedSession | null, now: number): SessionState {
    const state: SessionState = {
      id: from ? from.id : null,
      handle: from ? from.handle : null,
      isNew: from === null,
      createdAt: from ? from.createdAt : now,
      lastActiveAt: from ? from.lastActiveAt : now,
      renewedAt: from ? from.renewedAt : now,
      maxAge: from?.maxAge,
      subject: from?.subject,
      data: from ? from.data : bag(),
      flashIn: from ? from.flash : bag(),
      flashOut: null,
      ops: [],
      changed: false,
      invalidated: false,
      regenerated: false,
      committed: false,
      deadline: this.deadline,
      touchDue: this.touchDue,
      now: this.options.clock,
      rekey: this.storage.rekey,
    }
    if (from === null) this.storage.rekey(state)
    return state
  }

  reject(reason: InvalidCookieReason, rs: RequestState): void {
    this.options.onInvalidCookie?.(reason, rs.request)
  }

  async load(rs: RequestState): Promise<Session<SessionData, SessionData>> {
    const value = readCookie(rs.header, this.options.cookie.name)
    const now = this.options.clock()
    let loaded: LoadedSession | null = null
    if (value !== undefined) {
      rs.presented = true
      const result = await this.storage.read(value, now)
      if (typeof result === 'string') {
        this.reject(result, rs)
      } else if (this.deadline(this.state(result, now)) <= now) {
        this.reject('expired', rs)
        if (result.handle !== null) rs.replaced = result.handle
      } else {
        loaded = result
      }
    }
    rs.loaded = loaded
    rs.state = this.state(loaded, now)
    return new Session(rs.state)
  }

  async fresh(rs: RequestState): Promise<Session<SessionData, SessionData>> {
    const prior = rs.promise
    if (prior !== undefined) {
      try {
        await prior
      } catch {}
    }
    if (rs.loaded?.handle) rs.replaced = rs.loaded.handle
    else if (rs.replaced === null && prior === undefined) {
      const value = readCookie(rs.header, this.options.cookie.name)
      if (value !== undefined) {
        rs.presented = true
        rs.replaced = this.storage.handleOf(value)
      }
    }
    rs.loaded = null
    rs.state = this.state(null, this.options.clock())
    return new Session(rs.state)
  }

  secure(rs: RequestState): boolean {
    return this.options.cookie.secure ?? !isLocalPlainHttp(rs.transport())
  }

  cookieFor(rs: RequestState, value: string, state: SessionState, now: number): string {
    const cookie = this.options.cookie
    let maxAge: number | undefined
    if (cookie.persistent) {
      const left = this.deadline({ ...state, lastActiveAt: now }) - now
      if (Number.isFinite(left)) maxAge = Math.max(0, Math.ceil(left / 1000))
    }
    return setCookie(cookie, value, maxAge, this.secure(rs), now)
  }

  async commit(rs: RequestState): Promise<string[]> {
    try {
      await rs.promise
    } catch {
      return [] // the load failed and the application saw the error; nothing to save
    }
    const state = rs.state as SessionState
    if (state.committed) return []
    state.committed = true
    const storage = this.storage
    const clear = (): string[] =>
      rs.presented ? [clearCookie(this.options.cookie, this.secure(rs))] : []
    if (state.invalidated) {
      if (rs.loaded?.handle) await storage.destroy(rs.loaded.handle)
      if (rs.replaced) await storage.destroy(rs.replaced)
      return clear()
    }
    if (rs.replaced) await storage.destroy(rs.replaced)
    const loaded = rs.loaded
    if (loaded === null && !state.changed) return clear() // an anonymous visitor: nothing stored
    let flash: Bag = state.flashIn
    if (state.flashOut !== null) flash = Object.assign(bag(state.flashIn), state.flashOut)
    const context = { loaded, flash, retries: this.options.conflictRetries }
    const now = this.options.clock()
    const renewal = this.options.renewalIntervalMs
    if (
      renewal !== null &&
      storage.kind === 'server' &&
      loaded !== null &&
      !loaded.forwarded &&
      !state.regenerated &&
      now - state.renewedAt >= renewal
    ) {
      const value = await storage.renew(state, context, this.options.renewalGraceMs)
      return value === null ? [] : [this.cookieFor(rs, value, state, now)]
    }
    if (state.changed || loaded?.rotated) {
      const value = await storage.write(state, context)
      if (value === null) return [] // destroyed by another request meanwhile: never resurrect
      if (storage.kind === 'server' && !this.options.cookie.persistent && loaded !== null) {
        if (!state.regenerated) return []
      }
      return [this.cookieFor(rs, value, state, now)]
    }
    if (loaded !== null && this.touchDue(state)) {
      const value = await storage.touch(state, context)
      if (loaded.forwarded) return [] // the renewing response carried the new id
      if (storage.kind === 'server' && !this.options.cookie.persistent) return []
      return [this.cookieFor(rs, value, state, now)]
    }
    return []
  }

  attach(
    request: object,
    header: string | null | undefined,
    transport: () => RequestTransport,
  ): RequestState {
    const rs = new RequestState(this, request, header, transport)
    rs.next = registry.get(request)
    registry.set(request, rs)
    return rs
  }

  find(request: object): RequestState {
    for (let rs = registry.get(request); rs !== undefined; rs = rs.next) {
      if (rs.manager === this) return rs
    }
    throw new SessionNotAttachedError()
  }

  indexedStore(): SessionStore & Required<Pick<SessionStore, 'listBySubject' | 'deleteBySubject'>> {
    const store = this.storage.store
    if (!store?.capabilities.subjectIndex || !store.listBySubject || !store.deleteBySubject) {
      throw new SessionConfigError(
        'listing and revoking sessions needs server storage with a store that has a subject index',
      )
    }
    return store as SessionStore & Required<Pick<SessionStore, 'listBySubject' | 'deleteBySubject'>>
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
 *   storage: cookieStorage({ codec: createSealedCodec({ keys: [process.env.SESSION_KEY!] }) }),
 * })
 * ```
 * @throws {SessionConfigError} for invalid options.
 */
export function createSessions<
  Data extends SessionData = SessionData,
  Flash extends SessionData = Data,
>(options: SessionOptions): Sessions<Data, Flash> {
  const manager = new Manager(resolveOptions(options))
  const sessions: Sessions<Data, Flash> = {
    options: manager.options,
    attach: (request, header, transport) => manager.attach(request, header, transport),
    getSession(request) {
      try {
        const rs = manager.find(request)
        rs.promise ??= manager.load(rs)
        return rs.promise as Promise<Session<Data, Flash>>
      } catch (error) {
        return Promise.reject(error)
      }
    },
    newSession(request) {
      try {
        const rs = manager.find(request)
        const promise = manager.fresh(rs)
        rs.promise = promise
        return promise as Promise<Session<Data, Flash>>
      } catch (error) {
        return Promise.reject(error)
      }
    },
    async listSessions(subject) {
      const store = manager.indexedStore()
      const records = await storeCall('list', () => store.listBySubject(subject))
      return records.map((r) => ({
        handle: r.id,
        createdAt: new Date(r.createdAt),
        lastActiveAt: new Date(r.lastActiveAt),
        expiresAt: new Date(r.expiresAt),
      }))
    },
    async revokeSession(handle, subject) {
      const store = manager.indexedStore()
      return storeCall('revoke', async () => {
        const record = await store.get(handle)
        if (record === null || (subject !== undefined && record.subject !== subject)) return false
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

/**
 * The session of a request, from whichever manager an adapter attached to it (the innermost when
 * several are). `Data` and `Flash` type the session; they are not checked at run time.
 *
 * @throws {SessionNotAttachedError} (as a rejection) when no adapter saw the request.
 */
export function getSession<
  Data extends SessionData = SessionData,
  Flash extends SessionData = Data,
>(request: object): Promise<Session<Data, Flash>> {
  const rs = registry.get(request)
  if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
  rs.promise ??= rs.manager.load(rs)
  return rs.promise as Promise<Session<Data, Flash>>
}

/**
 * A fresh, empty session for the request, ignoring its cookie (see {@link Sessions.newSession}).
 *
 * @throws {SessionNotAttachedError} (as a rejection) when no adapter saw the request.
 */
export function newSession<
  Data extends SessionData = SessionData,
  Flash extends SessionData = Data,
>(request: object): Promise<Session<Data, Flash>> {
  const rs = registry.get(request)
  if (rs === undefined) return Promise.reject(new SessionNotAttachedError())
  const promise = rs.manager.fresh(rs)
  rs.promise = promise
  return promise as Promise<Session<Data, Flash>>
}
