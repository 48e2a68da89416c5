/**
 * Carrying out a commit plan: the plan's input is read off a request's state, the plan is made by
 * {@link planCommit}, and its steps run against the storage in order. Internal.
 *
 * @module
 */
import { observeClient } from './client.ts'
import { clearCookie, isLocalPlainHttp, setCookie } from './cookie.ts'
import type { ResolvedOptions } from './options.ts'
import { type CommitPlan, type PlanInput, planCommit, type Step } from './plan.ts'
import type { RequestState } from './request.ts'
import type { SessionState } from './session.ts'
import type { WriteOutcome } from './storage.ts'

/**
 * The plan's input for a request whose session was loaded into `state`, at time `now`. `quiet`: no
 * touch or renewal (they wait for the next request).
 */
export function planInput(
  options: ResolvedOptions,
  rs: RequestState,
  state: SessionState,
  now: number = state.now(),
  quiet = false,
): PlanInput {
  const storage = options.storage.kind
  const loaded = rs.loaded
  const live = rs.loadedAs === 'live' || rs.loadedAs === 'forwarded'
  const renewal = options.renewalIntervalMs
  const changes = state.changes
  return {
    storage,
    loaded: rs.loadedAs,
    rotated: loaded?.rotated === true,
    stale: rs.stale !== null,
    fresh: rs.replacedByNew,
    invalidated: state.invalidated,
    regenerated: state.regenerated,
    changed: state.changed,
    cookieChanged: changes !== null && (changes.maxAge || changes.persistent),
    persistent: state.isPersistent(state),
    touchDue: !quiet && live && !rs.replacedByNew && state.touchDue(state, now),
    renewalDue:
      !quiet &&
      renewal !== null &&
      storage === 'server' &&
      rs.loadedAs === 'live' &&
      !rs.replacedByNew &&
      now - state.renewedAt >= renewal,
  }
}

/**
 * Whether the automatic Secure attribute applies to this request. In production it always does,
 * without asking the adapter how the request arrived.
 */
function secure(options: ResolvedOptions, rs: RequestState): boolean {
  const fixed = options.cookie.secure
  if (fixed !== undefined) return fixed
  return options.production || !isLocalPlainHttp(rs.transport(), false)
}

/** The Set-Cookie headers of a finished plan. */
function cookies(
  options: ResolvedOptions,
  rs: RequestState,
  state: SessionState,
  plan: CommitPlan,
  outcome: WriteOutcome,
  now: number,
): string[] {
  if (plan.cookie === 'clear') return [clearCookie(options.cookie, secure(options, rs))]
  if (plan.cookie === 'keep' || outcome !== 'ok') return []
  const value = options.storage.cookieValue(state, now)
  let maxAge: number | undefined
  if (state.isPersistent(state)) {
    const left = state.deadline(state, now) - now
    if (Number.isFinite(left)) maxAge = Math.max(0, Math.ceil(left / 1000))
  }
  return [
    setCookie(options.cookie, value, maxAge, secure(options, rs), now, options.storage.uriSafe),
  ]
}

/** The steps that write the session's record, which then carries the client (`clientInfo`). */
function writesRecord(step: Step): boolean {
  return step === 'create' || step === 'patch' || step === 'touch' || step === 'renew'
}

/** Runs the plan's store steps: creation first, then the patch or touch, then every deletion. */
async function run(
  options: ResolvedOptions,
  rs: RequestState,
  state: SessionState,
  steps: readonly Step[],
  now: number,
): Promise<WriteOutcome> {
  const storage = options.storage
  const loaded = rs.loaded
  let outcome: WriteOutcome = 'ok'
  const deletions: string[] = []
  for (const step of steps) {
    switch (step) {
      case 'create':
        await storage.create(state, now)
        break
      case 'patch':
      case 'touch':
        outcome = await storage.patch(state, now, step === 'touch')
        break
      case 'renew':
        if (loaded !== null) {
          outcome = await storage.renew(state, loaded, now, options.renewalGraceMs)
        }
        break
      case 'destroy-loaded':
        if (loaded?.handle) deletions.push(loaded.handle)
        break
      case 'destroy-forwarder':
        if (loaded?.forwardedFrom) deletions.push(loaded.forwardedFrom)
        break
      case 'destroy-stale':
        if (rs.stale !== null) deletions.push(rs.stale)
        break
    }
  }
  await Promise.all(deletions.map((handle) => storage.destroy(handle)))
  return outcome
}

/**
 * Commits a loaded request: plans, runs the store steps, and returns the Set-Cookie headers —
 * directly when the plan has no store work, as a promise otherwise. `quiet`: the adapter holds only
 * what a commit that writes nothing needs (`AttachedRequest.watchCommit`), so no touch or renewal
 * is planned, and a write is an internal error.
 */
export function commitState(
  options: ResolvedOptions,
  rs: RequestState,
  state: SessionState,
  quiet = false,
): string[] | Promise<string[]> {
  const now = options.clock()
  const plan = planCommit(planInput(options, rs, state, now, quiet))
  if (quiet && (plan.steps.length > 0 || plan.cookie !== 'keep')) {
    // Every cause of a write tells the watcher first (request.ts, session.ts): unreachable.
    throw new Error(`sessionware: a watched commit planned a write (${plan.steps.join(', ')})`)
  }
  if (plan.steps.length === 0) return cookies(options, rs, state, plan, 'ok', now)
  if (options.clientInfo && plan.steps.some(writesRecord)) {
    // Recorded only along with a write the plan makes anyway: never a write of its own.
    state.client = observeClient(
      rs.transport(),
      rs.request,
      options.clientAddress,
      state.storedClient,
    )
  }
  const only = plan.steps.length === 1 ? plan.steps[0] : undefined
  if (only === 'patch' || only === 'touch') {
    // The commonest write. A store that patches synchronously: the response need not wait for a
    // promise; any other: one reaction on the storage's patch, not `run`'s chain of them.
    const storage = options.storage
    const outcome = storage.patchNow?.(state, now, only === 'touch')
    if (outcome !== undefined) return cookies(options, rs, state, plan, outcome, now)
    let pending: Promise<WriteOutcome>
    try {
      pending = storage.patch(state, now, only === 'touch')
    } catch (error) {
      return Promise.reject(error) // as from `run`: a store write fails as a rejection
    }
    return pending.then((outcome) => cookies(options, rs, state, plan, outcome, now))
  }
  return run(options, rs, state, plan.steps, now).then((outcome) =>
    cookies(options, rs, state, plan, outcome, now),
  )
}
