/**
 * Internal: a session store (contract v2) over a backend that keeps one value per session and can
 * compare-and-set it, with the value's form given by a layout (aiohttp-session's or starsessions'
 * JSON). Every change is read, applied here and written back only if the value is still the one
 * read; a lost race starts again on the new value. `capabilities.patch` is `'compare-and-set'`.
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-redis`,
 * `sessionware/stores/aiohttp-memcached` and `sessionware/stores/starsessions-redis`).
 *
 * @module
 */

import type {
  PatchResult,
  SessionRecord,
  SessionStore,
  StoreCapabilities,
  WriteResult,
} from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { clockOption, timeoutOption } from '../lib/options.ts'
import { withTimeout } from '../lib/timeout.ts'
import { patchRecord } from './memcached-record.ts'

/** How a session record is kept as one stored value. */
export interface Layout {
  /** The backend key of a session id. */
  keyOf(id: string): string
  /** The value of `record` stored with `version`. */
  encode(record: SessionRecord, version: number): string | Uint8Array
  /**
   * The record a stored value holds, or null when it holds no usable session (empty, invalid,
   * undecryptable or expired by the layout's own rules; never throws).
   */
  decode(value: Uint8Array | string, id: string, now: number): SessionRecord | null
}

/** A value read from the backend with what a compare-and-set of it needs. */
export interface Found {
  readonly value: Uint8Array | string
  /** Identifies the value read (a digest, a CAS unique). */
  readonly token: string | number
}

/** One value per key, written only if absent or only if unchanged. */
export interface Backend {
  /** The value under `key`, or null. */
  read(key: string): Promise<Found | null>
  /** Stores `value` until `expiresAt` (epoch ms) if `key` is absent; false when it is present. */
  add(key: string, value: string | Uint8Array, expiresAt: number, now: number): Promise<boolean>
  /**
   * Stores `value` until `expiresAt` (deletes the key when that has passed) if the value under
   * `key` is still the one `token` names; false when it changed or is gone.
   */
  swap(
    key: string,
    token: string | number,
    value: string | Uint8Array,
    expiresAt: number,
    now: number,
  ): Promise<boolean>
  /** Deletes `key` (nothing when absent). */
  remove(key: string): Promise<void>
}

/** The options every layout store shares. */
export interface BlobStoreOptions {
  /**
   * What the id of a new session must look like: `create` refuses any other id. The default is
   * the id both Python libraries make (32 lowercase hex digits). An id of another form usually
   * means `createServerStorage` was not given `pythonServerStorageOptions`: with hashed ids the
   * Python application would never find the session. Widen it only for ids the Python side makes
   * itself (aiohttp-session's `key_factory`).
   *
   * @default /^[0-9a-f]{32}$/
   */
  idFormat?: RegExp
  /**
   * Seconds one store call may take in all (a positive number, fractions allowed). A call still
   * unanswered by then rejects with an error saying it timed out, which the core reports as a
   * `SessionStoreError`: a request never hangs on a backend that is down.
   *
   * @default 5
   */
  timeout?: number
  /**
   * How many times one write may read the value and write it back when other writers (other
   * requests, the Python application) keep changing it in between (an integer from 1 to 1000).
   * Between attempts it waits a random time below 1 ms, then below 2, 4, … up to 32 ms.
   *
   * @default 40
   */
  casAttempts?: number
  /**
   * The current time in epoch milliseconds: the expiry checks and the TTLs written. For tests.
   *
   * @default Date.now
   */
  clock?: () => number
}

/** A store of a layout over a backend. */
export interface BlobStoreParts {
  readonly backend: Backend
  readonly layout: Layout
  /** The factory, first in messages. */
  readonly caller: string
}

const MAX_CAS_ATTEMPTS = 1000
const MAX_BACKOFF_MS = 32
/** Attempts of `create` when the key holds a value that is no live session. */
const CREATE_ATTEMPTS = 3

/**
 * Creates the store.
 *
 * @throws {SessionConfigError} when an option is invalid.
 */
export function createBlobStore(parts: BlobStoreParts, options: BlobStoreOptions): SessionStore {
  const { backend, layout, caller } = parts
  const given = options.idFormat ?? /^[0-9a-f]{32}$/
  if (!(given instanceof RegExp)) {
    throw new SessionConfigError(`${caller}: idFormat must be a RegExp`)
  }
  // Without the g and y flags, `test` keeps no state between calls.
  const idFormat = new RegExp(given.source, given.flags.replace(/[gy]/g, ''))
  const timeout = timeoutOption(caller, 'timeout', options.timeout ?? 5)
  const clock = clockOption(caller, options.clock ?? Date.now)
  const casAttempts = options.casAttempts ?? 40
  if (!Number.isInteger(casAttempts) || casAttempts < 1 || casAttempts > MAX_CAS_ATTEMPTS) {
    throw new SessionConfigError(
      `${caller}: casAttempts must be an integer from 1 to ${MAX_CAS_ATTEMPTS}, got ${String(casAttempts)}`,
    )
  }

  const bounded = <T>(operation: string, run: () => Promise<T>): Promise<T> =>
    withTimeout(
      run(),
      timeout * 1000,
      () => new Error(`${caller}: ${operation} timed out after ${timeout} s`),
    )

  /** The live record under `key` with the value's token, or null (absent, unusable, expired). */
  const read = async (
    key: string,
    id: string,
  ): Promise<{ record: SessionRecord | null; found: Found | null }> => {
    const found = await backend.read(key)
    if (found === null) return { record: null, found }
    const now = clock()
    const record = layout.decode(found.value, id, now)
    return { record: record !== null && record.expiresAt > now ? record : null, found }
  }

  const capabilities: StoreCapabilities = Object.freeze({
    patch: 'compare-and-set',
    ttl: true,
    subjectIndex: false,
  })

  return {
    contractVersion: 2,
    capabilities,

    get(id) {
      return bounded('get', async () => (await read(layout.keyOf(id), id)).record)
    },

    create(record) {
      return bounded('create', async (): Promise<WriteResult> => {
        if (typeof record.id !== 'string' || !idFormat.test(record.id)) {
          throw new RangeError(
            `${caller}: the new session id ${JSON.stringify(record.id)} does not match idFormat ${String(idFormat)}; give createServerStorage pythonServerStorageOptions (ids as the Python side makes them, not hashed)`,
          )
        }
        const key = layout.keyOf(record.id)
        const value = layout.encode(record, 1)
        for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
          if (await backend.add(key, value, record.expiresAt, clock())) {
            return { ok: true, version: 1 }
          }
          // The key holds a value: a live session, or one that reads as none (expired by our
          // clock, aiohttp's `{}`, invalid), which counts as absent and is overwritten.
          const { record: current, found } = await read(key, record.id)
          if (current !== null) return { ok: false, reason: 'exists' }
          if (found === null) continue
          if (await backend.swap(key, found.token, value, record.expiresAt, clock())) {
            return { ok: true, version: 1 }
          }
        }
        return { ok: false, reason: 'exists' }
      })
    },

    replace(record, expectedVersion) {
      return bounded('replace', async (): Promise<WriteResult> => {
        const key = layout.keyOf(record.id)
        const version = expectedVersion + 1
        const value = layout.encode(record, version)
        for (let attempt = 0; ; attempt++) {
          if (attempt > 0) await backoff(attempt)
          const { record: current, found } = await read(key, record.id)
          if (current === null || found === null) {
            return { ok: false, reason: 'conflict', current: null }
          }
          if (current.version !== expectedVersion || attempt + 1 >= casAttempts) {
            return { ok: false, reason: 'conflict', current }
          }
          if (await backend.swap(key, found.token, value, record.expiresAt, clock())) {
            return { ok: true, version }
          }
        }
      })
    },

    patch(id, patch) {
      return bounded('patch', async (): Promise<PatchResult> => {
        const key = layout.keyOf(id)
        for (let attempt = 0; attempt < casAttempts; attempt++) {
          if (attempt > 0) await backoff(attempt)
          const { record: current, found } = await read(key, id)
          if (current === null || found === null) return { ok: false, reason: 'gone' }
          const { movedTo } = current
          if (typeof movedTo === 'string') return { ok: false, reason: 'moved', movedTo }
          const next = patchRecord(current, patch)
          const value = layout.encode(next, next.version)
          if (await backend.swap(key, found.token, value, next.expiresAt, clock())) {
            return { ok: true, version: next.version }
          }
        }
        throw new Error(
          `${caller}: patch of ${key} gave up after ${casAttempts} compare-and-set attempts (casAttempts): other writers changed the value every time`,
        )
      })
    },

    delete(id) {
      return bounded('delete', () => backend.remove(layout.keyOf(id)))
    },
  }
}

/** Waits a random time below 2^(attempt - 1) ms, at most {@link MAX_BACKOFF_MS}. */
function backoff(attempt: number): Promise<void> {
  const ceiling = Math.min(MAX_BACKOFF_MS, 2 ** (attempt - 1))
  return new Promise((resolve) => setTimeout(resolve, Math.random() * ceiling))
}

/** Seconds from `now` to `expiresAt` (both epoch ms), rounded up; 0 or less when past. */
export function secondsLeft(expiresAt: number, now: number): number {
  if (!Number.isFinite(expiresAt) || !Number.isFinite(now)) {
    throw new RangeError('expiresAt and the clock must be finite epoch ms')
  }
  return Math.ceil((expiresAt - now) / 1000)
}
