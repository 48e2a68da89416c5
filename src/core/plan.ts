/**
 * The commit as one pure decision: from what a request loaded, what it did and the timing, exactly
 * which records are created, patched, touched, renewed or destroyed (creation always before
 * destruction) and which cookie goes out. Storages and adapters only carry the plan out;
 * decisions/005-commit-plan.md holds the table. Internal.
 *
 * @module
 */

/** What the request's cookie gave when the session was loaded. */
export type Loaded =
  /** No session cookie. */
  | 'none'
  /** A cookie that could not be used: malformed, tampered, unknown key or id, expired. */
  | 'invalid'
  /** A live session. */
  | 'live'
  /** A live session reached through the old id of a renewal (server storage). */
  | 'forwarded'

/** Everything the plan depends on. */
export interface PlanInput {
  /** Where sessions live: in the cookie, or in a store with an id in the cookie. */
  readonly storage: 'cookie' | 'server'
  readonly loaded: Loaded
  /** The cookie was opened with a key other than the writing key (cookie storage). */
  readonly rotated: boolean
  /** An expired record was found under the cookie's id: delete it. */
  readonly stale: boolean
  /** `newSession()` was called: the loaded session is replaced. */
  readonly fresh: boolean
  readonly invalidated: boolean
  readonly regenerated: boolean
  /** Data, flash, subject, maxAge or cookie mode changed. */
  readonly changed: boolean
  /** The cookie's attributes changed (maxAge or cookie mode): the cookie must be re-sent. */
  readonly cookieChanged: boolean
  /** The session's cookie is persistent (Max-Age follows the deadline, so it slides on writes). */
  readonly persistent: boolean
  /** A throttled touch is due (the last-active time is old enough to refresh). */
  readonly touchDue: boolean
  /** The renewal interval has passed since the id was given (server storage). */
  readonly renewalDue: boolean
}

/** One piece of store work, in the order of the plan. */
export type Step =
  /** Insert the session as a new record under its (new) id. */
  | 'create'
  /** Apply this request's field changes and times to the loaded record. */
  | 'patch'
  /** Refresh the loaded record's times only. */
  | 'touch'
  /** Move the session to a new id; the old record becomes a pointer for the grace window. */
  | 'renew'
  /** Delete the record that was loaded (for a forwarded load: the renewed record). */
  | 'destroy-loaded'
  /** Delete the pointer the cookie's old id named (forwarded loads). */
  | 'destroy-forwarder'
  /** Delete the expired record found under the cookie's id. */
  | 'destroy-stale'

/** What a commit does. */
export interface CommitPlan {
  /** Store work in order (always empty for cookie storage). */
  readonly steps: readonly Step[]
  /**
   * `set`: send the session cookie (the new id, or the encoded session); `clear`: expire the
   * browser's cookie; `keep`: no Set-Cookie. A `set` is dropped when a step finds the session gone.
   */
  readonly cookie: 'set' | 'clear' | 'keep'
  /** Add `Vary: Cookie`: the response depends on the session (always true once it was read). */
  readonly vary: boolean
}

function plan(steps: Step[], cookie: CommitPlan['cookie']): CommitPlan {
  if (steps.length === 0 && cookie === 'keep') return NOTHING
  return { steps, cookie, vary: true }
}

/** The plan of most requests (a session only read): no store work, no cookie. */
const NOTHING: CommitPlan = Object.freeze({ steps: Object.freeze([]), cookie: 'keep', vary: true })

/** The ends of whatever the request loaded: the record, the pointer it came through, a stale one. */
function ends(input: PlanInput): Step[] {
  const steps: Step[] = []
  if (input.loaded === 'live' || input.loaded === 'forwarded') steps.push('destroy-loaded')
  if (input.loaded === 'forwarded') steps.push('destroy-forwarder')
  if (input.stale) steps.push('destroy-stale')
  return steps
}

/**
 * The cookie of a write that keeps the id. A forwarded request never learns the renewed id (the
 * renewing response carried it); a browser-session cookie with a server store needs no re-send
 * unless its attributes change; a persistent one slides its Max-Age.
 */
function resend(input: PlanInput): CommitPlan['cookie'] {
  if (input.loaded === 'forwarded') return 'keep'
  if (input.storage === 'cookie') return 'set'
  return input.cookieChanged || input.persistent ? 'set' : 'keep'
}

/** Decides the commit. Pure: the same input always gives the same plan. */
export function planCommit(input: PlanInput): CommitPlan {
  const server = input.storage === 'server'
  const presented = input.loaded !== 'none'

  if (input.invalidated) {
    return plan(server ? ends(input) : [], presented ? 'clear' : 'keep')
  }
  if (input.fresh || input.loaded === 'none' || input.loaded === 'invalid') {
    // A new session: stored only once something is written; whatever was loaded ends, after the
    // new record exists (a failed create leaves the old session alive).
    const create = input.changed || input.regenerated
    if (!server) return plan([], create ? 'set' : presented ? 'clear' : 'keep')
    const steps: Step[] = create ? ['create'] : []
    if (input.fresh) steps.push(...ends(input))
    else if (input.stale) steps.push('destroy-stale')
    return plan(steps, create ? 'set' : presented ? 'clear' : 'keep')
  }
  // A live session, reached directly or through a renewal's old id.
  if (input.regenerated) return plan(server ? ['create', ...ends(input)] : [], 'set')
  if (server && input.renewalDue && input.loaded !== 'forwarded') return plan(['renew'], 'set')
  if (input.changed) return plan(server ? ['patch'] : [], resend(input))
  if (input.touchDue) return plan(server ? ['touch'] : [], resend(input))
  if (input.rotated && !server) return plan([], 'set')
  return plan([], 'keep')
}
