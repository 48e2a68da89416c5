/**
 * How a session becomes store fields and back, and what a field-level patch does to them. Every
 * data value is encoded on its own (`d:<key>`), as is every flash value (`f:<key>`); metadata uses
 * names without a colon. Internal.
 *
 * @module
 */
import type { ClientInfo } from './client.ts'
import { type Bag, bag, NO_FLASH } from './session.ts'
import type { Serializer, SessionFields, SessionPatch } from './types.ts'

/** Prefix of data fields. */
export const DATA = 'd:'
/** Prefix of flash fields. */
export const FLASH = 'f:'
/** Metadata: the session's own idle timeout in seconds. */
export const MAX_AGE = 'm'
/** Metadata: when the id was last given, epoch ms (absent: the record's createdAt). */
export const RENEWED_AT = 'n'
/** Metadata: the cookie mode, `'1'` persistent, `'0'` browser-session (absent: the default). */
export const PERSISTENT = 'p'
/** Metadata: the client's User-Agent, cleaned (option `clientInfo`). */
export const USER_AGENT = 'u'
/** Metadata: the client's last address (option `clientInfo`). */
export const ADDRESS = 'a'

/** What a session's fields decode to. */
export interface DecodedFields {
  data: Bag
  flash: Bag
  maxAge: number | undefined
  renewedAt: number | undefined
  persistent: boolean | undefined
  client: ClientInfo | undefined
}

/** Decodes fields one at a time into what {@link DecodedFields} holds. */
class FieldDecoder implements DecodedFields {
  readonly serializer: Serializer
  data: Bag = bag()
  flash: Bag = NO_FLASH
  maxAge: number | undefined = undefined
  renewedAt: number | undefined = undefined
  persistent: boolean | undefined = undefined
  client: ClientInfo | undefined = undefined
  userAgent: string | undefined = undefined
  address: string | undefined = undefined

  constructor(serializer: Serializer) {
    this.serializer = serializer
  }

  /** Decodes one field; throws when it is malformed. */
  field(name: string, text: string): void {
    if (name.startsWith(DATA)) this.data[name.slice(2)] = this.serializer.parse(text)
    else if (name.startsWith(FLASH)) {
      if (this.flash === NO_FLASH) this.flash = bag()
      this.flash[name.slice(2)] = this.serializer.parse(text)
    } else if (name === MAX_AGE) this.maxAge = positive(text)
    else if (name === RENEWED_AT) this.renewedAt = positive(text)
    else if (name === PERSISTENT) this.persistent = text === '1'
    else if (name === USER_AGENT) this.userAgent = text
    else if (name === ADDRESS) this.address = text
  }

  /** What was decoded. */
  done(): DecodedFields {
    if (this.userAgent !== undefined || this.address !== undefined) {
      this.client = { userAgent: this.userAgent, address: this.address }
    }
    return this
  }
}

/**
 * Decodes stored fields; null when any field is malformed. A field of an unknown kind is ignored
 * (written by a newer version).
 */
export function decodeFields(fields: SessionFields, serializer: Serializer): DecodedFields | null {
  const decoder = new FieldDecoder(serializer)
  try {
    for (const name in fields) decoder.field(name, fields[name] as string)
  } catch {
    return null
  }
  return decoder.done()
}

function decodeEntry(this: FieldDecoder, text: string, name: string): void {
  this.field(name, text)
}

/** {@link decodeFields} of fields held in a Map (a store's own record, lent). */
export function decodeFieldMap(
  fields: ReadonlyMap<string, string>,
  serializer: Serializer,
): DecodedFields | null {
  const decoder = new FieldDecoder(serializer)
  try {
    fields.forEach(decodeEntry, decoder)
  } catch {
    return null
  }
  return decoder.done()
}

function positive(text: string): number {
  const value = Number(text)
  if (!Number.isFinite(value) || value <= 0) throw new RangeError('not a positive number')
  return value
}

/** Everything a new record holds. */
export function encodeFields(view: DecodedFields, serializer: Serializer): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const key in view.data) fields[DATA + key] = serializer.stringify(view.data[key])
  for (const key in view.flash) fields[FLASH + key] = serializer.stringify(view.flash[key])
  if (view.maxAge !== undefined) fields[MAX_AGE] = String(view.maxAge)
  if (view.renewedAt !== undefined) fields[RENEWED_AT] = String(view.renewedAt)
  if (view.persistent !== undefined) fields[PERSISTENT] = view.persistent ? '1' : '0'
  if (view.client?.userAgent !== undefined) fields[USER_AGENT] = view.client.userAgent
  if (view.client?.address !== undefined) fields[ADDRESS] = view.client.address
  return fields
}

/**
 * What a patch does to fields, as every store must: `clearPrefix`, then `unset`, then `set`. The
 * reference the stores are tested against, and the merge of a renewal that raced a patch.
 */
export function applyPatch(
  fields: SessionFields,
  patch: Pick<SessionPatch, 'set' | 'unset' | 'clearPrefix'>,
): Record<string, string> {
  const out = bag() as Record<string, string>
  const prefix = patch.clearPrefix
  for (const name in fields) {
    if (prefix !== undefined && name.startsWith(prefix)) continue
    out[name] = fields[name] as string
  }
  for (const name of patch.unset) delete out[name]
  for (const name in patch.set) out[name] = patch.set[name] as string
  return out
}
