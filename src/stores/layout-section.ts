/**
 * Internal to the Python layouts: where a session's fields go in a Python library's JSON, and the
 * `sessionware` section that carries what the Python library has no place for.
 *
 * A data field `d:<key>` whose text is a JSON value becomes the member `<key>` of the Python
 * session, its text written as it is (so the Python application reads the value). Everything else
 * goes into the section, an object the Python library ignores: the record's version, times,
 * subject and forwarding pointer, the flash values (`flash`, as JSON values), and every other
 * field as text (`fields`: the core's metadata such as the session's own idle timeout, and any
 * data field whose text is not JSON, such as one written by an encrypting serializer).
 *
 * Subpath: none (internal; see `sessionware/stores/aiohttp-redis` and the other Python layouts).
 *
 * @module
 */

import { DATA, FLASH } from '../core/fields.ts'
import type { SessionFields, SessionRecord } from '../core/types.ts'
import { pythonJsonStringify } from '../lib/python-json.ts'
import { pythonJsonParse } from '../lib/python-json-parse.ts'
import { objectMembers, pythonObject } from './json-members.ts'

/** The name of the section in a layout's JSON. */
export const SECTION = 'sessionware'

/** `[name, text]` pairs, in order. */
export type Members = Array<[string, string]>

/** A record's fields, sorted into the places a Python layout has for them. */
export interface PlacedFields {
  /** `d:<key>` fields with a JSON text: `[key, text]`, the Python session's members. */
  readonly data: Members
  /** `f:<key>` fields with a JSON text: `[key, text]`. */
  readonly flash: Members
  /** Every other field: `[name, text]`. */
  readonly other: Members
}

/** What the section holds, read back. */
export interface Section {
  readonly version: number
  readonly createdAt: number
  readonly lastActiveAt: number
  readonly expiresAt: number
  readonly subject: string | undefined
  readonly movedTo: string | undefined
  /** The fields kept in the section (flash as `f:<key>`), as `[name, text]`. */
  readonly fields: Members
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d
}

/**
 * True when `text` can stand in the Python JSON as one value and be read back byte for byte: JSON
 * (Python's dialect, so `NaN` too) without surrounding whitespace.
 */
export function isJsonValue(text: string): boolean {
  if (text === '' || isSpace(text.charCodeAt(0)) || isSpace(text.charCodeAt(text.length - 1))) {
    return false
  }
  try {
    pythonJsonParse(text)
    return true
  } catch {
    return false
  }
}

/**
 * Sorts `fields` into their places. A data key equal to `reserved` (a key the Python library
 * uses for itself, such as starsessions' `__metadata__`) stays in the section.
 */
export function placeFields(fields: SessionFields, reserved?: string): PlacedFields {
  const data: Members = []
  const flash: Members = []
  const other: Members = []
  for (const name of Object.keys(fields)) {
    const text = fields[name] as string
    if (name.startsWith(DATA) && name.slice(2) !== reserved && isJsonValue(text)) {
      data.push([name.slice(2), text])
    } else if (name.startsWith(FLASH) && isJsonValue(text)) {
      flash.push([name.slice(2), text])
    } else {
      other.push([name, text])
    }
  }
  return { data, flash, other }
}

/** The section's JSON text for `record` stored with `version`. */
export function sectionText(record: SessionRecord, version: number, placed: PlacedFields): string {
  const members: Members = [
    ['version', String(version)],
    ['createdAt', pythonJsonStringify(record.createdAt)],
    ['lastActiveAt', pythonJsonStringify(record.lastActiveAt)],
    ['expiresAt', pythonJsonStringify(record.expiresAt)],
  ]
  if (typeof record.subject === 'string') {
    members.push(['subject', pythonJsonStringify(record.subject)])
  }
  if (typeof record.movedTo === 'string') {
    members.push(['movedTo', pythonJsonStringify(record.movedTo)])
  }
  if (placed.flash.length > 0) members.push(['flash', pythonObject(placed.flash)])
  if (placed.other.length > 0) {
    members.push([
      'fields',
      pythonObject(placed.other.map(([name, text]) => [name, pythonJsonStringify(text)])),
    ])
  }
  return pythonObject(members)
}

function finite(raw: string | undefined): number {
  const value: unknown = raw === undefined ? undefined : JSON.parse(raw)
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new TypeError('sessionware section: a time is not a number')
  }
  return value
}

function optionalText(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === 'null') return undefined
  const value: unknown = JSON.parse(raw)
  if (typeof value !== 'string') throw new TypeError('sessionware section: not a text')
  return value
}

/**
 * Reads the section from its raw JSON text (already checked to be JSON).
 *
 * @throws {TypeError} or {SyntaxError} when it is not a section this layout wrote.
 */
export function readSection(raw: string): Section {
  const members = new Map(objectMembers(raw))
  const version = finite(members.get('version'))
  if (!Number.isSafeInteger(version) || version < 1) {
    throw new TypeError('sessionware section: version is not a positive integer')
  }
  const fields: Members = []
  const flash = members.get('flash')
  if (flash !== undefined) {
    for (const [key, text] of objectMembers(flash)) fields.push([FLASH + key, text])
  }
  const kept = members.get('fields')
  if (kept !== undefined) {
    for (const [name, text] of objectMembers(kept)) {
      const value: unknown = JSON.parse(text)
      if (typeof value !== 'string') throw new TypeError('sessionware section: a field is not text')
      fields.push([name, value])
    }
  }
  return {
    version,
    createdAt: finite(members.get('createdAt')),
    lastActiveAt: finite(members.get('lastActiveAt')),
    expiresAt: finite(members.get('expiresAt')),
    subject: optionalText(members.get('subject')),
    movedTo: optionalText(members.get('movedTo')),
    fields,
  }
}

/**
 * A record's fields from the section's fields and the Python session's members. A data key in
 * both (possible only when the Python application wrote the key after sessionware kept it in the
 * section) takes the Python value.
 */
export function fieldsOf(data: Members, section: Section | null): Record<string, string> {
  const entries: Members = section === null ? [] : [...section.fields]
  for (const [key, text] of data) entries.push([DATA + key, text])
  // fromEntries defines every name as an own property (`__proto__` included); the last one wins.
  return Object.fromEntries(entries)
}

/** A plain JSON object (not an array, not null). */
export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}
