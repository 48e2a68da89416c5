/**
 * What a request changed in its session, field by field. Internal.
 *
 * @module
 */

/** What a request changed, field by field: enough to build a store patch. */
export interface Changes {
  /** Data keys set or deleted (the final data decides which). */
  keys: Set<string>
  /** All data is rewritten: `clear()` or `markChanged()` without a key. */
  all: boolean
  /** Flash keys set or consumed. */
  flash: Set<string>
  subject: boolean
  maxAge: boolean
  persistent: boolean
}

/** An empty change set (a class, not an object literal: see `RequestSessionState`). */
class ChangeSet implements Changes {
  keys = new Set<string>()
  all = false
  flash = new Set<string>()
  subject = false
  maxAge = false
  persistent = false
}

/** An empty change set. */
export function noChanges(): Changes {
  return new ChangeSet()
}
