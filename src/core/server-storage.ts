/**
 * Server storage: the cookie holds a random id, a {@link SessionStore} holds the session under a
 * hash of that id. Exported from `sessionware` as {@link serverStorage}.
 *
 * @module
 */
import { createHash, randomBytes } from 'node:crypto'
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
  return randomBytes(24).toString('base64url')
}

function hash(id: string): string {
  return createHash('sha256').update(id).digest('base64url')
}

async function call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    if (cause instanceof SessionStoreError) throw cause
    throw new SessionStoreError(operation, { cause })
  }
}

function pause(attempt: number): Promise<void> {
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
    return value as unknown as StoredPayload
  }

  function stringify(data: Bag, flash: Bag, maxAge: number | undefined): string {
    const payload: StoredPayload = { d: data }
    for (const _ in flash) {
      payload.f = flash
      break
    }
    if (maxAge !== undefined) payload.m = maxAge
    return serializer.stringify(payload)
  }

  async function create(state: SessionState, record: Omit<SessionRecord, 'id'>): Promise<void> {
    for (let attempt = 0; attempt < 3; attempt++) {
      const result = await call('create', () =>
        store.create({ ...record, id: state.handle as string }),
      )
      if (result.ok) return
      state.rekey(state) // an id collision: practically impossible with 128+ bits, but never adopt
    }
    throw new SessionStoreError('create', { cause: new Error('three id collisions in a row') })
  }

  const storage: SessionStorage = {
    kind: 'server',
    store,
    async read(value: string): Promise<LoadedSession | InvalidCookieReason> {
      if (!ID_FORMAT.test(value)) return 'malformed'
      const handle = handleOfId(value)
      const record = await call('load', () => store.get(handle))
      if (record === null) return 'unknown-id'
      const payload = parsePayload(record.data)
      if (payload === null) return 'malformed'
      return {
        id: value,
        handle,
        createdAt: record.createdAt,
        lastActiveAt: record.lastActiveAt,
        maxAge: payload.m,
        subject: record.subject,
        data: bag(payload.d),
        flash: payload.f ? bag(payload.f) : bag(),
        version: record.version,
        rotated: false,
      }
    },
    rekey(state: SessionState): void {
      const id = newId()
      state.id = id
      state.handle = handleOfId(id)
    },
    handleOf(value: string): string | null {
      return ID_FORMAT.test(value) ? handleOfId(value) : null
    },
    async write(state: SessionState, context: WriteContext): Promise<string | null> {
      const now = state.now()
      const loaded = context.loaded
      if (loaded === null || state.regenerated) {
        await create(state, {
          data: stringify(state.data, context.flash, state.maxAge),
          version: 1,
          createdAt: state.createdAt,
          lastActiveAt: now,
          expiresAt: state.deadline({ ...state, lastActiveAt: now }),
          subject: state.subject,
        })
        if (loaded?.handle && loaded.handle !== state.handle) {
          const old = loaded.handle
          await call('delete', () => store.delete(old))
        }
        return state.id
      }
      let data = state.data
      let flash = context.flash
      let maxAge = state.maxAge
      let subject = state.subject
      let createdAt = loaded.createdAt
      let version = loaded.version
      for (let attempt = 0; ; attempt++) {
        const record: SessionRecord = {
          id: loaded.handle as string,
          data: stringify(data, flash, maxAge),
          version: version + 1,
          createdAt,
          lastActiveAt: now,
          expiresAt: state.deadline({ ...state, createdAt, lastActiveAt: now, maxAge }),
          subject,
        }
        const result: WriteResult = await call('update', () => store.update(record, version))
        if (result.ok) return state.id
        if (result.reason !== 'conflict' || result.current === null) return null
        if (attempt >= context.retries) throw new SessionConflictError(attempt + 1)
        const current = result.current
        const payload = parsePayload(current.data)
        if (payload === null) return null
        const merged = replay(state.ops, bag(payload.d), bag(payload.f ?? {}), state.data)
        data = merged.data
        flash = merged.flash
        maxAge = merged.maxAge ? merged.maxAge[0] : payload.m
        subject = merged.subject ? merged.subject[0] : current.subject
        createdAt = current.createdAt
        version = current.version
        await pause(attempt)
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
