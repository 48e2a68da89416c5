/**
 * The adapter conformance suite: every adapter serves the same small app (the routes below,
 * written once against a framework-neutral interface) over real loopback HTTP and must pass the
 * same scenarios, with cookie storage (sealed codec) and with server storage (memory store).
 *
 * Also exports the fixture (a session manager with an injected clock, a store and a codec that
 * count their calls and can be told to fail, recorders for invalid cookies and errors), which the
 * core's HTTP tests reuse.
 *
 * Not part of the package; used by `test/adapters/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import type { SessionOptions } from '../../src/core/options.ts'
import type { Session } from '../../src/core/session.ts'
import type { InvalidCookieReason } from '../../src/errors.ts'
import {
  type CookieCodec,
  cookieStorage,
  createSessions,
  getSession,
  newSession,
  type SessionRecord,
  type SessionStore,
  type Sessions,
  serverStorage,
} from '../../src/index.ts'
import { createMemoryStore, type MemoryStore } from '../../src/stores/memory.ts'
import { Client, errorCode, type HttpResult, json, setCookieOf } from './http.ts'

// ---------------------------------------------------------------------------------------------
// The app

/** What a route sees: the request object `getSession` takes, and the parsed URL. */
export interface RouteContext {
  readonly request: object
  readonly url: URL
}

/** What a route answers; each adapter's glue turns it into its own response. */
export interface RouteResult {
  /** @default 200 */
  readonly status?: number
  /** When given, node sends them with `res.writeHead(status, headers)`. */
  readonly headers?: Readonly<Record<string, string>>
  /** A string, or chunks streamed one by one (node: several `res.write` before `end`). */
  readonly body?: string | readonly string[]
}

/** One route of the app. */
export type Route = (context: RouteContext) => Promise<RouteResult>

/** The app: pathname → route. */
export type Routes = Readonly<Record<string, Route>>

/** The JSON `view` of a session that most routes answer with. */
export interface SessionView {
  id: string | null
  isNew: boolean
  data: Record<string, unknown>
  timeLeft: number
}

/** A session as JSON. */
export function view(session: Session): SessionView {
  return {
    id: session.id,
    isNew: session.isNew,
    data: session.toJSON(),
    timeLeft: session.timeLeft,
  }
}

const text = (value: unknown): RouteResult => ({ body: JSON.stringify(value) })

/** Increments `n`. */
async function increment(request: object): Promise<Session> {
  const session = await getSession(request)
  session.set('n', ((session.get('n') as number | undefined) ?? 0) + 1)
  return session
}

/** Chunks of the streamed route; the body must arrive as their concatenation. */
export const STREAM_CHUNKS: readonly string[] = ['alpha;', 'beta;', 'gamma;', 'delta;', 'end']

/** Characters in the `big` value: sealed, the cookie passes 4096 bytes. */
export const BIG_VALUE_LENGTH = 5000

/**
 * The app every adapter serves:
 * - `/none` never touches the session;
 * - `/get` reads (answers {@link SessionView});
 * - `/twice` calls getSession twice concurrently (answers `{ same }`);
 * - `/inc` increments `n`; `/set?key=…&value=…` sets a string;
 * - `/flash-set` sets flash `notice` (answers what getFlash gives in the same request);
 *   `/flash-get` reads it (answers `{ notice }`);
 * - `/regenerate`, `/invalidate` do that (after reading);
 * - `/login` calls newSession and sets `user`;
 * - `/redirect` increments `n`, then answers 302 to `/get`;
 * - `/throw` increments `n`, then throws;
 * - `/stream` increments `n`, then streams {@link STREAM_CHUNKS};
 * - `/big` stores {@link BIG_VALUE_LENGTH} characters.
 */
export const appRoutes: Routes = Object.freeze({
  '/none': async () => ({ body: 'none' }),
  '/get': async ({ request }) => text(view(await getSession(request))),
  '/twice': async ({ request }) => {
    const [a, b] = await Promise.all([getSession(request), getSession(request)])
    return text({ same: a === b })
  },
  '/inc': async ({ request }) => text(view(await increment(request))),
  '/set': async ({ request, url }) => {
    const session = await getSession(request)
    session.set(url.searchParams.get('key') ?? 'value', url.searchParams.get('value') ?? '')
    return text(view(session))
  },
  '/flash-set': async ({ request }) => {
    const session = await getSession(request)
    session.flash('notice', 'saved')
    return text({ notice: session.getFlash('notice') ?? null })
  },
  '/flash-get': async ({ request }) => {
    const session = await getSession(request)
    return text({ notice: session.getFlash('notice') ?? null })
  },
  '/regenerate': async ({ request }) => {
    const session = await getSession(request)
    session.regenerate()
    return text(view(session))
  },
  '/invalidate': async ({ request }) => {
    const session = await getSession(request)
    session.invalidate()
    return text({ invalidated: session.invalidated })
  },
  '/login': async ({ request }) => {
    const session = await newSession(request)
    session.set('user', 'ann')
    return text(view(session))
  },
  '/redirect': async ({ request }) => {
    await increment(request)
    return { status: 302, headers: { location: '/get' } }
  },
  '/throw': async ({ request }) => {
    await increment(request)
    throw new Error('boom in handler')
  },
  '/stream': async ({ request }) => {
    await increment(request)
    return { body: STREAM_CHUNKS }
  },
  '/big': async ({ request }) => {
    const session = await getSession(request)
    session.set('big', 'x'.repeat(BIG_VALUE_LENGTH))
    return text({ ok: true })
  },
})

const pause = (): Promise<void> => sleep(2)

/** Serves `routes` as a node:http handler (async; errors reject). Unknown paths answer 404. */
export function nodeHandler(
  routes: Routes,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  return async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://app.invalid')
    const route = routes[url.pathname]
    if (route === undefined) {
      res.statusCode = 404
      res.end()
      return
    }
    const result = await route({ request: req, url })
    const status = result.status ?? 200
    if (result.headers !== undefined) {
      res.writeHead(status, { ...result.headers })
    } else {
      res.statusCode = status
      res.setHeader('content-type', 'text/plain; charset=utf-8')
    }
    const body = result.body ?? ''
    if (typeof body === 'string') {
      res.end(body)
      return
    }
    // Two writes at once (held together while the commit runs), then one per tick.
    for (const [index, chunk] of body.entries()) {
      if (index > 1) await pause()
      res.write(chunk)
    }
    res.end()
  }
}

/** Serves `routes` as a Fetch-API handler (async; errors reject). Unknown paths answer 404. */
export function fetchHandler(routes: Routes): (request: Request) => Promise<Response> {
  return async (request) => {
    const url = new URL(request.url)
    const route = routes[url.pathname]
    if (route === undefined) return new Response(null, { status: 404 })
    const result = await route({ request, url })
    const status = result.status ?? 200
    const headers = result.headers ?? { 'content-type': 'text/plain; charset=utf-8' }
    const body = result.body ?? ''
    if (typeof body === 'string') {
      return new Response(status === 302 || body === '' ? null : body, { status, headers })
    }
    const chunks = [...body]
    const encoder = new TextEncoder()
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        const chunk = chunks.shift()
        if (chunk === undefined) {
          controller.close()
          return
        }
        await pause()
        controller.enqueue(encoder.encode(chunk))
      },
    })
    return new Response(stream, { status, headers })
  }
}

// ---------------------------------------------------------------------------------------------
// The fixture

/** Where sessions live in a fixture. */
export type StorageKind = 'cookie' | 'server'

/** Session keys for the sealed codec (strings of at least 32 characters). */
export const KEY_A = 'adapter-suite-key-A-0123456789abcdefghij'
export const KEY_B = 'adapter-suite-key-B-0123456789abcdefghij'

/** The fixed start of every fixture's clock: 2030-01-01T00:00:00Z, a whole second. */
export const T0: number = Date.UTC(2030, 0, 1)

type StoreMethod = 'get' | 'create' | 'update' | 'touch' | 'delete'

/** A memory store that counts calls per method and throws on the methods in `failing`. */
export interface CountingStore extends SessionStore {
  readonly inner: MemoryStore
  readonly calls: Record<StoreMethod, number>
  /** Methods that throw `new Error('store down')` until removed. */
  readonly failing: Set<StoreMethod>
  /** Calls of every method together. */
  total(): number
}

/** Wraps a memory store (on `clock`) into a {@link CountingStore}. */
export function createCountingStore(clock: () => number): CountingStore {
  const inner = createMemoryStore({ clock, sweepInterval: 0 })
  const calls: Record<StoreMethod, number> = { get: 0, create: 0, update: 0, touch: 0, delete: 0 }
  const failing = new Set<StoreMethod>()
  const enter = (method: StoreMethod): void => {
    calls[method]++
    if (failing.has(method)) throw new Error('store down')
  }
  return {
    contractVersion: 1,
    capabilities: inner.capabilities,
    inner,
    calls,
    failing,
    total: () => Object.values(calls).reduce((sum, count) => sum + count, 0),
    async get(id: string) {
      enter('get')
      return inner.get(id)
    },
    async create(record: SessionRecord) {
      enter('create')
      return inner.create(record)
    },
    async update(record: SessionRecord, expectedVersion: number) {
      enter('update')
      return inner.update(record, expectedVersion)
    },
    async touch(id: string, lastActiveAt: number, expiresAt: number) {
      enter('touch')
      return inner.touch(id, lastActiveAt, expiresAt)
    },
    async delete(id: string) {
      enter('delete')
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
}

/** A session manager wired for tests. */
export interface Fixture {
  readonly kind: StorageKind
  readonly sessions: Sessions
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
  const { codec: given, ...rest } = options
  const store = kind === 'server' ? createCountingStore(clock) : undefined
  const codec =
    kind === 'cookie' ? countingCodec(given ?? createSealedCodec({ keys: [KEY_A] })) : undefined
  const storage = store ? serverStorage({ store }) : cookieStorage({ codec: codec as CookieCodec })
  const sessions = createSessions({
    ...rest,
    storage,
    clock,
    onInvalidCookie: (reason, request) => {
      reasons.push(reason)
      rest.onInvalidCookie?.(reason, request)
    },
  })
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

// ---------------------------------------------------------------------------------------------
// The suite

/** How a mount's error path answers: `onError` records the error and returns the status. */
export interface MountOptions {
  readonly onError: (error: unknown) => number
}

/**
 * Serves `routes` through the adapter under test, with `sessions`, on 127.0.0.1 (closed after the
 * test); resolves to the base URL. Errors the adapter hands to its error path go to
 * `options.onError`, whose status is answered with an `x-error-code` header.
 */
export type Mount = (
  t: TestContext,
  sessions: Sessions,
  routes: Routes,
  options: MountOptions,
) => Promise<string>

/** The session cookie's Set-Cookie in a result (the default cookie name is `session`). */
function sessionCookie(result: HttpResult) {
  return setCookieOf(result, 'session')
}

function assertNoSetCookie(result: HttpResult): void {
  assert.deepEqual(result.rawSetCookies, [], 'expected no Set-Cookie')
}

function assertOk(result: HttpResult): void {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
}

/** Storage writes so far: store create/update/touch (server) or codec encodes (cookie). */
function writes(fixture: Fixture): number {
  if (fixture.store) {
    const { create, update, touch } = fixture.store.calls
    return create + update + touch
  }
  return fixture.codec?.calls.encode ?? 0
}

/** Storage accesses so far: every store call (server) or codec call (cookie). */
function accesses(fixture: Fixture): number {
  if (fixture.store) return fixture.store.total()
  const calls = fixture.codec?.calls
  return calls ? calls.encode + calls.decode : 0
}

/**
 * Declares `describe(name)` with the adapter scenarios, once with cookie storage (sealed codec) and
 * once with server storage (memory store). `mount` serves the app through the adapter under test.
 */
export function runAdapterSuite(name: string, mount: Mount): void {
  describe(name, () => {
    describe('cookie storage (sealed codec)', () => scenarios('cookie', mount))
    describe('server storage (memory store)', () => scenarios('server', mount))
  })
}

function scenarios(kind: StorageKind, mount: Mount): void {
  const serverOnly = kind === 'server' ? {} : { skip: 'needs server storage' }
  const cookieOnly = kind === 'cookie' ? {} : { skip: 'needs cookie storage' }

  async function start(
    t: TestContext,
    options: FixtureOptions = {},
  ): Promise<{ fixture: Fixture; client: Client; base: string }> {
    const fixture = createFixture(kind, options)
    if (fixture.store) {
      const inner = fixture.store.inner
      t.after(() => inner.close())
    }
    const base = await mount(t, fixture.sessions, appRoutes, { onError: fixture.onError })
    return { fixture, client: new Client(base), base }
  }

  /** Starts and establishes a session holding n = 1. */
  async function started(t: TestContext, options: FixtureOptions = {}) {
    const context = await start(t, options)
    const first = await context.client.get('/inc')
    assertOk(first)
    assert.ok(context.client.cookie('session'), 'the first write set the session cookie')
    return context
  }

  it('sends no Set-Cookie and touches no storage for a request that never calls getSession', async (t) => {
    const { fixture, client } = await started(t)
    const before = accesses(fixture)
    const result = await client.get('/none')
    assertOk(result)
    assert.equal(result.body, 'none')
    assertNoSetCookie(result)
    assert.equal(accesses(fixture), before)
  })

  it('sets no cookie and stores nothing for an anonymous visitor who only reads', async (t) => {
    const { fixture, client } = await start(t)
    const result = await client.get('/get')
    assertOk(result)
    assert.equal(json<SessionView>(result).isNew, true)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), 0)
    if (fixture.store) assert.equal(fixture.store.inner.size, 0)
  })

  it('sets an HttpOnly, SameSite=Lax, Path=/ cookie with Max-Age and no Secure over plain HTTP to 127.0.0.1', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/inc')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie, 'a Set-Cookie for the session')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'lax')
    assert.equal(cookie.path, '/')
    assert.equal(cookie.maxAge, 1_209_600)
    assert.equal(cookie.secure, undefined)
    assert.match(result.rawSetCookies[0] ?? '', /; SameSite=Lax/)
  })

  it('leaves Secure off over plain HTTP to localhost', async (t) => {
    const { client } = await start(t)
    const port = new URL(client.base).port
    const result = await client.get('/inc', { headers: { host: `localhost:${port}` } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, undefined)
  })

  it('sets Secure over plain HTTP to a host that is not local', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/inc', { headers: { host: 'app.example.com' } })
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })

  it('sets Secure when cookie.secure is true, even on 127.0.0.1', async (t) => {
    const { client } = await start(t, { cookie: { secure: true } })
    const result = await client.get('/inc')
    assertOk(result)
    assert.equal(sessionCookie(result)?.secure, true)
  })

  it('round-trips a value across requests', async (t) => {
    const { client } = await started(t)
    const second = await client.get('/inc')
    assert.deepEqual(json<SessionView>(second).data, { n: 2 })
    const third = await client.get('/get')
    assertOk(third)
    assert.deepEqual(json<SessionView>(third).data, { n: 2 })
    assert.equal(json<SessionView>(third).isNew, false)
  })

  it('loads the session once for concurrent getSession calls in one request', async (t) => {
    const { fixture, client } = await started(t)
    const loadsBefore = fixture.store ? fixture.store.calls.get : fixture.codec?.calls.decode
    const result = await client.get('/twice')
    assertOk(result)
    assert.deepEqual(json(result), { same: true })
    const loadsAfter = fixture.store ? fixture.store.calls.get : fixture.codec?.calls.decode
    assert.equal((loadsAfter ?? 0) - (loadsBefore ?? 0), 1)
  })

  it('shows a flash value on a later request', async (t) => {
    const { client } = await start(t)
    assertOk(await client.get('/flash-set'))
    const later = await client.get('/flash-get')
    assertOk(later)
    assert.deepEqual(json(later), { notice: 'saved' })
  })

  it('shows a flash value only once', async (t) => {
    const { client } = await start(t)
    assertOk(await client.get('/flash-set'))
    assert.deepEqual(json(await client.get('/flash-get')), { notice: 'saved' })
    const again = await client.get('/flash-get')
    assertOk(again)
    assert.deepEqual(json(again), { notice: null })
  })

  it('does not show a flash value in the request that set it', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/flash-set')
    assertOk(result)
    assert.deepEqual(json(result), { notice: null })
  })

  it('regenerate issues a new id and keeps the data', serverOnly, async (t) => {
    const { client } = await started(t)
    const oldId = client.cookie('session')
    const result = await client.get('/regenerate')
    assertOk(result)
    const body = json<SessionView>(result)
    assert.notEqual(body.id, oldId)
    assert.equal(sessionCookie(result)?.value, body.id)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('regenerate makes the old id yield a fresh session', serverOnly, async (t) => {
    const { fixture, client, base } = await started(t)
    const oldId = client.cookie('session') as string
    assertOk(await client.get('/regenerate'))
    const replay = new Client(base)
    const result = await replay.get('/get', { headers: { cookie: `session=${oldId}` } })
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.equal(json<SessionView>(result).isNew, true)
    assert.deepEqual(fixture.reasons, ['unknown-id'])
  })

  it('regenerate re-issues the cookie and keeps the data', cookieOnly, async (t) => {
    const { client } = await started(t)
    const oldValue = client.cookie('session')
    const result = await client.get('/regenerate')
    assertOk(result)
    assert.notEqual(sessionCookie(result)?.value, oldValue)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('invalidate sends an expired cookie', async (t) => {
    const { client } = await started(t)
    const result = await client.get('/invalidate')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie, 'a Set-Cookie that clears the session cookie')
    assert.equal(cookie.value, '')
    assert.equal(cookie.maxAge, 0)
    assert.equal(cookie.path, '/')
    assert.equal(client.cookie('session'), undefined)
  })

  it('after invalidate the next request gets a fresh session', async (t) => {
    const { client } = await started(t)
    assertOk(await client.get('/invalidate'))
    const result = await client.get('/get')
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.equal(json<SessionView>(result).isNew, true)
  })

  it('a replayed cookie of an invalidated session gets a fresh session', serverOnly, async (t) => {
    const { fixture, client, base } = await started(t)
    const oldId = client.cookie('session') as string
    assertOk(await client.get('/invalidate'))
    const result = await new Client(base).get('/get', { headers: { cookie: `session=${oldId}` } })
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, {})
    assert.deepEqual(fixture.reasons, ['unknown-id'])
  })

  it('newSession starts empty, ignoring the previous session', async (t) => {
    const { client } = await started(t)
    const result = await client.get('/login')
    assertOk(result)
    assert.deepEqual(json<SessionView>(result).data, { user: 'ann' })
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { user: 'ann' })
  })

  it('newSession deletes the previous stored session', serverOnly, async (t) => {
    const { client, base } = await started(t)
    const oldId = client.cookie('session') as string
    const result = await client.get('/login')
    assertOk(result)
    assert.notEqual(json<SessionView>(result).id, oldId)
    const replay = await new Client(base).get('/get', { headers: { cookie: `session=${oldId}` } })
    assert.deepEqual(json<SessionView>(replay).data, {})
    assert.equal(json<SessionView>(replay).isNew, true)
  })

  it('a redirect after a write carries the Set-Cookie', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/redirect')
    assert.equal(result.status, 302)
    assert.equal(result.headers.location, '/get')
    assert.ok(sessionCookie(result)?.value, 'the redirect sets the session cookie')
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('answers HEAD with the Set-Cookie and no body', async (t) => {
    const { client } = await start(t)
    const result = await client.request('/inc', { method: 'HEAD' })
    assertOk(result)
    assert.equal(result.body, '')
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('delivers a streamed body complete, with the Set-Cookie', async (t) => {
    const { client } = await start(t)
    const result = await client.get('/stream')
    assertOk(result)
    assert.equal(result.body, STREAM_CHUNKS.join(''))
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  it('hands an error thrown by the handler after a write to the error path', async (t) => {
    const { fixture, client } = await start(t)
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(fixture.errors.length, 1)
    assert.equal((fixture.errors[0] as Error).message, 'boom in handler')
  })

  it(
    'hands a session too large for 4096 bytes to the error path as ERR_SESSION_COOKIE_TOO_LARGE',
    cookieOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      const result = await client.get('/big')
      assert.equal(result.status, 500)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_COOKIE_TOO_LARGE')
      assertNoSetCookie(result)
      assert.equal(fixture.errors.length, 1)
      const error = fixture.errors[0] as { code: string; size: number; limit: number }
      assert.equal(error.code, 'ERR_SESSION_COOKIE_TOO_LARGE')
      assert.equal(error.limit, 4096)
      assert.ok(error.size > 4096)
      // The server lives on and the old cookie still holds the old session.
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on load to the error path as ERR_SESSION_STORE, never an empty session',
    serverOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      fixture.store?.failing.add('get')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      const error = fixture.errors[0] as { code: string; operation: string; cause: Error }
      assert.equal(error.code, 'ERR_SESSION_STORE')
      assert.equal(error.operation, 'load')
      assert.equal(error.cause.message, 'store down')
      assert.equal(writes(fixture), 1, 'nothing but the first request wrote to the store')
      fixture.store?.failing.clear()
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on save to the error path as ERR_SESSION_STORE and keeps the stored data',
    serverOnly,
    async (t) => {
      const { fixture, client } = await started(t)
      fixture.store?.failing.add('update')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      assert.equal((fixture.errors[0] as { operation: string }).operation, 'update')
      fixture.store?.failing.clear()
      assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    },
  )

  it(
    'hands a store failure on creating a session to the error path as ERR_SESSION_STORE',
    serverOnly,
    async (t) => {
      const { fixture, client } = await start(t)
      fixture.store?.failing.add('create')
      const result = await client.get('/inc')
      assert.equal(result.status, 503)
      assert.equal(result.headers['x-error-code'], 'ERR_SESSION_STORE')
      assertNoSetCookie(result)
      assert.equal((fixture.errors[0] as { operation: string }).operation, 'create')
      assert.equal(fixture.store?.inner.size, 0)
    },
  )

  it('sends no Set-Cookie for unchanged reads within the touch window', async (t) => {
    const { fixture, client } = await started(t, { idleTimeout: 600 })
    const before = writes(fixture)
    fixture.advance(100)
    assertNoSetCookie(await client.get('/get'))
    fixture.advance(199)
    const result = await client.get('/get')
    assertOk(result)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), before)
  })

  it('sends a Set-Cookie for a read after the touch window', async (t) => {
    const { fixture, client } = await started(t, { idleTimeout: 600 })
    fixture.advance(300)
    const result = await client.get('/get')
    assertOk(result)
    const cookie = sessionCookie(result)
    assert.ok(cookie?.value, 'the touch re-sends the cookie')
    assert.equal(cookie.maxAge, 600)
    if (fixture.store) assert.equal(fixture.store.calls.touch, 1)
  })
}
