/**
 * The per-request state of a session, as the manager creates it. Internal.
 *
 * @module
 */
import type { ClientInfo } from './client.ts'
import type { CommitWatcher } from './request.ts'
import { type Bag, bag, type Changes, NO_FLASH, type SessionState } from './session.ts'
import type { LoadedSession } from './storage.ts'

/** What a state takes from its manager: the timeouts, the cookie mode, the clock and the ids. */
export interface StateSource {
  deadline: SessionState['deadline']
  touchDue: SessionState['touchDue']
  isPersistent: SessionState['isPersistent']
  now: SessionState['now']
  rekey: SessionState['rekey']
}

/**
 * The state of the session a request loaded (`from`), or of a new one (`from` null). An instance
 * of a class, not an object literal: V8 may decide to allocate the objects of a literal directly in
 * the old generation once enough of them outlived a collection, and a request's state would then
 * keep its whole request alive until the next full collection (measured: 4 KB per request
 * surviving every scavenge).
 */
export class RequestSessionState implements SessionState {
  id: string | null
  handle: string | null
  isNew: boolean
  createdAt: number
  lastActiveAt: number
  renewedAt: number
  maxAge: number | undefined
  persistent: boolean | undefined
  subject: string | undefined
  data: Bag
  flashIn: Bag
  flashOut: Bag | null = null
  changes: Changes | null = null
  changed = false
  invalidated = false
  regenerated = false
  committed: boolean | 'upgrade' = false
  replaced = false
  storedClient: ClientInfo | undefined
  client: ClientInfo | undefined = undefined
  watcher: CommitWatcher | null = null
  readonly deadline: SessionState['deadline']
  readonly touchDue: SessionState['touchDue']
  readonly isPersistent: SessionState['isPersistent']
  readonly now: SessionState['now']
  readonly rekey: SessionState['rekey']

  constructor(owner: StateSource, from: LoadedSession | null, now: number) {
    if (from === null) {
      this.id = null
      this.handle = null
      this.isNew = true
      this.createdAt = now
      this.lastActiveAt = now
      this.renewedAt = now
      this.maxAge = undefined
      this.persistent = undefined
      this.subject = undefined
      this.data = bag()
      this.flashIn = NO_FLASH
      this.storedClient = undefined
    } else {
      this.id = from.id
      this.handle = from.handle
      this.isNew = false
      this.createdAt = from.createdAt
      this.lastActiveAt = from.lastActiveAt
      this.renewedAt = from.renewedAt
      this.maxAge = from.maxAge
      this.persistent = from.persistent
      this.subject = from.subject
      this.data = from.data
      this.flashIn = from.flash
      this.storedClient = from.client
    }
    this.deadline = owner.deadline
    this.touchDue = owner.touchDue
    this.isPersistent = owner.isPersistent
    this.now = owner.now
    this.rekey = owner.rekey
  }
}
