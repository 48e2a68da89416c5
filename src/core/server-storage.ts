/**
 * Server storage: the cookie holds a random id, a {@link SessionStore} holds the session under a
 * hash of that id. Exported from `sessionware` as {@link serverStorage}.
 *
 * @module
 */
import * as crypto from 'node:crypto'
import { setImmediate } from 'node:timers'
import {
  type InvalidCookieReason,
  SessionConfigError,
  SessionConflictError,
  SessionStoreError,
  type StoreOperation,
} from '../errors.ts'
import { jsonSerializer } from './serializer.ts'
import { type Bag, bag, replay, type SessionState } from './session.ts'
import {
  isPlainObject,
  type LoadedSession,
  type SessionStorage,
  type StoredPayload,
  type WriteContext,
} from './storage.ts'
import type { Serializer, SessionRecord, SessionStore, WriteResult } from './types.ts'

/** Options of {@link serverStorage}. */
export interface ServerStorageOptions {
  /** The store: `createMemoryStore()`, `createSqliteStore(path)`, … Required. */
  store: SessionStore
  /**
   * Makes a new session id. Must return at least 128 bits from a CSPRNG, as 22 to 256 characters
   * of `A-Z a-z 0-9 - _ . ~`.
   *
   * @default 24 random bytes (192 bits) from node:crypto, base64url (32 characters)
   */
  generateId?: () => string
  /**
   * Store records under a SHA-256 hash of the id rather than the id itself, so a leaked store leaks
   * no usable cookie. Turn off only for compatibility with a peer that reads the raw id.
   *
   * @default true
   */
  hashIds?: boolean
  /**
   * Turns the stored payload into text and back.
   *
   * @default jsonSerializer
   */
  serializer?: Serializer
}

const ID_FORMAT = /^[A-Za-z0-9\-_.~]{22,256}$/

function defaultId(): string {
  return crypto.randomBytes(24).toString('base64url')
}

/** One-shot `crypto.hash` (Node 20.12+, Bun, Deno) allocates no Hash object per call: measured faster. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: string) => string })
  .hash

function hash(id: string): string {
  if (oneShot) return oneShot('sha256', id, 'base64url')
  return crypto.createHash('sha256').update(id).digest('base64url')
}

async function call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    if (cause instanceof SessionStoreError) throw cause
    throw new SessionStoreError(operation, { cause })
  }
}

/**
 * Backoff between replays of a conflicting write: the first retry only yields to the event loop (a
 * store round trip already separates two writers); later ones wait a random time that doubles up
 * to 32 ms, so that many writers on one hot session spread out instead of colliding again.
 */
function pause(attempt: number): Promise<void> {
  if (attempt === 0) return new Promise((resolve) => setImmediate(resolve))
  const ms = Math.random() * Math.min(2 ** attempt, 32)
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Keeps sessions in a server-side store; the cookie carries only a random id. Unknown ids are
 * never adopted: a request presenting one gets a new id. Logout (`invalidate()`) deletes the record,
 * so a copied cookie dies with it.
 *
 * @throws {SessionConfigError} when `store` is missing or speaks another contract version.
 */
export function serverStorage(options: ServerStorageOptions): SessionStorage {
  const store = options?.store
  if (!store || typeof store.get !== 'function' || typeof store.update !== 'function') {
    throw new SessionConfigError('serverStorage needs a store, such as createMemoryStore()')
  }
  if (store.contractVersion !== 1) {
    throw new SessionConfigError(
      `store speaks contract version ${String(store.contractVersion)}; this sessionware speaks 1`,
    )
  }
  const serializer = options.serializer ?? jsonSerializer
  const handleOfId = (options.hashIds ?? true) ? hash : (id: string) => id
  const generate = options.generateId ?? defaultId
  if (typeof generate !== 'function') throw new SessionConfigError('generateId must be a function')

  function newId(): string {
    const id = generate()
    if (typeof id !== 'string' || !ID_FORMAT.test(id)) {
      throw new SessionConfigError(
        'generateId must return 22 to 256 characters of A-Z a-z 0-9 - _ . ~',
      )
    }
    return id
  }

  function parsePayload(text: string): StoredPayload | null {
    let value: unknown
    try {
      value = serializer.parse(text)
    } catch {
      return null
    }
    if (!isPlainObject(value) || !isPlainObject(value.d)) return null
    if (value.f !== undefined && !isPlainObject(value.f)) return null
    if (value.m !== undefined && typeof value.m !== 'number') return null
    if (value.n !== undefined && typeof value.n !== 'number') return null
    if (value.r !== undefined && typeof value.r !== 'string') return null
    return value as unknown as StoredPayload
  }

  /** The payload of a state's data; `n` only when it differs from the creation time. */
  function stringify(
    state: SessionState,
    data: Bag,
    flash: Bag,
    maxAge: number | undefined,
  ): string {
    const payload: StoredPayload = { d: data }
    for (const _ in flash) {
      payload.f = flash
      break
    }
    if (maxAge !== undefined) payload.m = maxAge
    if (state.renewedAt !== state.createdAt) payload.n = state.renewedAt
    return serializer.stringify(payload)
  }

  async function create(state: SessionState, context: WriteContext, now: number): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const record: SessionRecord = {
        id: state.handle as string,
        data: stringify(state, state.data, context.flash, state.maxAge),
        version: 1,
        createdAt: state.createdAt,
        lastActiveAt: now,
        expiresAt: state.deadline({ ...state, lastActiveAt: now }),
        subject: state.subject,
      }
      const result = await call('create', () => store.create(record))
      if (result.ok) return
      state.rekey(state) // an id collision: practically impossible with 128+ bits, but never adopt
    }
    throw new SessionStoreError('create', { cause: new Error('three id collisions in a row') })
  }

  /** A record to compare-and-set against, its payload parsed; a renewed one is followed. */
  interface Target {
    handle: string
    record: SessionRecord
    payload: StoredPayload
  }

  /** Follows a renewal pointer (`r`) once; null when the record is gone or unreadable. */
  async function follow(record: SessionRecord | null): Promise<Target | null> {
    if (record === null) return null
    let payload = parsePayload(record.data)
    if (payload?.r !== undefined) {
      const handle = payload.r
      record = await call('load', () => store.get(handle))
      if (record === null) return null
      payload = parsePayload(record.data)
      if (payload?.r !== undefined) return null
    }
    return payload === null ? null : { handle: record.id, record, payload }
  }

  /** What a write puts into a record besides its identity and times. */
  interface View {
    data: Bag
    flash: Bag
    maxAge: number | undefined
    subject: string | undefined
    createdAt: number
  }

  /** The request's own view of the session. */
  function viewOf(state: SessionState, context: WriteContext): View {
    return {
      data: state.data,
      flash: context.flash,
      maxAge: state.maxAge,
      subject: state.subject,
      createdAt: state.createdAt,
    }
  }

  /** The request's operations replayed onto a newer stored version. */
  function rebase(state: SessionState, target: Target): View {
    const merged = replay(state.ops, bag(target.payload.d), bag(target.payload.f ?? {}), state.data)
    return {
      data: merged.data,
      flash: merged.flash,
      maxAge: merged.maxAge ? merged.maxAge[0] : target.payload.m,
      subject: merged.subject ? merged.subject[0] : target.record.subject,
      createdAt: target.record.createdAt,
    }
  }

  /**
   * Compare-and-set of `view` onto `handle` at `version`; on a conflict the request's operations
   * are replayed onto the newer version (following a renewal that happened meanwhile) and the write
   * is retried. `ok` is false when the session is gone; `moved` when it now lives under another
   * handle (renewed meanwhile).
   */
  async function update(
    state: SessionState,
    handle: string,
    version: number,
    view: View,
    retries: number,
    now: number,
  ): Promise<{ ok: boolean; moved: boolean }> {
    let moved = false
    for (let attempt = 0; ; attempt++) {
      const record: SessionRecord = {
        id: handle,
        data: stringify(state, view.data, view.flash, view.maxAge),
        version: version + 1,
        createdAt: view.createdAt,
        lastActiveAt: now,
        expiresAt: state.deadline({ ...state, ...view, lastActiveAt: now }),
        subject: view.subject,
      }
      const result: WriteResult = await call('update', () => store.update(record, version))
      if (result.ok) return { ok: true, moved }
      if (result.reason !== 'conflict') return { ok: false, moved }
      if (attempt >= retries) throw new SessionConflictError(attempt + 1)
      const target = await follow(result.current)
      if (target === null) return { ok: false, moved }
      if (target.handle !== handle) moved = true
      else await pause(attempt)
      view = rebase(state, target)
      handle = target.handle
      version = target.record.version
    }
  }

  const storage: SessionStorage = {
    kind: 'server',
    store,
    async read(value: string): Promise<LoadedSession | InvalidCookieReason> {
      if (!ID_FORMAT.test(value)) return 'malformed'
      const handle = handleOfId(value)
      const record = await call('load', () => store.get(handle))
      if (record === null) return 'unknown-id'
      const target = await follow(record)
      if (target === null) return parsePayload(record.data) === null ? 'malformed' : 'unknown-id'
      const { payload } = target
      return {
        id: value,
        handle: target.handle,
        createdAt: target.record.createdAt,
        lastActiveAt: target.record.lastActiveAt,
        renewedAt: payload.n ?? target.record.createdAt,
        forwarded: target.handle !== handle,
        maxAge: payload.m,
        subject: target.record.subject,
        data: bag(payload.d),
        flash: payload.f ? bag(payload.f) : bag(),
        version: target.record.version,
        rotated: false,
      }
    },
    rekey(state: SessionState): void {
      const id = newId()
      state.id = id
      state.handle = handleOfId(id)
      state.renewedAt = state.now()
    },
    handleOf(value: string): string | null {
      return ID_FORMAT.test(value) ? handleOfId(value) : null
    },
    async write(state: SessionState, context: WriteContext): Promise<string | null> {
      const now = state.now()
      const loaded = context.loaded
      if (loaded === null || state.regenerated) {
        await create(state, context, now)
        if (loaded?.handle && loaded.handle !== state.handle) {
          const old = loaded.handle
          await call('delete', () => store.delete(old))
        }
        return state.id
      }
      const handle = loaded.handle as string
      const view = viewOf(state, context)
      const result = await update(state, handle, loaded.version, view, context.retries, now)
      // No cookie when the session is gone (never resurrect it) or lives under a renewed id now.
      return result.ok && !result.moved && !loaded.forwarded ? state.id : null
    },
    async renew(
      state: SessionState,
      context: WriteContext,
      graceMs: number,
    ): Promise<string | null> {
      const loaded = context.loaded as LoadedSession
      const oldHandle = loaded.handle as string
      const now = state.now()
      storage.rekey(state)
      await create(state, context, now)
      // The old record becomes a pointer to the new one until the grace window ends. Requests in
      // flight with the old id follow it; their writes are replayed onto the new record.
      const pointer = serializer.stringify({ d: {}, r: state.handle })
      let version = loaded.version
      for (let attempt = 0; ; attempt++) {
        const record: SessionRecord = {
          id: oldHandle,
          data: pointer,
          version: version + 1,
          createdAt: state.createdAt,
          lastActiveAt: now,
          expiresAt: Math.min(now + graceMs, state.deadline({ ...state, lastActiveAt: now })),
          subject: undefined,
        }
        const result = await call('update', () => store.update(record, version))
        if (result.ok) return state.id
        const newHandle = state.handle as string
        if (result.reason !== 'conflict' || result.current === null || attempt >= context.retries) {
          await call('delete', () => store.delete(newHandle))
          if (result.reason === 'conflict' && result.current === null) return null
          throw new SessionConflictError(attempt + 1)
        }
        const current = result.current
        const payload = parsePayload(current.data)
        if (payload === null || payload.r !== undefined) {
          // Renewed by another request meanwhile: drop ours, write the changes onto theirs.
          await call('delete', () => store.delete(newHandle))
          const target = await follow(current)
          if (target !== null) {
            const view = rebase(state, target)
            await update(state, target.handle, target.record.version, view, context.retries, now)
          }
          return null
        }
        // Changed meanwhile: replay this request's operations onto it, into the new record too.
        const target: Target = { handle: oldHandle, record: current, payload }
        const written = await update(state, newHandle, attempt + 1, rebase(state, target), 0, now)
        if (!written.ok || written.moved) {
          throw new SessionConflictError(attempt + 1)
        }
        version = current.version
      }
    },
    async touch(state: SessionState): Promise<string> {
      const now = state.now()
      const handle = state.handle as string
      await call('touch', () =>
        store.touch(handle, now, state.deadline({ ...state, lastActiveAt: now })),
      )
      return state.id as string
    },
    async destroy(handle: string): Promise<void> {
      await call('delete', () => store.delete(handle))
    },
  }
  return Object.freeze(storage)
}
