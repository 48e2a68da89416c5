/**
 * A session as server storage reads it from a store record and its decoded fields. Internal.
 *
 * @module
 */
import type { ClientInfo } from './client.ts'
import type { DecodedFields } from './fields.ts'
import type { LentRecord } from './read-now.ts'
import type { Bag } from './session.ts'
import type { LoadedSession } from './storage.ts'
import type { SessionRecord } from './types.ts'

/**
 * A session read from a store (a class, not an object literal: see `RequestSessionState`). `value`:
 * the id the cookie gave; `forwardedFrom`: the key of the pointer it was reached through.
 */
export class StoredSession implements LoadedSession {
  readonly id: string
  readonly handle: string
  readonly createdAt: number
  readonly lastActiveAt: number
  readonly renewedAt: number
  readonly forwardedFrom: string | null
  readonly maxAge: number | undefined
  readonly persistent: boolean | undefined
  readonly subject: string | undefined
  readonly data: Bag
  readonly flash: Bag
  readonly version: number
  readonly rotated = false
  readonly client: ClientInfo | undefined

  constructor(
    value: string,
    record: SessionRecord | LentRecord,
    decoded: DecodedFields,
    forwardedFrom: string | null,
  ) {
    this.id = value
    this.handle = record.id
    this.createdAt = record.createdAt
    this.lastActiveAt = record.lastActiveAt
    this.renewedAt = decoded.renewedAt ?? record.createdAt
    this.forwardedFrom = forwardedFrom
    this.maxAge = decoded.maxAge
    this.persistent = decoded.persistent
    this.subject = record.subject
    this.data = decoded.data
    this.flash = decoded.flash
    this.version = record.version
    this.client = decoded.client
  }
}
