/**
 * Internal to the Redis store: the layout of a session hash, the Lua scripts that write it, their
 * arguments, and the record a hash reads back as.
 *
 * A session is one hash. Its metadata fields are `version`, `createdAt`, `lastActiveAt`,
 * `expiresAt`, `subject` and `movedTo`; each session field `name` is the hash field `.name`, so no
 * session field can ever collide with the metadata, whatever its name. Every script touches one
 * key, so one hash slot (Redis Cluster).
 *
 * Subpath: none (internal; see `sessionware/stores/redis`).
 *
 * @module
 */

import type { SessionPatch, SessionRecord } from '../core/types.ts'
import type { Script } from './redis-client.ts'

/** What marks a session field in the hash: `.name` holds the field `name`. */
const FIELD = '.'
const FIELD_CODE = FIELD.charCodeAt(0)

const script = (source: string): Script => ({ source })

// Lua's unpack() has a stack limit of a few thousand values: write long lists in batches (an even
// size, so field/value pairs stay together).
const PRELUDE = `
local function batched(command, key, list, from, to)
  local i = from
  while i <= to do
    local j = math.min(i + 511, to)
    redis.call(command, key, unpack(list, i, j))
    i = j + 1
  end
end
local function write(key, b)
  local meta = {'version', ARGV[b], 'createdAt', ARGV[b + 1], 'lastActiveAt', ARGV[b + 2], 'expiresAt', ARGV[b + 3]}
  if ARGV[b + 5] ~= '' then table.insert(meta, 'subject') table.insert(meta, string.sub(ARGV[b + 5], 2)) end
  if ARGV[b + 6] ~= '' then table.insert(meta, 'movedTo') table.insert(meta, string.sub(ARGV[b + 6], 2)) end
  redis.call('HSET', key, unpack(meta))
  batched('HSET', key, ARGV, b + 7, #ARGV)
  redis.call('PEXPIRE', key, ARGV[b + 4])
end
`

// Optional texts travel as '' (absent) or '=' followed by the text, so an empty text is still one.
// A TTL of 0 or less makes PEXPIRE delete the key: a record written already expired is gone.

/**
 * Insert-if-absent. KEYS: session. ARGV: the record ({@link recordArgs}). Returns 1, or 0 when the
 * key exists.
 */
export const CREATE: Script = script(`${PRELUDE}
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
write(KEYS[1], 1)
return 1`)

/**
 * Compare-and-set of the whole record. KEYS: session. ARGV: expected version, then the record.
 * Returns {'ok', [previous subject]}, {'gone'}, or {'conflict', field, value, ...} with the hash.
 */
export const REPLACE: Script = script(`${PRELUDE}
local version = redis.call('HGET', KEYS[1], 'version')
if not version then return {'gone'} end
if version ~= ARGV[1] then
  local current = redis.call('HGETALL', KEYS[1])
  table.insert(current, 1, 'conflict')
  return current
end
local previous = redis.call('HGET', KEYS[1], 'subject')
redis.call('DEL', KEYS[1])
write(KEYS[1], 2)
if previous then return {'ok', previous} end
return {'ok'}`)

/**
 * The field-level merge. KEYS: session. ARGV: TTL ms, subject ('' keep, '-' remove, '=' and the
 * new one), the hash-field prefix to clear ('' none), the number n of hash fields to unset, those
 * n fields, then hash field/value pairs to set: the times (and a new subject) first, then the
 * session fields, so that one HSET writes them all. Returns {'gone'}, {'moved', movedTo}, or {'ok',
 * version, previous subject, subject} (subjects as '' or '=…').
 */
export const PATCH: Script = script(`${PRELUDE}
local meta = redis.call('HMGET', KEYS[1], 'version', 'movedTo', 'subject')
if not meta[1] then return {'gone'} end
if meta[2] then return {'moved', meta[2]} end
local prefix = ARGV[3]
if prefix ~= '' then
  local n, doomed = #prefix, {}
  for _, field in ipairs(redis.call('HKEYS', KEYS[1])) do
    if string.sub(field, 1, n) == prefix then table.insert(doomed, field) end
  end
  batched('HDEL', KEYS[1], doomed, 1, #doomed)
end
local unset = tonumber(ARGV[4])
batched('HDEL', KEYS[1], ARGV, 5, 4 + unset)
batched('HSET', KEYS[1], ARGV, 5 + unset, #ARGV)
local previous = meta[3] and ('=' .. meta[3]) or ''
local subject = previous
if ARGV[2] == '-' then
  if meta[3] then redis.call('HDEL', KEYS[1], 'subject') end
  subject = ''
elseif ARGV[2] ~= '' then
  subject = ARGV[2]
end
local version = redis.call('HINCRBY', KEYS[1], 'version', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return {'ok', version, previous, subject}`)

/** KEYS: session. Returns {subject} of the deleted record, or {}. */
export const DELETE: Script = script(`
local subject = redis.call('HGET', KEYS[1], 'subject')
redis.call('DEL', KEYS[1])
if subject then return {subject} end
return {}`)

/** Deletes the session if it belongs to the subject. KEYS: session. ARGV: subject. Returns 1 or 0. */
export const REVOKE: Script = script(`
if redis.call('HGET', KEYS[1], 'subject') == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0`)

/**
 * Adds an id to a subject's set and makes the set live at least as long as the session (never
 * shorter than it was). KEYS: subject set. ARGV: id, the session's TTL ms (skipped when not
 * positive: the session is already gone).
 */
export const INDEX: Script = script(`
local ttl = tonumber(ARGV[2])
if ttl <= 0 then return 0 end
redis.call('SADD', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return 1`)

/**
 * Milliseconds from now (this process's clock) to `expiresAt`, rounded up: Redis expires the key
 * after that long by its own clock, so a skew between the two clocks does not move the deadline.
 */
export function ttlOf(expiresAt: number): string {
  if (!Number.isFinite(expiresAt)) {
    throw new RangeError(`redis store: expiresAt must be finite epoch ms, got ${expiresAt}`)
  }
  return String(Math.ceil(expiresAt - Date.now()))
}

const optional = (value: string | undefined): string =>
  typeof value === 'string' ? `=${value}` : ''

/** The arguments describing a whole record stored with `version` (CREATE, REPLACE). */
export function recordArgs(record: SessionRecord, version: number): string[] {
  const args = [
    String(version),
    String(record.createdAt),
    String(record.lastActiveAt),
    String(record.expiresAt),
    ttlOf(record.expiresAt),
    optional(record.subject),
    optional(record.movedTo),
  ]
  for (const [name, value] of Object.entries(record.fields)) args.push(FIELD + name, value)
  return args
}

/** The arguments of PATCH. */
export function patchArgs(patch: SessionPatch): string[] {
  const { subject } = patch
  const clear = typeof patch.clearPrefix === 'string' ? FIELD + patch.clearPrefix : ''
  const args = [
    ttlOf(patch.expiresAt),
    subject === undefined ? '' : subject === null ? '-' : `=${subject}`,
    clear,
    String(patch.unset.length),
  ]
  for (const name of patch.unset) args.push(FIELD + name)
  args.push('lastActiveAt', String(patch.lastActiveAt), 'expiresAt', String(patch.expiresAt))
  if (typeof subject === 'string') args.push('subject', subject)
  for (const [name, value] of Object.entries(patch.set)) args.push(FIELD + name, value)
  return args
}

/** A subject as PATCH replies it ('' or '=…'). */
export function replySubject(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value.slice(1)
}

/** The metadata of a hash, as its texts, while a reply is read. */
interface Meta {
  version: string | undefined
  createdAt: string | undefined
  lastActiveAt: string | undefined
  expiresAt: string | undefined
  subject: string | undefined
  movedTo: string | undefined
}

/** Sets a session field as an own property, even one named `__proto__`. */
function setField(fields: Record<string, string>, name: string, value: string): void {
  if (name === '__proto__') {
    Object.defineProperty(fields, name, {
      value,
      enumerable: true,
      writable: true,
      configurable: true,
    })
  } else fields[name] = value
}

/** Takes one hash field/value pair of a reply into `meta` or `fields`. */
function take(meta: Meta, fields: Record<string, string>, name: string, value: string): void {
  if (name.charCodeAt(0) === FIELD_CODE) {
    setField(fields, name.slice(1), value)
    return
  }
  switch (name) {
    case 'version':
      meta.version = value
      break
    case 'createdAt':
      meta.createdAt = value
      break
    case 'lastActiveAt':
      meta.lastActiveAt = value
      break
    case 'expiresAt':
      meta.expiresAt = value
      break
    case 'subject':
      meta.subject = value
      break
    case 'movedTo':
      meta.movedTo = value
      break
  }
}

/** A reply item as a string (Buffers decoded). */
const text = (item: unknown): string => (typeof item === 'string' ? item : String(item))

/** A time of the metadata as a number: NaN when absent or not a number. */
const time = (value: string | undefined): number =>
  value === undefined ? Number.NaN : Number(value)

/**
 * A record from a hash as HGETALL returns it: an object (node-redis, ioredis), a Map (node-redis
 * with a type mapping) or a flat field/value list (inside a script reply, or node-redis with a type
 * mapping). Null when the hash is absent or not one of ours. A field repeated in a list keeps its
 * last value.
 */
export function toRecord(id: string, hash: unknown): SessionRecord | null {
  const meta: Meta = {
    version: undefined,
    createdAt: undefined,
    lastActiveAt: undefined,
    expiresAt: undefined,
    subject: undefined,
    movedTo: undefined,
  }
  const fields: Record<string, string> = {}
  if (Array.isArray(hash)) {
    for (let i = 0; i + 1 < hash.length; i += 2)
      take(meta, fields, text(hash[i]), text(hash[i + 1]))
  } else if (hash instanceof Map) {
    for (const [name, value] of hash) take(meta, fields, text(name), text(value))
  } else if (typeof hash === 'object' && hash !== null) {
    const source = hash as Record<string, unknown>
    for (const name in source) {
      if (Object.hasOwn(source, name)) take(meta, fields, name, text(source[name]))
    }
  }
  const version = time(meta.version)
  const createdAt = time(meta.createdAt)
  const lastActiveAt = time(meta.lastActiveAt)
  const expiresAt = time(meta.expiresAt)
  if (
    !Number.isFinite(version) ||
    !Number.isFinite(createdAt) ||
    !Number.isFinite(lastActiveAt) ||
    !Number.isFinite(expiresAt)
  ) {
    return null
  }
  const record: {
    -readonly [K in keyof SessionRecord]: SessionRecord[K]
  } = { id, fields, version, createdAt, lastActiveAt, expiresAt }
  if (meta.subject !== undefined) record.subject = meta.subject
  if (meta.movedTo !== undefined) record.movedTo = meta.movedTo
  return record
}
