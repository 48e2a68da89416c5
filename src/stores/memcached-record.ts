/**
 * Internal to the memcached store: a session record as one memcached value (JSON), and a patch
 * applied to a record in this process (memcached cannot merge on the server).
 *
 * Subpath: none (internal; see `sessionware/stores/memcached`).
 *
 * @module
 */

import { applyPatch } from '../core/fields.ts'
import type { SessionPatch, SessionRecord } from '../core/types.ts'
import { parseJson } from '../lib/json-reader.ts'

type Mutable<T> = { -readonly [K in keyof T]: T[K] }

/**
 * The stored JSON: `{ version, createdAt, lastActiveAt, expiresAt, subject, movedTo, fields }`,
 * `subject` and `movedTo` null when absent; the id is the key.
 */
export function encode(record: SessionRecord, version: number): string {
  return JSON.stringify({
    version,
    createdAt: record.createdAt,
    lastActiveAt: record.lastActiveAt,
    expiresAt: record.expiresAt,
    subject: typeof record.subject === 'string' ? record.subject : null,
    movedTo: typeof record.movedTo === 'string' ? record.movedTo : null,
    fields: record.fields,
  })
}

/** A fresh record from a stored value; throws when the value is not one this store wrote. */
export function decode(value: unknown, id: string, key: string): SessionRecord {
  let parsed: unknown = value
  try {
    // Not JSON.parse alone: V8's can misread escaped keys (see json-reader.ts).
    if (typeof value === 'string') parsed = parseJson(value)
    else if (value instanceof Uint8Array) {
      parsed = parseJson(new TextDecoder().decode(value))
    }
  } catch (error) {
    throw new Error(`memcached store: the value under ${key} is not JSON`, { cause: error })
  }
  const stored = (typeof parsed === 'object' && parsed !== null ? parsed : {}) as Record<
    string,
    unknown
  >
  const { version, createdAt, lastActiveAt, expiresAt, subject, movedTo } = stored
  // A value written by store contract v1 held one `data` text instead of fields: it reads as a
  // record without fields (a patch then writes it in this layout), never as an error.
  const fields = stored.fields === undefined && typeof stored.data === 'string' ? {} : stored.fields
  if (
    !Number.isSafeInteger(version) ||
    typeof createdAt !== 'number' ||
    typeof lastActiveAt !== 'number' ||
    typeof expiresAt !== 'number' ||
    !optionalText(subject) ||
    !optionalText(movedTo) ||
    !isFields(fields)
  ) {
    throw new Error(`memcached store: the value under ${key} is not a session record`)
  }
  // The parse defines every name as an own property (`__proto__` included): `fields` is safe.
  const record: Mutable<SessionRecord> = {
    id,
    fields,
    version: version as number,
    createdAt,
    lastActiveAt,
    expiresAt,
  }
  if (typeof subject === 'string') record.subject = subject
  if (typeof movedTo === 'string') record.movedTo = movedTo
  return record
}

/**
 * `record` with `patch` applied: fields starting with `clearPrefix` removed, then `unset`, then
 * `set`; the subject, the times, and the version bumped by one.
 */
export function patchRecord(record: SessionRecord, patch: SessionPatch): SessionRecord {
  const next: Mutable<SessionRecord> = {
    id: record.id,
    // A null-prototype object: every name is an own field (`__proto__` included).
    fields: applyPatch(record.fields, patch),
    version: record.version + 1,
    createdAt: record.createdAt,
    lastActiveAt: patch.lastActiveAt,
    expiresAt: patch.expiresAt,
  }
  const subject = patch.subject === undefined ? record.subject : patch.subject
  if (typeof subject === 'string') next.subject = subject
  return next
}

function optionalText(value: unknown): boolean {
  return value === null || value === undefined || typeof value === 'string'
}

function isFields(value: unknown): value is Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false
  return Object.values(value).every((text) => typeof text === 'string')
}
