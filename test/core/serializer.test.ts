import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { jsonSerializer } from '../../src/core/serializer.ts'

/** Every property runs at most this many cases and for at most this long. */
const RUNS = { numRuns: 300, interruptAfterTimeLimit: 10_000 } as const

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const PROTOTYPE_KEYS = Reflect.ownKeys(Object.prototype)

/** Keys that name inherited members of ordinary objects: legitimate data in a session. */
const INHERITED_NAMES = [
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  '__defineGetter__',
  '__lookupSetter__',
] as const

/**
 * `value` as JSON can carry it through `JSON.stringify`: without `__proto__` keys and with -0 as 0
 * (JSON text writes -0 as 0). Objects come out as ordinary objects.
 */
function normalised(value: unknown): Json {
  if (Array.isArray(value)) return value.map(normalised)
  if (value !== null && typeof value === 'object') {
    const out: { [key: string]: Json } = {}
    for (const [key, item] of Object.entries(value)) {
      if (key !== '__proto__') out[key] = normalised(item)
    }
    return out
  }
  if (Object.is(value, -0)) return 0
  return value as Json
}

/** Any JSON value that JSON text carries unchanged. */
const jsonValue = fc.jsonValue({ maxDepth: 4 }).map(normalised)

/** Objects whose keys are mostly names of inherited members, nested a few levels. */
const inheritedNameTree: fc.Arbitrary<Json> = fc
  .letrec((tie) => ({
    value: fc.oneof(
      { maxDepth: 4, depthIdentifier: 'tree' },
      fc.oneof(fc.boolean(), fc.integer(), fc.string({ maxLength: 8 }), fc.constant(null)),
      tie('object'),
      fc.array(tie('value'), { maxLength: 3, depthIdentifier: 'tree' }),
    ),
    object: fc.dictionary(
      fc.oneof(fc.constantFrom(...INHERITED_NAMES), fc.string({ maxLength: 6 })),
      tie('value'),
      { maxKeys: 5, noNullPrototype: true, depthIdentifier: 'tree' },
    ),
  }))
  .value.map(normalised)

/** Draws a choice inside a property. */
type Draw = fc.GeneratorValue

const SPACES = ['', ' ', '\n', '\t ', '\r\n  '] as const

/** Payloads given to an injected `__proto__` key. */
const PAYLOADS = [
  '{"polluted":true}',
  '{"__proto__":{"polluted":true},"toString":"x"}',
  '{"constructor":{"prototype":{"polluted":true}}}',
  'null',
  '[{"polluted":true}]',
] as const

/** A JSON string literal of `text`, each UTF-16 unit written plainly or as a \u escape at random. */
function stringLiteral(text: string, draw: Draw, escapes: boolean): string {
  let out = '"'
  for (const unit of text.split('')) {
    out +=
      escapes && draw(fc.boolean)
        ? `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`
        : JSON.stringify(unit).slice(1, -1)
  }
  return `${out}"`
}

/** Where and how `writeJson` puts `__proto__` keys into the text. */
interface Injection {
  /** Whether to inject into the object at the top (always, when it is one). */
  readonly atTop: boolean
  /** Whether to inject into nested objects (at random ones). */
  readonly nested: boolean
  /** Count of `__proto__` keys written so far. */
  count: number
}

/**
 * JSON text of `value` as a hostile writer may produce it: random white space, keys optionally
 * written with \u escapes, and `__proto__` keys (plainly or escaped, with hostile payloads)
 * inserted at random positions of objects when `injection` says so.
 */
function writeJson(
  value: Json,
  draw: Draw,
  escapes: boolean,
  injection?: Injection,
  depth = 0,
): string {
  const space = () => draw(fc.constantFrom, ...SPACES)
  if (Array.isArray(value)) {
    const items = value.map((item) => writeJson(item, draw, escapes, injection, depth + 1))
    return `[${space()}${items.join(`,${space()}`)}${space()}]`
  }
  if (value === null || typeof value !== 'object') return JSON.stringify(value)
  const entries = Object.entries(value).map(
    ([key, item]) =>
      `${stringLiteral(key, draw, escapes)}${space()}:${space()}${writeJson(item, draw, escapes, injection, depth + 1)}`,
  )
  const inject =
    injection !== undefined &&
    ((depth === 0 && injection.atTop) || (depth > 0 && injection.nested && draw(fc.boolean)))
  if (inject) {
    const position = draw(fc.integer, { min: 0, max: entries.length })
    const payload = draw(fc.constantFrom, ...PAYLOADS)
    const key = stringLiteral('__proto__', draw, true)
    entries.splice(position, 0, `${key}${space()}:${space()}${payload}`)
    injection.count += 1
  }
  return `{${space()}${entries.join(`,${space()}`)}${space()}}`
}

/** Every object inside `value`, itself included. */
function objectsIn(value: unknown, found: object[] = []): object[] {
  if (value !== null && typeof value === 'object') {
    found.push(value)
    for (const item of Object.values(value)) objectsIn(item, found)
  }
  return found
}

/** A careless deep merge, as application code might write one; it follows `__proto__`. */
function carelessMerge(target: Record<string, unknown>, source: Record<string, unknown>): void {
  for (const key of Object.keys(source)) {
    const item = source[key]
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const current = target[key]
      if (current === null || typeof current !== 'object') target[key] = {}
      carelessMerge(target[key] as Record<string, unknown>, item as Record<string, unknown>)
    } else {
      target[key] = item
    }
  }
}

function assertPrototypeIntact(): void {
  assert.deepEqual(Reflect.ownKeys(Object.prototype), PROTOTYPE_KEYS)
  assert.equal(({} as Record<string, unknown>).polluted, undefined)
}

describe('jsonSerializer', () => {
  it('writes JSON text', () => {
    const value = { user: 'ann', roles: ['admin'], n: 1.5, ok: true, none: null }
    assert.equal(jsonSerializer.stringify(value), JSON.stringify(value))
  })

  it('keeps constructor, prototype and other inherited names as data keys', () => {
    const value = {
      constructor: 'Ann',
      prototype: { constructor: { prototype: 1 } },
      toString: 'text',
      list: [{ hasOwnProperty: false }],
    }
    const parsed = jsonSerializer.parse(jsonSerializer.stringify(value))
    assert.deepEqual(parsed, value)
    assertPrototypeIntact()
  })

  it('keeps a constructor key spelt with \\u escapes', () => {
    const parsed = jsonSerializer.parse('{"c\\u006fnstructor":"Ann","a":"caf\\u00e9"}')
    assert.deepEqual(parsed, { constructor: 'Ann', a: 'café' })
  })

  it('drops __proto__ keys at any depth, also spelt with \\u escapes', () => {
    const text =
      '{"__proto__":{"polluted":true},"n":1,"nested":{"\\u005f\\u005fproto__":{"polluted":1},' +
      '"list":[{"__pr\\u006fto__" : [1],"ok":true}]}}'
    const parsed = jsonSerializer.parse(text) as Record<string, unknown>
    assert.deepEqual(parsed, { n: 1, nested: { list: [{ ok: true }] } })
    for (const object of objectsIn(parsed)) {
      assert.equal(Object.hasOwn(object, '__proto__'), false)
      if (!Array.isArray(object))
        assert.equal(Object.getPrototypeOf({ ...object }), Object.prototype)
    }
    assertPrototypeIntact()
  })

  it('keeps the string "__proto__" where it is a value', () => {
    const value = { key: '__proto__', list: ['__proto__', '\\u005f'] }
    assert.deepEqual(jsonSerializer.parse(jsonSerializer.stringify(value)), value)
  })

  it('throws a SyntaxError on malformed text, on both paths', () => {
    assert.throws(() => jsonSerializer.parse('{"a":'), SyntaxError)
    assert.throws(() => jsonSerializer.parse('{"__proto__":'), SyntaxError)
    assert.throws(() => jsonSerializer.parse(''), SyntaxError)
  })

  it('gives back any JSON value without __proto__ keys (property)', () => {
    fc.assert(
      fc.property(jsonValue, (value) => {
        assert.deepEqual(jsonSerializer.parse(jsonSerializer.stringify(value)), value)
      }),
      RUNS,
    )
  })

  it('gives back objects keyed by inherited member names (property)', () => {
    fc.assert(
      fc.property(inheritedNameTree, (value) => {
        assert.deepEqual(jsonSerializer.parse(jsonSerializer.stringify(value)), value)
      }),
      RUNS,
    )
    assertPrototypeIntact()
  })

  it('reads hand-written text with escaped keys and any white space (property)', () => {
    fc.assert(
      fc.property(fc.oneof(jsonValue, inheritedNameTree), fc.gen(), (value, draw) => {
        assert.deepEqual(jsonSerializer.parse(writeJson(value, draw, true)), value)
      }),
      RUNS,
    )
  })

  it('drops __proto__ keys injected at random depths and pollutes nothing (property)', () => {
    const topObject = fc.dictionary(
      fc.string({ maxLength: 6 }),
      fc.oneof(jsonValue, inheritedNameTree),
      {
        maxKeys: 4,
        noNullPrototype: true,
      },
    )
    fc.assert(
      fc.property(topObject.map(normalised), fc.boolean(), fc.gen(), (value, nested, draw) => {
        const injection: Injection = { atTop: true, nested, count: 0 }
        const text = writeJson(value, draw, draw(fc.boolean), injection)
        // The text is hostile: plain JSON.parse keeps an own __proto__ key from it.
        assert.ok(injection.count >= 1)
        assert.ok(objectsIn(JSON.parse(text)).some((object) => Object.hasOwn(object, '__proto__')))

        const parsed = jsonSerializer.parse(text)
        assert.deepEqual(parsed, value)
        for (const object of objectsIn(parsed)) {
          assert.equal(Object.hasOwn(object, '__proto__'), false)
          if (!Array.isArray(object)) {
            assert.equal(Object.getPrototypeOf(object), Object.prototype)
            assert.equal(Object.getPrototypeOf({ ...object }), Object.prototype)
            assert.equal(Object.getPrototypeOf(Object.assign({}, object)), Object.prototype)
          }
        }
        carelessMerge({}, parsed as Record<string, unknown>)
        assertPrototypeIntact()
      }),
      RUNS,
    )
  })
})
