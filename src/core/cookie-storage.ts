/**
 * Stateless cookie storage: the whole session, with its creation and last-active times, is encoded
 * into the cookie by a codec. Exported from `sessionware` as {@link createCookieStorage}.
 *
 * @module
 */
import { type InvalidCookieReason, SessionConfigError, SessionDecodeError } from '../errors.ts'
import { type CookieEnvelope, type EnvelopeSession, sessionwareEnvelope } from './envelope.ts'
import { jsonSerializer } from './serializer.ts'
import { type Bag, bag, flashBag, type SessionState } from './session.ts'
import { SlotCache, slotCount } from './slot-cache.ts'
import { flashToKeep, type LoadedSession, type SessionStorage } from './storage.ts'
import type { CookieCodec, DecodedCookie, Serializer } from './types.ts'

/** Options of {@link createCookieStorage}. */
export interface CookieStorageOptions {
  /**
   * Turns the payload into the cookie value: `createSealedCodec({ keys })` (encrypted,
   * recommended), `createSignedCodec({ keys })` (readable, tamper-proof) or `createPlainCodec()`
   * (tests only). Required.
   */
  codec: CookieCodec
  /**
   * Turns the payload into text and back.
   *
   * @default jsonSerializer
   */
  serializer?: Serializer
  /**
   * How many decoded cookie values to remember at most (a count; `0` turns the cache off). A request
   * whose cookie is in the cache skips the codec (the decryption or HMAC check, a few
   * microseconds); the payload is still parsed and its timeouts checked on every request. Only
   * values that decoded successfully are kept, under their exact text. The cache is direct-mapped:
   * each value has one of `cacheSize` slots, chosen from its last characters, and takes it from the
   * value that had it, so a lookup never hashes the whole cookie (a miss costs next to nothing). A
   * codec with an age check of its own (`cacheable: false`: fernet with `ttl`, itsdangerous with
   * `maxAge`) is never cached. At most 1,048,576 (the slots are allocated when the storage is
   * created: 20 bytes each).
   *
   * The default is small on purpose: it catches the bursts of one browser (a page and its
   * requests), while a value held longer outlives the young generation of the garbage collector
   * and costs more than its codec call saves once a server's users outnumber the cache (measured:
   * 1000 slots cost 6 µs per request on a server rotating 10,000 cookies, 256 slots 1 µs, against
   * a hit saving 5 µs).
   *
   * @default 256
   */
  cacheSize?: number
  /**
   * How the session is laid out inside the payload: sessionware's own (times, flags, data,
   * flash), or a Python seed's (`aiohttpEnvelope`, `starsessionsEnvelope(…)`, `plainEnvelope` from
   * `sessionware/compat`, which the compatibility presets set).
   *
   * @default sessionwareEnvelope
   */
  envelope?: CookieEnvelope
}

/** A session read from a cookie (a class, not an object literal: see `RequestSessionState`). */
class CookieSession implements LoadedSession {
  readonly id = null
  readonly handle = null
  readonly createdAt: number
  readonly lastActiveAt: number
  readonly renewedAt: number
  readonly forwardedFrom = null
  readonly maxAge: number | undefined
  readonly persistent: boolean | undefined
  readonly subject: string | undefined
  readonly data: Bag
  readonly flash: Bag
  readonly version = 0
  readonly rotated: boolean

  constructor(session: EnvelopeSession, rotated: boolean) {
    this.createdAt = session.createdAt
    this.lastActiveAt = session.lastActiveAt
    this.renewedAt = session.createdAt
    this.maxAge = session.maxAge
    this.persistent = session.persistent
    this.subject = session.subject
    this.data = bag(session.data)
    this.flash = flashBag(session.flash)
    this.rotated = rotated
  }
}

function noStore(): Promise<never> {
  return Promise.reject(new Error('cookie storage has no store'))
}

/**
 * Keeps sessions in the cookie itself, encoded by `codec`. Nothing is stored on the server, so a
 * copied cookie stays valid until its timeouts pass (they are enforced from inside the payload), and
 * `invalidate()` can only expire the browser's copy. Cookies are limited to 4096 bytes.
 *
 * @throws {SessionConfigError} when `codec` is missing.
 */
export function createCookieStorage(options: CookieStorageOptions): SessionStorage {
  const codec = options?.codec
  if (!codec || typeof codec.encode !== 'function' || typeof codec.decode !== 'function') {
    throw new SessionConfigError(
      'createCookieStorage needs a codec, such as createSealedCodec({ keys })',
    )
  }
  const serializer = options.serializer ?? jsonSerializer
  const envelope = options.envelope ?? sessionwareEnvelope
  if (typeof envelope?.wrap !== 'function' || typeof envelope.unwrap !== 'function') {
    throw new SessionConfigError('createCookieStorage: envelope must have wrap and unwrap')
  }
  const requested = slotCount(options.cacheSize ?? 256, 'createCookieStorage: cacheSize')
  // A codec that checks the age of a value itself must see every request's value.
  const cacheSize = codec.cacheable === false ? 0 : requested
  const cache = cacheSize > 0 ? new SlotCache<DecodedCookie>(cacheSize) : undefined

  function decode(value: string): DecodedCookie {
    if (cache === undefined) return codec.decode(value)
    const hit = cache.get(value)
    if (hit !== undefined) return hit
    const decoded = codec.decode(value)
    cache.set(value, decoded)
    return decoded
  }

  function encode(state: SessionState, flash: Bag, lastActiveAt: number): string {
    const payload = envelope.wrap({
      createdAt: state.createdAt,
      lastActiveAt,
      maxAge: state.maxAge,
      persistent: state.persistent,
      subject: state.subject,
      data: state.data,
      flash,
    })
    return codec.encode(serializer.stringify(payload))
  }

  return Object.freeze({
    kind: 'cookie' as const,
    store: undefined,
    uriSafe: codec.uriSafe === true,
    read(value: string, now: number): LoadedSession | InvalidCookieReason {
      let payload: string
      let rotated: boolean
      try {
        ;({ payload, rotated } = decode(value))
      } catch (error) {
        if (error instanceof SessionDecodeError) return error.reason
        throw error
      }
      let session: EnvelopeSession | null
      try {
        session = envelope.unwrap(serializer.parse(payload), now)
      } catch {
        return 'malformed'
      }
      if (session === null) return 'malformed'
      return new CookieSession(session, rotated)
    },
    rekey(): void {},
    cookieValue(state: SessionState, now: number): string {
      return encode(state, flashToKeep(state), now)
    },
    // The plan gives cookie storage no store work; these are never called.
    create: noStore,
    patch: noStore,
    renew: noStore,
    destroy: noStore,
  })
}
