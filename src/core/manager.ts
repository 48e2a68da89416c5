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
import { attachState, findState, RequestState, type StateOwner } from './request.ts'
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
   * Makes the session read-only: for an adapter that can no longer add a Set-Cookie header (the
   * headers were sent before the request asked for its session). Writes then throw
   * `SessionCommittedError`.
   */
  readOnly(): void
  /**
   * Saves what must be saved and returns the Set-Cookie header values to send (often none). Call
   * once, before the response headers go out. Returns the array directly when no store I/O is
   * needed (cookie storage, or a session that was only read), a promise otherwise. Throws or
   * rejects with a typed error (store failure, cookie too large, conflict) for the framework's
   * error path.
   */
  commit(): string[] | Promise<string[]>
}

/** A session manager created by {@link createSessions}. */
export interface Sessions<
  Data extends SessionData = SessionData,
  Flash extends SessionData = Data,
> {
  /** The resolved, frozen options. */
  readonly options: ResolvedOptions
  /**
   * Registers a request. For adapter authors: call once per request with its Cookie header, a
   * function describing the transport (called only when a cookie is written) and, optionally, a
   * callback run once when the request first asks for its session (to hook the response only then).
   */
  attach(
    request: object,
    cookieHeader: string | null | undefined,
    transport: () => RequestTransport,
    onActivate?: (request: RequestSessions) => void,
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

class Manager implements StateOwner {
  readonly options: ResolvedOptions
  readonly storage: SessionStorage

  constructor(options: ResolvedOptions) {
    this.options = options
    this.storage = options.storage
  }

  deadline = (state: Pick<SessionState, 'maxAge' | 'lastActiveAt' | 'createdAt'>): number => {
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
    rs.loading++
    try {
      const value = readCookie(rs.header, this.options.cookie.name)
      const now = this.options.clock()
      let loaded: LoadedSession | null = null
      if (value !== undefined) {
        rs.presented = true
        const read = this.storage.read(value, now)
        const result = typeof read === 'string' || !('then' in read) ? read : await read
        if (typeof result === 'string') {
          this.reject(result, rs)
        } else if (this.deadline(result) <= now) {
          this.reject('expired', rs)
          if (result.handle !== null) rs.replaced = result.handle
        } else {
          loaded = result
        }
      }
      rs.loaded = loaded
      rs.state = this.state(loaded, now)
      if (rs.locked) rs.state.committed = true
      return new Session(rs.state)
    } finally {
      rs.loading--
    }
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
      if (rs.locked) rs.state.committed = true
      return new Session(rs.state)
    } finally {
      rs.loading--
    }
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

  commit(rs: RequestState): string[] | Promise<string[]> {
    const state = rs.state
    if (state === undefined || rs.loading > 0) {
      // Still loading: wait. A failed load was the application's error already; nothing to save.
      return (rs.promise as Promise<unknown>).then(
        () => this.commit(rs),
        () => [],
      )
    }
    if (state.committed) return []
    state.committed = true
    const storage = this.storage
    const loaded = rs.loaded
    const clear = (): string[] =>
      rs.presented ? [clearCookie(this.options.cookie, this.secure(rs))] : []
    if (state.invalidated) {
      const handles = [loaded?.handle, rs.replaced].filter((h): h is string => Boolean(h))
      if (handles.length === 0) return clear()
      return Promise.all(handles.map((handle) => storage.destroy(handle))).then(clear)
    }
    if (rs.replaced) {
      const replaced = rs.replaced
      return Promise.resolve(storage.destroy(replaced)).then(() => this.save(rs, state, loaded))
    }
    return this.save(rs, state, loaded)
  }

  /** The part of a commit after deletions: write, renew, touch or nothing. */
  save(
    rs: RequestState,
    state: SessionState,
    loaded: LoadedSession | null,
  ): string[] | Promise<string[]> {
    const storage = this.storage
    if (loaded === null && !state.changed) {
      // An anonymous visitor: nothing stored. A cookie that could not be used is cleared.
      return rs.presented ? [clearCookie(this.options.cookie, this.secure(rs))] : []
    }
    const now = this.options.clock()
    const renewal = this.options.renewalIntervalMs
    const renew =
      renewal !== null &&
      storage.kind === 'server' &&
      loaded !== null &&
      !loaded.forwarded &&
      !state.regenerated &&
      now - state.renewedAt >= renewal
    const write = state.changed || loaded?.rotated === true
    const touch = !renew && !write && loaded !== null && this.touchDue(state)
    if (!renew && !write && !touch) return [] // read only: the common case, no I/O
    let flash: Bag = state.flashIn
    if (state.flashOut !== null) flash = Object.assign(bag(state.flashIn), state.flashOut)
    const context = { loaded, flash, retries: this.options.conflictRetries }
    // Server storage with a browser-session cookie needs no Set-Cookie unless the id changes.
    const quiet = storage.kind === 'server' && !this.options.cookie.persistent && loaded !== null
    const done = (value: string | null, idChanged: boolean): string[] => {
      if (value === null || loaded?.forwarded) return [] // gone meanwhile, or renewed elsewhere
      if (quiet && !idChanged) return []
      return [this.cookieFor(rs, value, state, now)]
    }
    if (renew) {
      return storage
        .renew(state, context, this.options.renewalGraceMs)
        .then((value) => done(value, true))
    }
    const result = write ? storage.write(state, context) : storage.touch(state, context)
    if (typeof result === 'string' || result === null) return done(result, state.regenerated)
    return result.then((value) => done(value, state.regenerated))
  }

  attach(
    request: object,
    header: string | null | undefined,
    transport: () => RequestTransport,
    onActivate?: (request: RequestSessions) => void,
  ): RequestState {
    return attachState(request, new RequestState(this, request, header, transport, onActivate))
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
