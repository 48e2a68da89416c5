/**
 * Internal: a session record as starsessions keeps a session: the user's keys in Python's JSON
 * with `"__metadata__": {"lifetime": int, "created": float, "last_access": float}` appended, then
 * the encryptor's output. starsessions merges whatever else `__metadata__` holds into its metadata
 * and writes it back, so the `sessionware` section lives there and survives the Python
 * application's writes (the application never sees it). See {@link createStarsessionsLayout}.
 *
 * Subpath: none (internal; see `sessionware/stores/starsessions-redis`).
 *
 * @module
 */

import type { SessionRecord } from '../core/types.ts'
import { SessionConfigError } from '../errors.ts'
import { PythonFloat, pythonJsonStringify } from '../lib/python-json.ts'
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
import { noEncryption, type PayloadEncryptor } from './starsessions-encryptors.ts'

/** The key starsessions appends to the user's keys. */
const METADATA = '__metadata__'

/** Options of the starsessions layout. */
export interface StarsessionsLayoutOptions {
  /**
   * starsessions' `RedisStore(prefix=…)`: a session lives under `<prefix><id>`. At most 128
   * characters.
   *
   * @default 'starsessions.'
   */
  prefix?: string
  /**
   * starsessions' `SessionMiddleware(lifetime=…)` in whole seconds; 0 is a browser-session cookie.
   * Written into `__metadata__.lifetime`, and the deadline of a session the Python application
   * wrote: `created + lifetime` (or `last_access + lifetime` with `rolling`), `last_access +
   * gcTtl` when 0. Set the core's `absoluteTimeout` (or, with `rolling`, its `idleTimeout`) to the
   * same number so both sides expire a session together.
   *
   * @default 0
   */
  lifetime?: number
  /**
   * starsessions' `SessionMiddleware(rolling=…)`: whether the lifetime counts from the last access
   * rather than from creation.
   *
   * @default false
   */
  rolling?: boolean
  /**
   * starsessions' `RedisStore(gc_ttl=…)` in seconds: how long Redis keeps a session written by
   * Python with lifetime 0.
   *
   * @default 2592000 (30 days)
   */
  gcTtl?: number
  /**
   * The encryptor of the stored value, as starsessions' `SessionMiddleware(encryptor=…)`:
   * `createFernetEncryptor({ keys })` or `createAesGcmEncryptor({ keys })`. Without one the value
   * is stored in the clear (starsessions' `NoopEncryptor`).
   *
   * @default no encryption
   */
  encryptor?: PayloadEncryptor
}

function wholeSeconds(caller: string, name: string, value: unknown, min: number): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min) {
    throw new SessionConfigError(
      `${caller}: ${name} must be a whole number of seconds from ${min}, got ${String(value)}`,
    )
  }
  return value
}

/**
 * The starsessions layout.
 *
 * Writing: the data values whose text is JSON, in order, then `__metadata__` with `lifetime`,
 * `created` and `last_access` (the record's times as Python floats) and the section; the whole
 * through the encryptor.
 *
 * Reading: a value the encryptor cannot open, text that is not a JSON object, an empty one, or one
 * without user keys and without the section, reads as no session. `__metadata__` is never data.
 * When `last_access` is the one sessionware wrote, the section's version and times hold; when the
 * Python application wrote since, its times hold, the version counts one up and the deadline
 * follows starsessions' rules (`lifetime`, `rolling`, `gcTtl`).
 */
export function createStarsessionsLayout(
  caller: string,
  options: StarsessionsLayoutOptions,
): Layout {
  const prefix = options.prefix ?? 'starsessions.'
  if (typeof prefix !== 'string' || prefix.length > 128) {
    throw new SessionConfigError(`${caller}: prefix must be a string of at most 128 characters`)
  }
  const lifetime = wholeSeconds(caller, 'lifetime', options.lifetime ?? 0, 0)
  const gcTtl = wholeSeconds(caller, 'gcTtl', options.gcTtl ?? 2_592_000, 1)
  const rolling = options.rolling ?? false
  if (typeof rolling !== 'boolean')
    throw new SessionConfigError(`${caller}: rolling must be a boolean`)
  const encryptor = options.encryptor ?? noEncryption
  if (
    typeof encryptor !== 'object' ||
    encryptor === null ||
    typeof encryptor.encrypt !== 'function' ||
    typeof encryptor.decrypt !== 'function'
  ) {
    throw new SessionConfigError(
      `${caller}: encryptor must be createFernetEncryptor(…) or createAesGcmEncryptor(…)`,
    )
  }

  /** Deadline of a session the Python application wrote last. */
  const deadline = (createdAt: number, lastActiveAt: number): number => {
    if (lifetime === 0) return lastActiveAt + gcTtl * 1000
    return (rolling ? lastActiveAt : createdAt) + lifetime * 1000
  }

  /** A time in seconds from `__metadata__`, or `fallback` (starsessions' default: now). */
  const seconds = (raw: string | undefined, fallback: number): number => {
    if (raw === undefined) return fallback
    const value: unknown = pythonJsonParse(raw)
    if (typeof value !== 'number' || !Number.isFinite(value)) {
      throw new TypeError('__metadata__: a time is not a number')
    }
    return value
  }

  return {
    keyOf: (id) => prefix + id,

    encode(record: SessionRecord, version: number): string | Uint8Array {
      const placed = placeFields(record.fields, METADATA)
      const metadata = pythonObject([
        ['lifetime', String(lifetime)],
        ['created', pythonJsonStringify(new PythonFloat(record.createdAt / 1000))],
        ['last_access', pythonJsonStringify(new PythonFloat(record.lastActiveAt / 1000))],
        [SECTION, sectionText(record, version, placed)],
      ])
      return encryptor.encrypt(pythonObject([...placed.data, [METADATA, metadata]]))
    },

    decode(value: Uint8Array | string, id: string, now: number): SessionRecord | null {
      const stored = typeof value === 'string' ? Buffer.from(value, 'utf8') : value
      try {
        const text = encryptor.decrypt(stored)
        if (text === '' || !isObject(pythonJsonParse(text))) return null
        const data = objectMembers(text)
        const at = data.findIndex(([key]) => key === METADATA)
        const raw = at === -1 ? undefined : data.splice(at, 1)[0]?.[1]
        const metadata = new Map(raw === undefined ? [] : objectMembers(raw))
        const sectionRaw = metadata.get(SECTION)
        const section: Section | null = sectionRaw === undefined ? null : readSection(sectionRaw)
        if (data.length === 0 && section === null) return null
        const createdAt = Math.round(seconds(metadata.get('created'), now / 1000) * 1000)
        const lastActiveAt = Math.round(seconds(metadata.get('last_access'), now / 1000) * 1000)
        const current = section !== null && section.lastActiveAt === lastActiveAt
        const record: { -readonly [K in keyof SessionRecord]: SessionRecord[K] } = {
          id,
          fields: fieldsOf(data, section),
          version: section === null ? 1 : section.version + (current ? 0 : 1),
          createdAt: current ? section.createdAt : createdAt,
          lastActiveAt,
          expiresAt: current ? section.expiresAt : deadline(createdAt, lastActiveAt),
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
