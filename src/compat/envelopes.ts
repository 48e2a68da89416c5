/**
 * The Python seeds' envelopes: how aiohttp-session, starsessions, Starlette and asgi-sessions lay
 * a session out in the payload, for cookie storage's `envelope` option. Each keeps what its
 * library keeps; what sessionware needs beyond that (flash values, the subject, a session's own
 * timeout or cookie mode) goes under a key the Python library ignores or carries along, and only
 * when the session has it. Part of `sessionware/compat`.
 *
 * @module
 */
import type { CookieEnvelope, EnvelopeSession } from '../core/envelope.ts'
import { isPlainObject } from '../core/storage.ts'
import { KEY_ORDER, orderedKeys, PythonFloat } from '../lib/python-json.ts'

/** sessionware's extras, kept only when the session has them: flash, subject, own timeout and mode. */
interface Extras {
  f?: Readonly<Record<string, unknown>>
  s?: string
  m?: number
  p?: 0 | 1
}

function extrasOf(session: EnvelopeSession): Extras | undefined {
  const extras: Extras = {}
  let any = false
  for (const _ in session.flash) {
    extras.f = session.flash
    any = true
    break
  }
  if (session.subject !== undefined) extras.s = session.subject
  if (session.maxAge !== undefined) extras.m = session.maxAge
  if (session.persistent !== undefined) extras.p = session.persistent ? 1 : 0
  return any || Object.keys(extras).length > 0 ? extras : undefined
}

/** Reads extras back; invalid ones are ignored (the Python side may have changed them). */
function readExtras(
  value: unknown,
): Pick<EnvelopeSession, 'flash' | 'subject' | 'maxAge' | 'persistent'> {
  const extras = isPlainObject(value) ? value : {}
  const { f, s, m, p } = extras
  return {
    flash: isPlainObject(f) ? f : {},
    subject: typeof s === 'string' ? s : undefined,
    maxAge: typeof m === 'number' && m > 0 && Number.isFinite(m) ? m : undefined,
    persistent: p === 1 ? true : p === 0 ? false : undefined,
  }
}

/** A copy of `object` without `key`, keeping the key order Python wrote. */
function without(object: Record<string, unknown>, key: string): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  const order = orderedKeys(object).filter((name) => name !== key)
  for (const name of order) out[name] = object[name]
  if (Object.keys(out).some((name, index) => name !== order[index])) {
    Object.defineProperty(out, KEY_ORDER, { value: order, writable: true })
  }
  return out
}

/** Key of sessionware's extras in the aiohttp envelope (top level, beside `created`/`session`). */
const AIOHTTP_EXTRAS = 'sessionware'

/**
 * aiohttp-session's envelope: `{"created": <int seconds>, "session": {…}}`. aiohttp's `created`
 * is the time of the last change, so it is written from the last-active time and read as both
 * times: an aiohttp session has no creation time to anchor an absolute timeout (the preset turns
 * it off). sessionware's extras go under a top-level `"sessionware"` key, which aiohttp ignores on
 * read and drops when it writes the session back. `{}` (aiohttp's empty session) reads as none.
 */
export const aiohttpEnvelope: CookieEnvelope = Object.freeze({
  name: 'aiohttp',
  wrap(session: EnvelopeSession): unknown {
    const out: Record<string, unknown> = {
      created: Math.floor(session.lastActiveAt / 1000),
      session: session.data,
    }
    const extras = extrasOf(session)
    if (extras !== undefined) out[AIOHTTP_EXTRAS] = extras
    return out
  },
  unwrap(value: unknown): EnvelopeSession | null {
    if (!isPlainObject(value)) return null
    const { created, session } = value
    if (typeof created !== 'number' || !Number.isFinite(created) || !isPlainObject(session)) {
      return null
    }
    const at = Math.floor(created) * 1000
    return { createdAt: at, lastActiveAt: at, data: session, ...readExtras(value[AIOHTTP_EXTRAS]) }
  },
})

/** Options of {@link starsessionsEnvelope}. */
export interface StarsessionsEnvelopeOptions {
  /**
   * starsessions' `lifetime` in seconds, written into `__metadata__` (`0`: a browser-session
   * cookie).
   *
   * @default 0
   */
  readonly lifetime?: number
}

const METADATA = '__metadata__'

function seconds(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value * 1000 : undefined
}

/**
 * starsessions' envelope: the data with `"__metadata__": {"lifetime": int, "created": float,
 * "last_access": float}` appended (times in seconds, floats as Python writes them), hidden from the
 * application. sessionware's extras go under `"sessionware"` inside `__metadata__`, which
 * starsessions merges and writes back unchanged. A payload without valid metadata takes `now` for
 * the missing times, as starsessions does.
 */
export function starsessionsEnvelope(options: StarsessionsEnvelopeOptions = {}): CookieEnvelope {
  const lifetime = options.lifetime ?? 0
  return Object.freeze({
    name: 'starsessions',
    wrap(session: EnvelopeSession): unknown {
      const metadata: Record<string, unknown> = {
        lifetime,
        created: new PythonFloat(session.createdAt / 1000),
        last_access: new PythonFloat(session.lastActiveAt / 1000),
      }
      const extras = extrasOf(session)
      if (extras !== undefined) metadata.sessionware = extras
      const out: Record<string, unknown> = {}
      const order = orderedKeys(session.data).filter((key) => key !== METADATA)
      for (const key of order) out[key] = session.data[key]
      out[METADATA] = metadata
      order.push(METADATA)
      Object.defineProperty(out, KEY_ORDER, { value: order, writable: true })
      return out
    },
    unwrap(value: unknown, now: number): EnvelopeSession | null {
      if (!isPlainObject(value)) return null
      const metadata = isPlainObject(value[METADATA]) ? value[METADATA] : {}
      const createdAt = seconds(metadata.created) ?? now
      const lastActiveAt = seconds(metadata.last_access) ?? now
      return {
        createdAt,
        lastActiveAt: Math.max(createdAt, lastActiveAt),
        data: without(value, METADATA),
        ...readExtras(metadata.sessionware),
      }
    },
  })
}

/** Key of sessionware's extras in a plain envelope: visible to the Python application. */
const PLAIN_EXTRAS = '__sessionware__'

/**
 * Starlette's and asgi-sessions' envelope: the data object itself, no times (the codec's own age
 * check, itsdangerous' `max_age`, is the expiry: time since the last write; reads take `now` as
 * both times). sessionware's extras go under a `"__sessionware__"` data key, which the Python
 * application sees as an ordinary key, only when the session has flash values, a subject, or its
 * own timeout or cookie mode.
 */
export const plainEnvelope: CookieEnvelope = Object.freeze({
  name: 'plain',
  wrap(session: EnvelopeSession): unknown {
    const extras = extrasOf(session)
    if (extras === undefined) return session.data
    const out = without(session.data as Record<string, unknown>, PLAIN_EXTRAS)
    out[PLAIN_EXTRAS] = extras
    return out
  },
  unwrap(value: unknown, now: number): EnvelopeSession | null {
    if (!isPlainObject(value)) return null
    const extras = value[PLAIN_EXTRAS]
    const data = extras === undefined ? value : without(value, PLAIN_EXTRAS)
    return { createdAt: now, lastActiveAt: now, data, ...readExtras(extras) }
  },
})
