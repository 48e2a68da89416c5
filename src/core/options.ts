/**
 * Options of {@link createSessions} and their validation. Options are resolved once into a new
 * frozen object; what the user passed is never mutated.
 *
 * @module
 */
import { type InvalidCookieReason, SessionConfigError } from '../errors.ts'
import type { SessionStorage } from './storage.ts'

/** Cookie attributes. Every attribute has a secure default. */
export interface CookieOptions {
  /**
   * Cookie name: an RFC 6265 token. A `__Host-` name requires `Path=/`, no `Domain` and Secure; a
   * `__Secure-` name requires Secure. Both always get the Secure attribute.
   *
   * @default 'session'
   */
  name?: string
  /**
   * The `Path` attribute.
   *
   * @default '/'
   */
  path?: string
  /**
   * The `Domain` attribute. Unset means host-only, the safest choice.
   *
   * @default undefined
   */
  domain?: string
  /**
   * The `Secure` attribute. When unset it is on, except outside production (`NODE_ENV` is not
   * `'production'` when `createSessions` runs) for requests served over plain HTTP to `localhost`,
   * `*.localhost`, `127.0.0.0/8` or `[::1]` from a loopback peer without `X-Forwarded-Proto: https`,
   * so local development works without TLS. In production it is always on: a TLS-terminating
   * proxy that forwards `Host: 127.0.0.1:3000` cannot turn it off.
   *
   * @default undefined (automatic)
   */
  secure?: boolean
  /**
   * The `HttpOnly` attribute: scripts cannot read the cookie.
   *
   * @default true
   */
  httpOnly?: boolean
  /**
   * The `SameSite` attribute.
   *
   * @default 'lax'
   */
  sameSite?: 'lax' | 'strict' | 'none'
  /**
   * The `Partitioned` attribute (CHIPS). Implies Secure.
   *
   * @default false
   */
  partitioned?: boolean
  /**
   * Whether the cookie outlives the browser session. When true, `Max-Age` and `Expires` are set to
   * the session's deadline (the earlier of its idle and absolute timeouts); when false the cookie is
   * a browser-session cookie, while the timeouts are still enforced on the server. This is the
   * default of every session; one session can choose otherwise with `session.persistent`
   * ("remember me").
   *
   * @default true
   */
  persistent?: boolean
  /**
   * How the cookie value is written and read. `'uri'`: percent-encoded (`=` as `%3D`), the first
   * of duplicate cookies wins. `'raw'`: written exactly as the codec made it, as starsessions,
   * Starlette and asgi-sessions write (`session=eyJ…==.ZVPxAA.…`). `'python'`: as aiohttp-session
   * writes (Python's `http.cookies`: a value with `=`, `/`, `"`, `,`, spaces … is wrapped in
   * `"…"` with `\ooo` escapes). `'raw'` and `'python'` read as the Python seeds do: a quoted value
   * is unquoted, and the last of duplicate cookies wins. The compatibility presets set it.
   *
   * @default 'uri'
   */
  encoding?: CookieEncoding
}

/** How a cookie value is written and read; see {@link CookieOptions.encoding}. */
export type CookieEncoding = 'uri' | 'raw' | 'python'

/** Options of {@link createSessions}. */
export interface SessionOptions {
  /**
   * Where sessions live: `createCookieStorage({ codec })` (stateless) or
   * `createServerStorage({ store })`.
   * Required.
   */
  storage: SessionStorage
  /**
   * Cookie attributes; see {@link CookieOptions}.
   *
   * @default {} (every attribute at its own default)
   */
  cookie?: CookieOptions
  /**
   * Idle timeout in seconds: a session unused for this long expires. `null` disables it (then
   * `absoluteTimeout` must be set). A session may override it with `session.maxAge`.
   *
   * @default 1209600 (14 days)
   */
  idleTimeout?: number | null
  /**
   * Absolute timeout in seconds, counted from the session's creation, however active it is.
   * `null` disables it (then `idleTimeout` must be set).
   *
   * @default 2592000 (30 days)
   */
  absoluteTimeout?: number | null
  /**
   * Seconds of inactivity after which a read-only request refreshes the session's last-active time
   * (a store touch, or a re-issued cookie). Throttles writes: a session read every second is not
   * rewritten every second. `0` refreshes on every request (rolling). Never more than half of the
   * session's idle timeout (its `maxAge`, or `idleTimeout`), so an active session cannot expire.
   *
   * @default half of the idle timeout
   */
  touchAfter?: number
  /**
   * Called when a request presents a cookie that cannot be used (the request then gets a fresh
   * session). For logging and metrics; it must not throw.
   *
   * @default undefined
   */
  onInvalidCookie?: (reason: InvalidCookieReason, request: object) => void
  /**
   * Renewal interval in seconds (server storage): a session whose id is older than this gets a new
   * id on its next request, keeping its data. The old id keeps working for `renewalGrace` seconds
   * (requests already in flight with it read and write the renewed session), then dies. Limits how
   * long a stolen id is useful. `null` turns renewal off. Must be at least `renewalGrace`. Ignored
   * by cookie storage.
   *
   * @default null (off)
   */
  renewalInterval?: number | null
  /**
   * Seconds the old id keeps working after a renewal (a positive number; not `null`). The old id's
   * record is a pointer that no request extends: it dies at the end of this window.
   *
   * @default 30
   */
  renewalGrace?: number
  /**
   * Server storage: keep what a person needs to recognise a session in its record, for "your
   * sessions" pages (`listSessions` returns them): the `User-Agent` header (control characters
   * removed, cut to 512 characters) and the last client address (see `clientAddress`). They are
   * written only along with a write the session gets anyway (a change, a due touch, creation,
   * regenerate, renewal) and only when they differ from what is stored: never an extra store
   * write, so a new address shows once the session is next written or touched (`touchAfter`).
   * Both are personal data: turn this on when you show them to the user. Cookie storage records
   * nothing (nothing is added to the cookie).
   *
   * @default false
   */
  clientInfo?: boolean
  /**
   * With `clientInfo`: the client address of a request, given the request object the adapter
   * attached (node:http `IncomingMessage` for the node, Express, Fastify and Koa adapters; the
   * Fetch `Request` for the Fetch and Hono adapters). `undefined` keeps the stored address.
   * The default is the peer address the adapter reports: behind a reverse proxy or load balancer
   * that is the proxy's address, so read the client's from the header your proxy sets (such as
   * the last entry of `X-Forwarded-For` it appended). Trust such a header only from your own
   * proxy: any client can send one. The Fetch API gives no peer address, so with the Fetch and
   * Hono adapters no address is recorded unless this tells it (Bun: `server.requestIP(request)`).
   * Called when the record is written, before the response goes out; an error it throws reaches
   * the framework's error path. Requires `clientInfo: true`.
   *
   * @default the peer address the adapter reports (none with the Fetch and Hono adapters)
   */
  clientAddress?: (request: object) => string | null | undefined
  /**
   * The clock, in epoch milliseconds. For tests.
   *
   * @default Date.now
   */
  clock?: () => number
}

/** Cookie options after defaults and validation. */
export interface ResolvedCookieOptions {
  readonly name: string
  readonly path: string
  readonly domain: string | undefined
  /** `undefined`: decided per request (see {@link CookieOptions.secure}). */
  readonly secure: boolean | undefined
  readonly httpOnly: boolean
  readonly sameSite: 'lax' | 'strict' | 'none'
  readonly partitioned: boolean
  readonly persistent: boolean
  readonly encoding: CookieEncoding
}

/** Options after defaults and validation. Times in milliseconds. */
export interface ResolvedOptions {
  readonly storage: SessionStorage
  readonly cookie: ResolvedCookieOptions
  readonly idleTimeoutMs: number | null
  readonly absoluteTimeoutMs: number | null
  /** `null`: half of the session's idle timeout. */
  readonly touchAfterMs: number | null
  readonly onInvalidCookie: ((reason: InvalidCookieReason, request: object) => void) | undefined
  readonly renewalIntervalMs: number | null
  readonly renewalGraceMs: number
  readonly clientInfo: boolean
  readonly clientAddress: ((request: object) => string | null | undefined) | undefined
  readonly clock: () => number
  /** `NODE_ENV` was `'production'` when the manager was created: Secure is never left off. */
  readonly production: boolean
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
const PATH = /^\/[\u0021-\u003A\u003C-\u007E]*$/
const DOMAIN = /^\.?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/i

/** `NODE_ENV === 'production'`, where a `process` global exists (Node, Bun, Deno's compat). */
function isProduction(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process
    ?.env
  return env?.NODE_ENV === 'production'
}

function fail(message: string): never {
  throw new SessionConfigError(message)
}

function seconds(name: string, value: unknown, fallback: number | null): number | null {
  if (value === undefined) return fallback
  if (value === null) return null
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    fail(`${name} must be a positive number of seconds or null. Received: ${String(value)}`)
  }
  return value
}

function resolveCookie(input: CookieOptions | undefined): ResolvedCookieOptions {
  const o = input ?? {}
  const name = o.name ?? 'session'
  if (typeof name !== 'string' || !TOKEN.test(name)) {
    fail(`cookie.name must be an RFC 6265 token. Received: ${JSON.stringify(name)}`)
  }
  const path = o.path ?? '/'
  if (typeof path !== 'string' || !PATH.test(path)) {
    fail(`cookie.path must start with "/" and hold no ";" or controls. Received: ${path}`)
  }
  const domain = o.domain
  if (domain !== undefined && (typeof domain !== 'string' || !DOMAIN.test(domain))) {
    fail(`cookie.domain must be a host name. Received: ${String(domain)}`)
  }
  const sameSite = o.sameSite ?? 'lax'
  if (sameSite !== 'lax' && sameSite !== 'strict' && sameSite !== 'none') {
    fail(`cookie.sameSite must be 'lax', 'strict' or 'none'. Received: ${String(sameSite)}`)
  }
  let secure = o.secure
  if (secure !== undefined && typeof secure !== 'boolean') fail('cookie.secure must be a boolean')
  const partitioned = o.partitioned ?? false
  if (name.startsWith('__Host-')) {
    if (secure === false) fail('a __Host- cookie must be Secure: remove cookie.secure: false')
    if (path !== '/') fail('a __Host- cookie must have cookie.path "/"')
    if (domain !== undefined) fail('a __Host- cookie must not have cookie.domain')
    secure = true
  } else if (name.startsWith('__Secure-')) {
    if (secure === false) fail('a __Secure- cookie must be Secure: remove cookie.secure: false')
    secure = true
  }
  if (sameSite === 'none' || partitioned) {
    if (secure === false) fail("cookie.sameSite 'none' and cookie.partitioned require Secure")
    secure = true
  }
  const encoding = o.encoding ?? 'uri'
  if (encoding !== 'uri' && encoding !== 'raw' && encoding !== 'python') {
    fail(`cookie.encoding must be 'uri', 'raw' or 'python'. Received: ${String(encoding)}`)
  }
  return Object.freeze({
    name,
    path,
    domain,
    secure,
    httpOnly: o.httpOnly ?? true,
    sameSite,
    partitioned,
    persistent: o.persistent ?? true,
    encoding,
  })
}

/** Applies defaults and validates; throws {@link SessionConfigError}. */
export function resolveOptions(options: SessionOptions): ResolvedOptions {
  if (options === null || typeof options !== 'object') fail('options must be an object')
  const storage = options.storage
  if (!storage || typeof storage !== 'object' || typeof storage.kind !== 'string') {
    fail(
      'options.storage is required: createCookieStorage({ codec }) or createServerStorage({ store })',
    )
  }
  const idle = seconds('idleTimeout', options.idleTimeout, 1_209_600)
  const absolute = seconds('absoluteTimeout', options.absoluteTimeout, 2_592_000)
  if (idle === null && absolute === null) {
    fail('idleTimeout and absoluteTimeout cannot both be null: sessions must expire on the server')
  }
  const touchAfterInput = options.touchAfter
  let touchAfterMs: number | null = null
  if (touchAfterInput !== undefined) {
    if (typeof touchAfterInput !== 'number' || !(touchAfterInput >= 0)) {
      fail(`touchAfter must be zero or a positive number of seconds. Received: ${touchAfterInput}`)
    }
    touchAfterMs = touchAfterInput * 1000
  }
  if ('conflictRetries' in options) {
    fail('conflictRetries is an option of createServerStorage now (it bounds renewal retries only)')
  }
  const renewal = seconds('renewalInterval', options.renewalInterval, null)
  if (options.renewalGrace === null) {
    fail(
      'renewalGrace must be a positive number of seconds; turn renewal off with renewalInterval: null',
    )
  }
  const grace = seconds('renewalGrace', options.renewalGrace, 30) as number
  if (renewal !== null && renewal < grace) {
    fail(
      `renewalInterval (${renewal} s) must be at least renewalGrace (${grace} s): an id would be renewed again while its previous id still works`,
    )
  }
  if (options.onInvalidCookie !== undefined && typeof options.onInvalidCookie !== 'function') {
    fail('onInvalidCookie must be a function')
  }
  const clientInfo = options.clientInfo ?? false
  if (typeof clientInfo !== 'boolean') fail('clientInfo must be a boolean')
  if (options.clientAddress !== undefined) {
    if (typeof options.clientAddress !== 'function') fail('clientAddress must be a function')
    if (!clientInfo) fail('clientAddress needs clientInfo: true (nothing is recorded without it)')
  }
  if (options.clock !== undefined && typeof options.clock !== 'function') {
    fail('clock must be a function returning epoch milliseconds')
  }
  return Object.freeze({
    storage,
    cookie: resolveCookie(options.cookie),
    idleTimeoutMs: idle === null ? null : idle * 1000,
    absoluteTimeoutMs: absolute === null ? null : absolute * 1000,
    touchAfterMs,
    onInvalidCookie: options.onInvalidCookie,
    renewalIntervalMs: renewal === null ? null : renewal * 1000,
    renewalGraceMs: grace * 1000,
    clientInfo,
    clientAddress: options.clientAddress,
    clock: options.clock ?? Date.now,
    production: isProduction(),
  })
}
