/**
 * The field-level patch scenarios of the store conformance suite: the order of a patch
 * (clearPrefix, then unset, then set), the version and times it writes, `gone` without creating
 * anything, hostile field names and texts, large patches, concurrent patches on one record, and
 * a property test comparing random patch sequences with a plain in-memory model.
 *
 * Not part of the package; used by `store-suite.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { SessionPatch, SessionStore } from '../../src/core/types.ts'
import {
  assertGone,
  assertSameRecord,
  fieldEntries,
  HOUR,
  MINUTE,
  mustCreate,
  mustPatch,
  newId,
  newRecord,
  touchPatch,
} from './store-helpers.ts'
import type { Scenario } from './store-suite.ts'

/**
 * Names that break naive quoting in Lua, SQL, JSON paths, LIKE/GLOB patterns or JS objects.
 * (No NUL: the contract excludes it.)
 */
export const HOSTILE_NAMES: readonly string[] = [
  'd:"',
  "d:'",
  'd:\\',
  'd:\\"',
  'd:a.b',
  'd:$',
  'd:$.x',
  '$',
  'd:{}',
  'd:[0]',
  'd:a b',
  'd: ',
  'd:%',
  'd:_',
  'd:*?[',
  'd:\n\t',
  'd:日本',
  'd:🎉',
  '__proto__',
  'constructor',
  'toString',
  'd:__proto__',
  '"$."||1',
  "'); DROP TABLE x; --",
]

/** Texts a store must keep as they are (no JSON interpretation, no trimming). */
export const HOSTILE_TEXTS: readonly string[] = [
  '',
  ' ',
  'null',
  '123',
  '"quoted"',
  '{"a":[1,2]}',
  "'",
  '\\',
  '\\u0000',
  '\r\n\t',
  'Zoë 🎉 \u{10FFFD}',
  'e\u0301',
]

export function patchScenarios(scenario: Scenario): void {
  scenario(
    'a patch sets and unsets fields, writes the times and bumps the version',
    async ({ store }) => {
      const created = newRecord({ fields: { 'd:a': '1', 'd:b': '2', m: '60' } })
      await mustCreate(store, created)
      const patch = touchPatch({
        set: { 'd:a': '10', 'd:c': '"three"' },
        unset: ['d:b', 'd:never'],
        lastActiveAt: created.lastActiveAt + 1000,
        expiresAt: created.expiresAt + HOUR,
      })
      await mustPatch(store, created.id, patch, 2)
      assertSameRecord(await store.get(created.id), {
        ...created,
        fields: { 'd:a': '10', 'd:c': '"three"', m: '60' },
        version: 2,
        lastActiveAt: patch.lastActiveAt,
        expiresAt: patch.expiresAt,
      })
    },
  )

  scenario('an empty patch is a touch: new times and version, same fields', async ({ store }) => {
    const created = newRecord({ subject: 'someone' })
    await mustCreate(store, created)
    const patch = touchPatch({ lastActiveAt: Date.now() + 5, expiresAt: Date.now() + 2 * HOUR })
    await mustPatch(store, created.id, patch, 2)
    await mustPatch(store, created.id, patch, 3)
    assertSameRecord(await store.get(created.id), {
      ...created,
      version: 3,
      lastActiveAt: patch.lastActiveAt,
      expiresAt: patch.expiresAt,
    })
  })

  scenario('applies clearPrefix, then unset, then set', async ({ store }) => {
    const created = newRecord({
      fields: { 'f:a': '1', 'f:b': '2', 'd:f:x': '3', 'F:c': '4', fx: '5', 'd:k': '6' },
    })
    await mustCreate(store, created)
    const patch = touchPatch({
      clearPrefix: 'f:',
      unset: ['d:k', 'f:new'],
      set: { 'f:new': '"kept"', 'd:k': '"set after unset"' },
    })
    await mustPatch(store, created.id, patch, 2)
    assert.deepEqual(fieldEntries((await store.get(created.id))?.fields), [
      ['F:c', '4'],
      ['d:f:x', '3'],
      ['d:k', '"set after unset"'],
      ['f:new', '"kept"'],
      ['fx', '5'],
    ])
  })

  scenario('clearPrefix matches the prefix literally, never as a pattern', async ({ store }) => {
    const fields = {
      'a_%x': '1',
      'a_%': '2',
      abx: '3',
      'a_b%': '4',
      'ab%x': '5',
      'a_%*': '6',
      'a\\_%': '7',
    }
    for (const [prefix, kept] of [
      ['a_%', ['a\\_%', 'a_b%', 'ab%x', 'abx']],
      ['*', Object.keys(fields)],
      ['a\\', ['a_%', 'a_%*', 'a_%x', 'a_b%', 'ab%x', 'abx']],
      ['', []],
      ['a_%x-no', Object.keys(fields)],
    ] as const) {
      const created = newRecord({ fields })
      await mustCreate(store, created)
      await mustPatch(store, created.id, touchPatch({ clearPrefix: prefix }), 2)
      const names = fieldEntries((await store.get(created.id))?.fields).map(([n]) => n)
      assert.deepEqual(names, [...kept].sort(), `clearPrefix ${JSON.stringify(prefix)}`)
    }
  })

  scenario('a patch of an absent id is gone and creates nothing', async ({ store }) => {
    const id = newId()
    assertGone(await store.patch(id, touchPatch({ set: { 'd:zombie': 'true' }, subject: 'z' })))
    assert.equal(await store.get(id), null)
    if (store.listBySubject) assert.deepEqual(await store.listBySubject('z'), [])
    await mustCreate(store, newRecord({ id }))
    assert.equal((await store.get(id))?.fields['d:zombie'], undefined)
  })

  scenario('a patch of a deleted record is gone and does not resurrect it', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    await store.delete(created.id)
    assertGone(await store.patch(created.id, touchPatch({ set: { 'd:late': '1' } })))
    assert.equal(await store.get(created.id), null)
  })

  scenario('a patch of an expired record is gone and does not revive it', async ({ store }) => {
    const expired = newRecord({ expiresAt: Date.now() - MINUTE })
    await store.create(expired)
    const patch = touchPatch({ set: { 'd:late': '1' }, expiresAt: Date.now() + HOUR })
    assertGone(await store.patch(expired.id, patch))
    assert.equal(await store.get(expired.id), null)
    await mustCreate(store, newRecord({ id: expired.id }))
  })

  scenario('keeps hostile field names and texts exactly', async ({ store }) => {
    const created = newRecord({ fields: {} })
    await mustCreate(store, created)
    const set: Record<string, string> = {}
    for (const [i, name] of HOSTILE_NAMES.entries()) {
      Object.defineProperty(set, name, {
        value: HOSTILE_TEXTS[i % HOSTILE_TEXTS.length] as string,
        enumerable: true,
      })
    }
    await mustPatch(store, created.id, touchPatch({ set }), 2)
    assert.deepEqual(fieldEntries((await store.get(created.id))?.fields), fieldEntries(set))
    // Each name can be unset on its own, and each clearPrefix of a hostile name works.
    const unset = HOSTILE_NAMES.filter((_, i) => i % 2 === 0)
    await mustPatch(store, created.id, touchPatch({ unset, clearPrefix: 'd:"' }), 3)
    const left = fieldEntries(set).filter(([n]) => !unset.includes(n) && !n.startsWith('d:"'))
    assert.deepEqual(fieldEntries((await store.get(created.id))?.fields), left)
  })

  scenario('creates and replaces with hostile field names exactly', async ({ store }) => {
    const fields = Object.fromEntries(
      HOSTILE_NAMES.map((n, i) => [n, `${i}:${HOSTILE_TEXTS[i % 5]}`]),
    )
    const created = newRecord({ fields })
    await mustCreate(store, created)
    assertSameRecord(await store.get(created.id), created)
    const swapped = Object.fromEntries(HOSTILE_NAMES.map((n) => [n, n]))
    assert.deepEqual(await store.replace({ ...created, fields: swapped }, 1), {
      ok: true,
      version: 2,
    })
    assertSameRecord(await store.get(created.id), { ...created, fields: swapped, version: 2 })
  })

  scenario('round-trips a 100 KB field text through a patch', async ({ store }) => {
    const created = newRecord()
    await mustCreate(store, created)
    const big = JSON.stringify(`${'x'.repeat(100 * 1024)}"\\'🎉`)
    await mustPatch(store, created.id, touchPatch({ set: { 'd:big': big } }), 2)
    assert.equal((await store.get(created.id))?.fields['d:big'], big)
    await mustPatch(store, created.id, touchPatch({ set: { 'd:small': '1' } }), 3)
    assert.equal((await store.get(created.id))?.fields['d:big'], big)
  })

  scenario('applies a patch of 500 fields, then unsets half of them', async ({ store }) => {
    const created = newRecord({ fields: { m: '1' } })
    await mustCreate(store, created)
    const set = Object.fromEntries(
      Array.from({ length: 500 }, (_, i) => [`d:k${i}.${'"'.repeat(i % 3)}`, JSON.stringify(i)]),
    )
    await mustPatch(store, created.id, touchPatch({ set }), 2)
    assert.deepEqual(
      fieldEntries((await store.get(created.id))?.fields),
      fieldEntries({ ...set, m: '1' }),
    )
    const unset = Object.keys(set).filter((_, i) => i % 2 === 1)
    await mustPatch(store, created.id, touchPatch({ unset }), 3)
    const kept = Object.entries(set).filter(([n]) => !unset.includes(n))
    assert.deepEqual(
      fieldEntries((await store.get(created.id))?.fields),
      fieldEntries(Object.fromEntries([...kept, ['m', '1']])),
    )
  })

  scenario('is not changed by mutating a patch after it was applied', async ({ store }) => {
    const created = newRecord({ fields: {} })
    await mustCreate(store, created)
    const set: Record<string, string> = { 'd:a': '1' }
    const unset = ['d:x']
    await mustPatch(store, created.id, touchPatch({ set, unset }), 2)
    set['d:a'] = '2'
    set['d:b'] = '3'
    unset.push('d:a')
    assert.deepEqual(fieldEntries((await store.get(created.id))?.fields), [['d:a', '1']])
  })

  scenario('32 concurrent patches of distinct fields on one record all land', async ({ store }) => {
    const created = newRecord({ fields: { 'd:start': 'true' } })
    await mustCreate(store, created)
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) =>
        store.patch(
          created.id,
          touchPatch({ set: { [`d:k${i}`]: String(i) }, unset: ['d:start'] }),
        ),
      ),
    )
    const versions = results.map((result) => {
      assert.ok(result.ok, `a patch failed: ${JSON.stringify(result)}`)
      return result.version
    })
    // Each patch was applied once, to the record as it was then: 32 distinct versions.
    assert.deepEqual(
      versions.sort((a, b) => a - b),
      Array.from({ length: 32 }, (_, i) => i + 2),
    )
    const stored = await store.get(created.id)
    assert.equal(stored?.version, 33)
    assert.deepEqual(
      fieldEntries(stored?.fields),
      fieldEntries(
        Object.fromEntries(Array.from({ length: 32 }, (_, i) => [`d:k${i}`, String(i)])),
      ),
    )
  })

  scenario(
    'concurrent patches and a delete: the deleted record stays deleted',
    async ({ store }) => {
      const created = newRecord()
      await mustCreate(store, created)
      const patches = Array.from({ length: 16 }, (_, i) =>
        store.patch(created.id, touchPatch({ set: { [`d:k${i}`]: '1' } })),
      )
      const deleted = store.delete(created.id)
      const late = Array.from({ length: 16 }, (_, i) =>
        deleted.then(() => store.patch(created.id, touchPatch({ set: { [`d:late${i}`]: '1' } }))),
      )
      const results = await Promise.all([...patches, ...late])
      for (const result of results.slice(16)) assertGone(result)
      for (const result of results) {
        if (!result.ok) assert.equal(result.reason, 'gone')
      }
      assert.equal(await store.get(created.id), null)
    },
  )

  scenario(
    'random patch sequences give the fields of a plain model (property)',
    async ({ store }) => {
      await fc.assert(
        fc.asyncProperty(
          fc.array(patchArbitrary(), { minLength: 1, maxLength: 8 }),
          async (steps) => {
            await checkAgainstModel(store, steps)
          },
        ),
        { numRuns: 30, interruptAfterTimeLimit: 20_000 },
      )
    },
  )
}

/** A random patch over a small pool of names (so that steps collide) with hostile ones among them. */
function patchArbitrary(): fc.Arbitrary<Omit<SessionPatch, 'lastActiveAt' | 'expiresAt'>> {
  const name = fc.constantFrom('d:a', 'd:b', 'f:a', 'f:b', 'm', 'd:"', "f:'", 'd:\\', 'd:.$', '🎉')
  const text = fc.oneof(
    fc.constantFrom(...HOSTILE_TEXTS),
    fc.string({ maxLength: 12, unit: 'grapheme' }).filter((s) => !s.includes('\u0000')),
  )
  return fc.record(
    {
      set: fc.dictionary(name, text, { maxKeys: 4, noNullPrototype: true }),
      unset: fc.array(name, { maxLength: 3 }),
      clearPrefix: fc.constantFrom(undefined, 'f:', 'd:', 'd:"', '', 'x'),
      subject: fc.constantFrom(undefined, null, 'alice', 'bob'),
    },
    { requiredKeys: ['set', 'unset'] },
  )
}

/** Applies `steps` to a fresh record in the store and to a plain model, comparing after each. */
async function checkAgainstModel(
  store: SessionStore,
  steps: Array<Omit<SessionPatch, 'lastActiveAt' | 'expiresAt'>>,
): Promise<void> {
  const created = newRecord({ fields: { 'd:a': '"start"', 'f:a': '1' }, subject: 'carol' })
  await mustCreate(store, created)
  const model = new Map(Object.entries(created.fields))
  let subject: string | undefined = created.subject
  for (const [i, step] of steps.entries()) {
    const patch = touchPatch(step)
    await mustPatch(store, created.id, patch, i + 2)
    if (step.clearPrefix !== undefined) {
      for (const name of [...model.keys()]) {
        if (name.startsWith(step.clearPrefix)) model.delete(name)
      }
    }
    for (const name of step.unset) model.delete(name)
    for (const [name, text] of Object.entries(step.set)) model.set(name, text)
    if (step.subject !== undefined) subject = step.subject ?? undefined
    const stored = await store.get(created.id)
    assert.deepEqual(fieldEntries(stored?.fields), fieldEntries(Object.fromEntries(model)))
    assert.equal(stored?.subject, subject)
    assert.equal(stored?.version, i + 2)
  }
  await store.delete(created.id)
}
