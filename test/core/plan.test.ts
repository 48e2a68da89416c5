import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { type Loaded, type PlanInput, planCommit, type Step } from '../../src/core/plan.ts'

const FLAGS = [
  'rotated',
  'stale',
  'fresh',
  'invalidated',
  'regenerated',
  'changed',
  'cookieChanged',
  'persistent',
  'touchDue',
  'renewalDue',
] as const
type Flag = (typeof FLAGS)[number]
const LOADED: readonly Loaded[] = ['none', 'invalid', 'live', 'forwarded']

function input(storage: 'cookie' | 'server', loaded: Loaded, flags: Iterable<Flag>): PlanInput {
  const on = new Set(flags)
  const out = { storage, loaded } as Record<string, unknown>
  for (const flag of FLAGS) out[flag] = on.has(flag)
  return out as unknown as PlanInput
}

/**
 * Every possible combination of the plan's inputs (cookie storage has no renewal pointers and no
 * stale records).
 */
function* everyInput(): Generator<PlanInput> {
  for (const storage of ['cookie', 'server'] as const) {
    for (const loaded of LOADED) {
      if (storage === 'cookie' && loaded === 'forwarded') continue
      for (let bits = 0; bits < 2 ** FLAGS.length; bits++) {
        // An expired record is found only under a server cookie that was then refused.
        const stale = (bits & (1 << FLAGS.indexOf('stale'))) !== 0
        if (stale && (storage === 'cookie' || loaded !== 'invalid')) continue
        yield input(
          storage,
          loaded,
          FLAGS.filter((_, i) => bits & (1 << i)),
        )
      }
    }
  }
}

/** The table of decisions/005-commit-plan.md, parsed. */
function noteRows(): Array<{ line: string; input: PlanInput; steps: Step[]; cookie: string }> {
  const note = readFileSync(new URL('../../decisions/005-commit-plan.md', import.meta.url), 'utf8')
  const rows = note
    .split('\n')
    .filter((line) => /^\| (server|cookie) \|/.test(line))
    .map((line) => {
      const [storage, loaded, flags, steps, cookie] = line
        .split('|')
        .slice(1, -1)
        .map((cell) => cell.trim())
      const words = flags === '—' ? [] : (flags as string).split(' ')
      for (const word of words) assert.ok(FLAGS.includes(word as Flag), `flag ${word} in: ${line}`)
      return {
        line,
        input: input(storage as 'server', loaded as Loaded, words as Flag[]),
        steps: steps === '—' ? [] : ((steps as string).split(', ') as Step[]),
        cookie: cookie as string,
      }
    })
  assert.ok(rows.length >= 30, 'the note has its table')
  return rows
}

describe('the commit plan', () => {
  it('gives what every row of the decision note says', () => {
    for (const row of noteRows()) {
      const plan = planCommit(row.input)
      assert.deepEqual([...plan.steps], row.steps, row.line)
      assert.equal(plan.cookie, row.cookie, row.line)
      assert.equal(plan.vary, true, row.line)
    }
  })

  it('keeps its invariants over every combination of inputs', () => {
    let count = 0
    for (const i of everyInput()) {
      count++
      const plan = planCommit(i)
      const steps = plan.steps
      const where = JSON.stringify(i)
      const has = (step: Step) => steps.includes(step)
      assert.equal(plan.vary, true, where)
      if (i.storage === 'cookie')
        assert.deepEqual(steps, [], `cookie storage has no store: ${where}`)
      // Creation before destruction: a failed create leaves the old session alive.
      const create = steps.indexOf('create')
      if (create >= 0) {
        for (const [index, step] of steps.entries()) {
          if (step.startsWith('destroy')) assert.ok(index > create, where)
        }
      }
      // Only what was loaded can be destroyed.
      if (has('destroy-loaded')) assert.ok(i.loaded === 'live' || i.loaded === 'forwarded', where)
      if (has('destroy-forwarder')) assert.equal(i.loaded, 'forwarded', where)
      if (has('destroy-stale')) assert.ok(i.stale, where)
      // An ended session writes nothing and never sends a live cookie.
      if (i.invalidated) {
        assert.ok(!has('create') && !has('patch') && !has('touch') && !has('renew'), where)
        assert.notEqual(plan.cookie, 'set', where)
      }
      // A login or regenerate ends whatever was loaded, both records of a renewal included.
      if (!i.invalidated && (i.fresh || i.regenerated) && i.storage === 'server') {
        if (i.loaded === 'live' || i.loaded === 'forwarded') assert.ok(has('destroy-loaded'), where)
        if (i.loaded === 'forwarded') assert.ok(has('destroy-forwarder'), where)
      }
      // A forwarded request never learns the renewed id.
      if (i.loaded === 'forwarded' && !i.fresh && !i.regenerated) {
        assert.notEqual(plan.cookie, 'set', where)
        assert.ok(!has('renew'), where)
      }
      // Nothing to do costs nothing: an anonymous visitor, a read-only request.
      const quiet = !i.changed && !i.regenerated && !i.invalidated && !i.fresh
      if (quiet && i.loaded === 'none') assert.deepEqual([steps, plan.cookie], [[], 'keep'], where)
      if (quiet && i.loaded === 'live' && !i.touchDue && !i.renewalDue && !i.rotated) {
        assert.deepEqual([steps, plan.cookie], [[], 'keep'], where)
      }
      // A patch only for changes, a touch only without them, one of the three at most.
      if (has('patch')) assert.ok(i.changed, where)
      if (has('touch')) assert.ok(!i.changed && i.touchDue, where)
      assert.ok(steps.filter((s) => s === 'patch' || s === 'touch' || s === 'renew').length <= 1)
      // A change to a live session is always saved somewhere.
      if (i.changed && !i.invalidated && i.storage === 'server' && i.loaded !== 'none') {
        assert.ok(has('patch') || has('create') || has('renew'), where)
      }
      if (i.changed && !i.invalidated && i.storage === 'cookie') assert.equal(plan.cookie, 'set')
      // A renewal only for a live session of a server store, and never with a new id anyway.
      if (has('renew')) {
        assert.ok(i.storage === 'server' && i.loaded === 'live' && i.renewalDue, where)
        assert.ok(!i.regenerated && !i.fresh, where)
      }
    }
    assert.equal(count, 4096)
  })

  it('is pure: the same input gives an equal plan', () => {
    for (const row of noteRows()) {
      assert.deepEqual(planCommit(row.input), planCommit({ ...row.input }))
    }
  })
})
