/**
 * Internal: a session record as aiohttp-session's `RedisStorage` and `MemcachedStorage` keep a
 * session, under the key `<cookie_name>_<id>`:
 * `{"created": <int unix seconds>, "session": {...}, "sessionware": {...}}` in Python's `json.dumps`
 * form. aiohttp-session reads `created` and `session` and ignores the rest; when it writes the
 * session back it writes `created` and `session` alone, so the `sessionware` section (the
 * record's version and times, the subject, flash values, the core's metadata) is gone after a
 * write by the Python application. See {@link createAiohttpLayout}.
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-redis` and
 * `sessionware/stores/aiohttp-memcached`).
 *
 * @module
 */

import { isUtf8 } from 'node:buffer'
import type { SessionRecord } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { pythonJsonParse } from '../lib/python-json-parse.ts'
import type { Layout } from './blob-store.ts'
import { objectMembers, pythonObject } from './json-members.ts'
import {
  fieldsOf,
  isObject,
  placeFields,
  readSection,
  SECTION,
  type Section,
  sectionText,
} from './layout-section.ts'

/** The options every aiohttp-session layout store shares. */
export interface AiohttpLayoutOptions {
  /**
   * aiohttp-session's `cookie_name`: sessions live under `<cookieName>_<id>`. Give the session
   * cookie the same name (`createSessions({ cookie: { name } })`) so both sides read one cookie.
   * Printable ASCII without spaces, `;`, `,` or `=`, at most 200 characters.
   *
   * @default 'AIOHTTP_SESSION'
   */
  cookieName?: string
  /**
   * aiohttp-session's `max_age` in seconds, or `null` for none: a session whose `created` (the
   * time of its last write, in whole seconds) is more than `maxAge` seconds ago reads as expired,
   * as aiohttp-session reads it. A session written by Python alone has no other deadline here; the
   * core's idle and absolute timeouts apply on top. Set the core's `idleTimeout` to the same
   * number for the same sliding expiry on both sides.
   *
   * @default null
   */
  maxAge?: number | null
}

/** The largest time a `Date` holds: the deadline of a Python session without `max_age`. */
const NO_DEADLINE = 8_640_000_000_000_000

/** A cookie name that is also safe in a memcached key. */
const COOKIE_NAME = /^[!#-+\--:<>-~]{1,200}$/

/** The validated options. */
export interface AiohttpLayoutSettings {
  readonly cookieName: string
  readonly maxAge: number | null
}

/** Validates the shared options; `caller` names the factory in errors. */
export function aiohttpSettings(
  caller: string,
  options: AiohttpLayoutOptions,
): AiohttpLayoutSettings {
  const cookieName = options.cookieName ?? 'AIOHTTP_SESSION'
  if (typeof cookieName !== 'string' || !COOKIE_NAME.test(cookieName)) {
    throw new SessionConfigError(
      `${caller}: cookieName must be 1 to 200 printable ASCII characters without spaces, ';', ',' or '=', got ${JSON.stringify(cookieName)}`,
    )
  }
  const maxAge = options.maxAge ?? null
  if (
    maxAge !== null &&
    (typeof maxAge !== 'number' || !Number.isSafeInteger(maxAge) || maxAge < 1)
  ) {
    throw new SessionConfigError(
      `${caller}: maxAge must be a positive whole number of seconds or null, got ${String(maxAge)}`,
    )
  }
  return { cookieName, maxAge }
}

/** The text of a stored value, or null when it is not UTF-8. */
function textOf(value: Uint8Array | string): string | null {
  if (typeof value === 'string') return value
  if (!isUtf8(value)) return null
  return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('utf8')
}

/**
 * The aiohttp-session layout.
 *
 * Writing: `created` is the record's `lastActiveAt` in whole seconds (aiohttp-session's
 * `created` is the time of the last change, and its `max_age` check is a sliding one); `session`
 * holds every data value whose text is JSON, written as the serializer wrote it (byte for byte
 * Python's with `pythonServerStorageOptions`); the section holds the rest.
 *
 * Reading: anything but a JSON object with a numeric `created` and an object (or null) `session`,
 * the empty object `{}` (aiohttp-session's invalidated session), text that is not UTF-8, or a
 * session whose `created` is more than `maxAge` seconds ago, reads as no session. A session
 * without the section (written by Python) reads as version 1, created and last active at
 * `created`, expiring `maxAge` seconds later.
 */
export function createAiohttpLayout(settings: AiohttpLayoutSettings): Layout {
  const { maxAge } = settings
  return {
    keyOf: (id) => `${settings.cookieName}_${id}`,

    encode(record: SessionRecord, version: number): string {
      const placed = placeFields(record.fields)
      return pythonObject([
        ['created', String(Math.floor(record.lastActiveAt / 1000))],
        ['session', pythonObject(placed.data)],
        [SECTION, sectionText(record, version, placed)],
      ])
    },

    decode(value: Uint8Array | string, id: string, now: number): SessionRecord | null {
      const text = textOf(value)
      if (text === null) return null
      try {
        if (!isObject(pythonJsonParse(text))) return null
        const top = new Map(objectMembers(text))
        if (top.size === 0) return null
        const created: unknown = pythonJsonParse(top.get('created') ?? 'null')
        if (typeof created !== 'number' || !Number.isFinite(created)) return null
        if (maxAge !== null && Math.floor(now / 1000) - created > maxAge) return null
        const session = top.get('session')
        const data = session === undefined || session === 'null' ? [] : objectMembers(session)
        const raw = top.get(SECTION)
        const section: Section | null = raw === undefined ? null : readSection(raw)
        const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } =
          section === null
            ? {
                id,
                fields: fieldsOf(data, null),
                version: 1,
                createdAt: Math.round(created * 1000),
                lastActiveAt: Math.round(created * 1000),
                expiresAt: maxAge === null ? NO_DEADLINE : Math.round((created + maxAge) * 1000),
              }
            : {
                id,
                fields: fieldsOf(data, section),
                version: section.version,
                createdAt: section.createdAt,
                lastActiveAt: section.lastActiveAt,
                expiresAt: section.expiresAt,
              }
        if (section?.subject !== undefined) record.subject = section.subject
        if (section?.movedTo !== undefined) record.movedTo = section.movedTo
        return record
      } catch {
        return null
      }
    },
  }
}
