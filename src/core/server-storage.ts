/**
 * Server storage: the cookie holds a random id, a {@link SessionStore} holds the session under a
 * hash of that id. Exported from `sessionware` as {@link createServerStorage}.
 *
 * @module
 */
import {
  type InvalidCookieReason,
  SessionConfigError,
  SessionConflictError,
  SessionStoreError,
  type StoreOperation,
} from '../errors.ts'
import { applyPatch, decodeFieldMap, decodeFields, RENEWED_AT } from './fields.ts'
import { type LentRecord, patchNowOf, type ReadNow, readNowOf } from './read-now.ts'
import { jsonSerializer } from './serializer.ts'
import type { SessionState } from './session.ts'
import { defaultId, ID_FORMAT, IdHandles } from './session-ids.ts'
import { allFields, clientFields, patchOf } from './state-fields.ts'
import type { LoadedSession, SessionStorage, WriteOutcome } from './storage.ts'
import { StoredSession } from './stored-session.ts'
import {
  type PatchResult,
  type Serializer,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
  STORE_CONTRACT_VERSION,
} from './types.ts'

/** Options of {@link createServerStorage}. */
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
   * How many session ids keep their hash (the store key, `hashIds`) in memory, so a session seen
   * again skips the SHA-256 and the id's format check. Only ids this process issued or found a
   * record for are kept, never one a client merely sent. Like cookie storage's decode cache, this
   * keeps up to this many live ids in process memory (and so in a heap snapshot). Direct-mapped
   * like that cache: an id takes the slot of an older one. `0` turns it off; up to 1,048,576
   * (20 bytes a slot, allocated when the storage is created; a slot in use holds the id, a slice
   * that keeps its request's Cookie header alive, and its hash: with node's 16 KB limit on
   * headers at most 4 MB for 256 slots, typically a few hundred bytes each). No effect with
   * `hashIds: false`. Kept small for the same reason as the decode cache: 65,536 slots gained
   * nothing over 256 with 10,000 sessions in rotation.
   *
   * @default 256
   */
  idCacheSize?: number
  /**
   * Turns each stored value into text and back: every data and flash value is its own store field,
   * encoded on its own, so a write sends only the values that changed.
   *
   * @default jsonSerializer
   */
  serializer?: Serializer
  /**
   * How many times a renewal retries its compare-and-set when a concurrent request wrote to the
   * session in the same instant (its changes are merged in each time) before
   * `SessionConflictError` is thrown. Ordinary writes never conflict: they are field-level patches.
   *
   * @default 5
   */
  conflictRetries?: number
}

/** Pointers followed before a write gives up: a session renewed again within its grace window. */
const MAX_HOPS = 3

/** A store's failure, as the `SessionStoreError` it surfaces as. */
function storeError(operation: StoreOperation, cause: unknown): SessionStoreError {
  return cause instanceof SessionStoreError ? cause : new SessionStoreError(operation, { cause })
}

async function call<T>(operation: StoreOperation, run: () => Promise<T>): Promise<T> {
  try {
    return await run()
  } catch (cause) {
    throw storeError(operation, cause)
  }
}

const rejectLoad = (cause: unknown): never => {
  throw storeError('load', cause)
}

const rejectUpdate = (cause: unknown): never => {
  throw storeError('update', cause)
}

/**
 * Keeps sessions in a server-side store; the cookie carries only a random id. Unknown ids are
 * never adopted: a request presenting one gets a new id. Logout (`invalidate()`) deletes the record,
 * so a copied cookie dies with it. A write sends only what changed, as one atomic patch.
 *
 * @throws {SessionConfigError} when `store` is missing or speaks another contract version.
 */
export function createServerStorage(options: ServerStorageOptions): SessionStorage {
  const store = options?.store
  if (!store || typeof store.get !== 'function' || typeof store.patch !== 'function') {
    throw new SessionConfigError('createServerStorage needs a store, such as createMemoryStore()')
  }
  if (store.contractVersion !== STORE_CONTRACT_VERSION) {
    throw new SessionConfigError(
      `store speaks contract version ${String(store.contractVersion)}; this sessionware speaks ${STORE_CONTRACT_VERSION}`,
    )
  }
  const serializer = options.serializer ?? jsonSerializer
  const handles = new IdHandles(options.hashIds ?? true, options.idCacheSize ?? 256)
  const generate = options.generateId ?? defaultId
  if (typeof generate !== 'function') throw new SessionConfigError('generateId must be a function')
  const retries = options.conflictRetries ?? 5
  if (!Number.isSafeInteger(retries) || retries < 0) {
    throw new SessionConfigError(
      `conflictRetries must be a non-negative integer. Received: ${String(retries)}`,
    )
  }

  function newId(): string {
    const id = generate()
    if (typeof id !== 'string' || !ID_FORMAT.test(id)) {
      throw new SessionConfigError(
        'generateId must return 22 to 256 characters of A-Z a-z 0-9 - _ . ~',
      )
    }
    return id
  }

  function rekey(state: SessionState): void {
    const id = newId()
    state.id = id
    state.handle = handles.issued(id)
    state.renewedAt = state.now()
  }

  /**
   * Applies a patch, following pointers of sessions renewed meanwhile (`hop`: pointers followed so
   * far). One reaction on the store's promise per record patched.
   */
  function patchAt(handle: string, patch: SessionPatch, hop = 0): Promise<WriteOutcome> {
    let pending: Promise<PatchResult>
    try {
      pending = store.patch(handle, patch)
    } catch (cause) {
      return Promise.reject(storeError('update', cause))
    }
    return pending.then((result): WriteOutcome | Promise<WriteOutcome> => {
      if (result.ok) return hop > 0 ? 'moved' : 'ok'
      if (result.reason === 'gone' || hop + 1 >= MAX_HOPS) return 'gone'
      return patchAt(result.movedTo, patch, hop + 1)
    }, rejectUpdate)
  }

  /** `patchAt` done at once, on a store that patches synchronously (the memory store). */
  function patchAtNow(sync: ReadNow, handle: string, patch: SessionPatch): WriteOutcome {
    let moved = false
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      let result: PatchResult
      try {
        result = sync.patchNow(handle, patch)
      } catch (cause) {
        throw new SessionStoreError('update', { cause })
      }
      if (result.ok) return moved ? 'moved' : 'ok'
      if (result.reason === 'gone') return 'gone'
      handle = result.movedTo
      moved = true
    }
    return 'gone'
  }

  async function create(state: SessionState, now: number): Promise<void> {
    const fields = allFields(state, serializer)
    for (let attempt = 0; attempt < 3; attempt++) {
      const record: SessionRecord = {
        id: state.handle as string,
        fields,
        version: 1,
        createdAt: state.createdAt,
        lastActiveAt: now,
        expiresAt: state.deadline(state, now),
        subject: state.subject,
      }
      const result = await call('create', () => store.create(record))
      if (result.ok) return
      rekey(state) // an id collision: practically impossible with 128+ bits, but never adopt
    }
    throw new SessionStoreError('create', { cause: new Error('three id collisions in a row') })
  }

  /** Reads a session synchronously from a store that lends its records (the memory store). */
  function readLent(
    readNow: ReadNow,
    value: string,
    handle: string,
    remember: boolean,
  ): LoadedSession | InvalidCookieReason {
    let record: LentRecord | null
    let forwardedFrom: string | null = null
    try {
      record = readNow.read(handle)
      if (record === null) return 'unknown-id'
      if (record.movedTo !== undefined) {
        forwardedFrom = handle
        record = readNow.read(record.movedTo)
      }
    } catch (cause) {
      throw storeError('load', cause)
    }
    if (record === null || record.movedTo !== undefined) return 'unknown-id'
    const decoded = decodeFieldMap(record.fields, serializer)
    if (decoded === null) return 'malformed'
    if (remember) handles.found(value, handle)
    return new StoredSession(value, record, decoded, forwardedFrom)
  }

  /** What a record read from the store gives (the record the session's own id named, or its target). */
  function loaded(
    value: string,
    handle: string,
    record: SessionRecord | null,
    forwardedFrom: string | null,
    remember: boolean,
  ): LoadedSession | InvalidCookieReason {
    // A pointer's target that points on again is not followed (as in `readLent`).
    if (record === null || record.movedTo !== undefined) return 'unknown-id'
    const decoded = decodeFields(record.fields, serializer)
    if (decoded === null) return 'malformed'
    if (remember) handles.found(value, handle)
    return new StoredSession(value, record, decoded, forwardedFrom)
  }

  /**
   * Reads a session from a store that answers with a promise: one reaction on the store's own
   * promise for the record, its errors and its decoding (each further `then` or `await` would be
   * one more microtask on every request); a renewed session's pointer costs a second read.
   */
  function readAsync(
    value: string,
    handle: string,
    remember: boolean,
  ): Promise<LoadedSession | InvalidCookieReason> {
    let pending: Promise<SessionRecord | null>
    try {
      pending = store.get(handle)
    } catch (cause) {
      return Promise.reject(storeError('load', cause))
    }
    return pending.then((record) => {
      const movedTo = record?.movedTo
      if (movedTo === undefined) return loaded(value, handle, record, null, remember)
      return call('load', () => store.get(movedTo)).then((target) =>
        loaded(value, handle, target, handle, remember),
      )
    }, rejectLoad)
  }

  const storage: SessionStorage = {
    kind: 'server',
    // Ids are ID_FORMAT's characters, all of which encodeURIComponent keeps.
    uriSafe: true,
    store,
    read(
      value: string,
    ): LoadedSession | InvalidCookieReason | Promise<LoadedSession | InvalidCookieReason> {
      const known = handles.known(value)
      const handle = known ?? handles.check(value)
      if (handle === undefined) return 'malformed'
      const remember = known === undefined
      const readNow = readNowOf(store)
      return readNow !== undefined
        ? readLent(readNow, value, handle, remember)
        : readAsync(value, handle, remember)
    },
    rekey,
    cookieValue(state: SessionState): string {
      return state.id as string
    },
    create,
    patch(state: SessionState, now: number, timesOnly: boolean): Promise<WriteOutcome> {
      return patchAt(state.handle as string, patchOf(state, now, timesOnly, serializer))
    },
    patchNow(state: SessionState, now: number, timesOnly: boolean): WriteOutcome | undefined {
      const sync = patchNowOf(store)
      if (sync === undefined) return undefined
      return patchAtNow(sync, state.handle as string, patchOf(state, now, timesOnly, serializer))
    },
    async renew(
      state: SessionState,
      loaded: LoadedSession,
      now: number,
      graceMs: number,
    ): Promise<WriteOutcome> {
      const oldHandle = loaded.handle as string
      const patch = patchOf(state, now, false, serializer)
      rekey(state)
      await create(state, now)
      const newHandle = state.handle as string
      // The old record becomes a pointer to the new one until the grace window ends. Requests in
      // flight with the old id follow it: their patches land on the new record.
      let version = loaded.version
      let newVersion = 1
      for (let attempt = 0; ; attempt++) {
        const pointer: SessionRecord = {
          id: oldHandle,
          fields: {},
          version: version + 1,
          createdAt: state.createdAt,
          lastActiveAt: now,
          expiresAt: Math.min(now + graceMs, state.deadline(state, now)),
          movedTo: newHandle,
        }
        const result = await call('update', () => store.replace(pointer, version))
        if (result.ok) return 'ok'
        const current = result.reason === 'conflict' ? result.current : null
        if (current === null || current.movedTo !== undefined || attempt >= retries) {
          await call('delete', () => store.delete(newHandle))
          if (current === null) return 'gone'
          if (current.movedTo !== undefined) {
            // Renewed by another request meanwhile: this request's changes go onto theirs.
            const outcome = await patchAt(current.movedTo, patch)
            return outcome === 'gone' ? 'gone' : 'moved'
          }
          throw new SessionConflictError(attempt + 1)
        }
        // Patched by another request meanwhile: the new record takes their fields plus ours.
        const merged: SessionRecord = {
          id: newHandle,
          fields: clientFields(state.client, undefined, {
            ...applyPatch(current.fields, patch),
            [RENEWED_AT]: String(state.renewedAt),
          }),
          version: newVersion + 1,
          createdAt: state.createdAt,
          lastActiveAt: now,
          expiresAt: patch.expiresAt,
          subject: patch.subject === undefined ? current.subject : (patch.subject ?? undefined),
        }
        const rewritten = await call('update', () => store.replace(merged, newVersion))
        if (!rewritten.ok) throw new SessionConflictError(attempt + 1)
        newVersion += 1
        version = current.version
      }
    },
    async destroy(handle: string): Promise<void> {
      await call('delete', () => store.delete(handle))
    },
  }
  return Object.freeze(storage)
}
