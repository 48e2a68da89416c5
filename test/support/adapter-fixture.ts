/**
 * The adapter tests' fixture: a session manager with an injected clock, a store and a codec that
 * count their calls and can be told to fail or to be slow, and recorders for invalid cookies and
 * errors. The core's HTTP tests reuse it.
 *
 * Not part of the package.
 *
 * @module
 */

import { setTimeout as sleep } from 'node:timers/promises'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import type { SessionOptions } from '../../src/core/options.ts'
import type { InvalidCookieReason } from '../../src/errors.ts'
import {
  type CookieCodec,
  createCookieStorage,
  createServerStorage,
  createSessions,
  type SessionManager,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from '../../src/index.ts'
import { createMemoryStore, type MemoryStore } from '../../src/stores/memory.ts'
import { errorCode } from './http.ts'
import { withNodeEnv } from './node-env.ts'

/** Where sessions live in a fixture. */
export type StorageKind = 'cookie' | 'server'

/** Session keys for the sealed codec (strings of at least 32 characters). */
export const KEY_A = 'adapter-suite-key-A-0123456789abcdefghij'
export const KEY_B = 'adapter-suite-key-B-0123456789abcdefghij'

/** The fixed start of every fixture's clock: 2030-01-01T00:00:00Z, a whole second. */
export const T0: number = Date.UTC(2030, 0, 1)

/** The store methods a {@link CountingStore} counts (store contract v2, without a subject index). */
export type StoreMethod = 'get' | 'create' | 'replace' | 'patch' | 'delete'

/**
 * A memory store that counts calls per method, throws on the methods in `failing` and waits
 * before the methods in `delays`.
 */
export interface CountingStore extends SessionStore {
  readonly inner: MemoryStore
  readonly calls: Record<StoreMethod, number>
  /** Methods that throw `new Error('store down')` until removed. */
  readonly failing: Set<StoreMethod>
  /** Milliseconds a method waits before it runs (absent: none). */
  readonly delays: Map<StoreMethod, number>
  /** Calls of every method together. */
  total(): number
}

/** Wraps a memory store (on `clock`) into a {@link CountingStore}. */
export function createCountingStore(clock: () => number): CountingStore {
  const inner = createMemoryStore({ clock, sweepInterval: 0 })
  const calls: Record<StoreMethod, number> = { get: 0, create: 0, replace: 0, patch: 0, delete: 0 }
  const failing = new Set<StoreMethod>()
  const delays = new Map<StoreMethod, number>()
  const enter = async (method: StoreMethod): Promise<void> => {
    calls[method]++
    const delay = delays.get(method)
    if (delay !== undefined) await sleep(delay)
    if (failing.has(method)) throw new Error('store down')
  }
  return {
    contractVersion: 2,
    capabilities: { ...inner.capabilities, subjectIndex: false },
    inner,
    calls,
    failing,
    delays,
    total: () => Object.values(calls).reduce((sum, count) => sum + count, 0),
    async get(id: string) {
      await enter('get')
      return inner.get(id)
    },
    async create(record: SessionRecord) {
      await enter('create')
      return inner.create(record)
    },
    async replace(record: SessionRecord, expectedVersion: number) {
      await enter('replace')
      return inner.replace(record, expectedVersion)
    },
    async patch(id: string, patch: SessionPatch) {
      await enter('patch')
      return inner.patch(id, patch)
    },
    async delete(id: string) {
      await enter('delete')
      return inner.delete(id)
    },
  }
}

/** A codec wrapper that counts encode and decode calls. */
export interface CountingCodec extends CookieCodec {
  readonly calls: { encode: number; decode: number }
}

/** Wraps `codec` into a {@link CountingCodec}. */
export function countingCodec(codec: CookieCodec): CountingCodec {
  const calls = { encode: 0, decode: 0 }
  return {
    name: codec.name,
    calls,
    encode(payload) {
      calls.encode++
      return codec.encode(payload)
    },
    decode(value) {
      calls.decode++
      return codec.decode(value)
    },
  }
}

/** Options of {@link createFixture}. */
export interface FixtureOptions extends Partial<Omit<SessionOptions, 'storage' | 'clock'>> {
  /** Cookie storage only: the codec (wrapped for counting). @default sealed with [KEY_A] */
  codec?: CookieCodec
  /**
   * `NODE_ENV` while the manager is created (the core reads it then); restored right after.
   * @default as the process has it
   */
  nodeEnv?: string
}

/** A session manager wired for tests. */
export interface Fixture {
  readonly kind: StorageKind
  readonly sessions: SessionManager
  /** Server storage: the counting memory store. */
  readonly store: CountingStore | undefined
  /** Cookie storage: the counting codec. */
  readonly codec: CountingCodec | undefined
  /** Reasons reported through `onInvalidCookie`, in order. */
  readonly reasons: InvalidCookieReason[]
  /** Errors that reached the adapter's error path, in order. */
  readonly errors: unknown[]
  /**
   * For a mount's error path: records the error and answers 503 for a store error, 500 otherwise.
   */
  readonly onError: (error: unknown) => number
  /** The clock's time, epoch ms (starts at {@link T0}). */
  now(): number
  /** Moves the clock (of the manager and of the store) forward. */
  advance(seconds: number): void
}

/** Creates a manager on `kind` storage with a movable clock and recorders. */
export function createFixture(kind: StorageKind, options: FixtureOptions = {}): Fixture {
  let now = T0
  const clock = (): number => now
  const reasons: InvalidCookieReason[] = []
  const errors: unknown[] = []
  const { codec: given, nodeEnv, ...rest } = options
  const store = kind === 'server' ? createCountingStore(clock) : undefined
  const codec =
    kind === 'cookie' ? countingCodec(given ?? createSealedCodec({ keys: [KEY_A] })) : undefined
  const storage = store
    ? createServerStorage({ store })
    : createCookieStorage({ codec: codec as CookieCodec })
  const create = (): SessionManager =>
    createSessions({
      ...rest,
      storage,
      clock,
      onInvalidCookie: (reason, request) => {
        reasons.push(reason)
        rest.onInvalidCookie?.(reason, request)
      },
    })
  const sessions = 'nodeEnv' in options ? withNodeEnv(nodeEnv, create) : create()
  return {
    kind,
    sessions,
    store,
    codec,
    reasons,
    errors,
    onError: (error) => {
      errors.push(error)
      return errorCode(error) === 'ERR_SESSION_STORE' ? 503 : 500
    },
    now: clock,
    advance: (seconds) => {
      now += seconds * 1000
    },
  }
}
