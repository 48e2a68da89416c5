/**
 * The envelope: how cookie storage lays a session out inside the serialized payload. sessionware's
 * own keeps every time and flag it needs; the Python seeds' envelopes (`sessionware/compat`) keep
 * what their library keeps. Exported from `sessionware` as {@link CookieEnvelope}.
 *
 * @module
 */
import { type Bag, NO_FLASH } from './session.ts'
import { isPlainObject } from './storage.ts'

/** A session as an envelope sees it. Times are epoch milliseconds. */
export interface EnvelopeSession {
  /** When the session was created. */
  readonly createdAt: number
  /** When it was last active. */
  readonly lastActiveAt: number
  /** The session's own idle timeout in seconds, if it has one. */
  readonly maxAge?: number | undefined
  /** The session's own cookie mode, if it has one. */
  readonly persistent?: boolean | undefined
  /** The owner, if set. */
  readonly subject?: string | undefined
  /** The data. */
  readonly data: Readonly<Record<string, unknown>>
  /** Flash values for a later request (empty: none). */
  readonly flash: Readonly<Record<string, unknown>>
}

/**
 * Lays a session out in the payload that the serializer writes and the codec encodes, and reads
 * it back. Synchronous and stateless.
 */
export interface CookieEnvelope {
  /** A short name for messages, such as `'sessionware'` or `'aiohttp'`. */
  readonly name: string
  /** The value to serialize for `session`. */
  wrap(session: EnvelopeSession): unknown
  /**
   * The session a parsed payload holds, or null when the payload is not one this envelope
   * writes (the cookie is then reported `malformed` and a fresh session begins). `now` (epoch ms)
   * stands in for times the layout does not keep.
   */
  unwrap(value: unknown, now: number): EnvelopeSession | null
}

/**
 * sessionware's own envelope. Times are whole epoch seconds so that timeouts hold without a
 * server: `c` created, `a` last active; `m` the session's own idle timeout; `p` the cookie mode
 * (1 persistent, 0 browser-session); `s` the subject; `d` data; `f` flash values.
 */
interface Native {
  c: number
  a: number
  m?: number
  p?: 0 | 1
  s?: string
  d: Readonly<Record<string, unknown>>
  f?: Readonly<Record<string, unknown>>
}

/** A session sessionware's envelope read (a class, not an object literal: see `RequestSessionState`). */
class Unwrapped implements EnvelopeSession {
  readonly createdAt: number
  readonly lastActiveAt: number
  readonly maxAge: number | undefined
  readonly persistent: boolean | undefined
  readonly subject: string | undefined
  readonly data: Readonly<Record<string, unknown>>
  readonly flash: Readonly<Record<string, unknown>>

  constructor(
    createdAt: number,
    lastActiveAt: number,
    maxAge: number | undefined,
    persistent: boolean | undefined,
    subject: string | undefined,
    data: Readonly<Record<string, unknown>>,
    flash: Readonly<Record<string, unknown>>,
  ) {
    this.createdAt = createdAt
    this.lastActiveAt = lastActiveAt
    this.maxAge = maxAge
    this.persistent = persistent
    this.subject = subject
    this.data = data
    this.flash = flash
  }
}

/** sessionware's own envelope (see the module): the default of cookie storage. */
export const sessionwareEnvelope: CookieEnvelope = Object.freeze({
  name: 'sessionware',
  wrap(session: EnvelopeSession): unknown {
    const out: Native = {
      c: Math.floor(session.createdAt / 1000),
      a: Math.floor(session.lastActiveAt / 1000),
      d: session.data,
    }
    if (session.maxAge !== undefined) out.m = session.maxAge
    if (session.persistent !== undefined) out.p = session.persistent ? 1 : 0
    if (session.subject !== undefined) out.s = session.subject
    for (const _ in session.flash) {
      out.f = session.flash
      break
    }
    return out
  },
  unwrap(value: unknown): EnvelopeSession | null {
    if (!isPlainObject(value)) return null
    const { c, a, m, p, s, d, f } = value
    if (typeof c !== 'number' || typeof a !== 'number' || !isPlainObject(d)) return null
    if (m !== undefined && !(typeof m === 'number' && m > 0 && Number.isFinite(m))) return null
    if (p !== undefined && p !== 0 && p !== 1) return null
    if (s !== undefined && typeof s !== 'string') return null
    if (f !== undefined && !isPlainObject(f)) return null
    return new Unwrapped(
      c * 1000,
      a * 1000,
      m as number | undefined,
      p === undefined ? undefined : p === 1,
      s as string | undefined,
      d,
      (f as Bag | undefined) ?? NO_FLASH,
    )
  },
})
