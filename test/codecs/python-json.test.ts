import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { PythonFloat, pythonFloatRepr, pythonJsonStringify } from '../../src/lib/python-json.ts'
import { pythonJsonParse } from '../../src/lib/python-json-parse.ts'
import { requirePython, runPython } from '../support/python.ts'

/** JSON values of every kind: unicode (astral included), deep nesting, integer-like keys, floats. */
const values = fc.jsonValue({ maxDepth: 4 })
const doubles = fc.double({ noNaN: true, noDefaultInfinity: true })

/** Python's `json.dumps` of each text's `json.loads`, in one interpreter run. */
function pythonDumps(texts: string[], shuffle = false): string[] {
  return runPython<string[]>(
    `
import json, random, sys
random.seed(7)
def shuffled(value):
    if isinstance(value, dict):
        items = [(k, shuffled(v)) for k, v in value.items()]
        random.shuffle(items)
        return dict(items)
    if isinstance(value, list):
        return [shuffled(v) for v in value]
    return value
out = []
for text in json.load(sys.stdin):
    value = json.loads(text)
    out.append(json.dumps(shuffled(value) if ${shuffle ? 'True' : 'False'} else value))
print(json.dumps(out))
`,
    texts,
  )
}

describe('Python-style JSON', () => {
  it('writes what json.dumps writes for the same data (checked by the real Python)', (t) => {
    if (!requirePython(t, 'json')) return
    const samples = fc.sample(values, { numRuns: 400, seed: 42 })
    samples.push(
      { user: 'alice', n: 1, é: 'é', emoji: '😀', line: '\u2028\u2029\u007f', ctl: '\u0001\b' },
      { b: 1, '1': 2, '0': [1.5, 1e-7, 1e16, 1e21, 2 ** 60, -0, 0.0001, 1e-5, 123456789.125] },
      { nested: { deep: { list: [null, true, false, 'a;b,c"d'] } } },
    )
    const texts = samples.map((value) => JSON.stringify(value))
    const python = pythonDumps(texts)
    for (const [index, value] of samples.entries()) {
      assert.equal(pythonJsonStringify(value), python[index], texts[index])
    }
  })

  it('reads what Python wrote and writes the same bytes back, key order included (integer-like keys)', (t) => {
    if (!requirePython(t, 'json')) return
    const samples = fc.sample(
      fc.dictionary(fc.oneof(fc.string(), fc.nat().map(String)), values, { maxKeys: 8 }),
      { numRuns: 200, seed: 7 },
    )
    samples.push({ b: 1, '1': 2, a: { z: 1, '10': 2, '2': 3 } })
    const python = pythonDumps(
      samples.map((value) => JSON.stringify(value)),
      true,
    )
    for (const text of python) {
      assert.equal(pythonJsonStringify(pythonJsonParse(text)), text)
    }
  })

  it('writes floats as repr() does, PythonFloat keeping .0 on integral values', (t) => {
    if (!requirePython(t, 'json')) return
    // JSON cannot carry -0 to Python (it arrives as 0): checked on its own below.
    const samples = fc.sample(doubles, { numRuns: 500, seed: 3 }).filter((x) => !Object.is(x, -0))
    samples.push(
      1700000000,
      1700000000.25,
      0.1,
      1e-4,
      1e-5,
      1e15,
      1e16,
      5e-324,
      1.7976931348623157e308,
    )
    const python = runPython<string[]>(
      'import json, sys\nprint(json.dumps([repr(float(x)) for x in json.load(sys.stdin)]))',
      samples,
    )
    for (const [index, value] of samples.entries()) {
      assert.equal(pythonFloatRepr(value), python[index], String(value))
      assert.equal(pythonJsonStringify(new PythonFloat(value)), python[index])
    }
    assert.equal(
      pythonJsonStringify({ created: new PythonFloat(1700000000) }),
      '{"created": 1700000000.0}',
    )
    assert.equal(pythonFloatRepr(-0), '-0.0')
  })

  it('writes the compact asgi-sessions form: "," and ":" separators, raw UTF-8', () => {
    assert.equal(
      pythonJsonStringify({ user: 'alice', n: 1, é: '😀' }, { pythonDefaults: false }),
      '{"user":"alice","n":1,"é":"😀"}',
    )
  })

  it("reads Python's NaN and Infinity, drops __proto__ keys, and refuses what is not JSON", () => {
    const value = pythonJsonParse(
      '{"a": NaN, "b": [Infinity, -Infinity], "__proto__": {"x": 1}}',
    ) as Record<string, unknown>
    assert.ok(Number.isNaN(value.a))
    assert.deepEqual(value.b, [Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY])
    assert.equal(Object.getPrototypeOf(value), Object.prototype)
    assert.equal(Object.hasOwn(value, '__proto__'), false)
    const nested = pythonJsonParse('{"1": {"__proto__": {"polluted": true}}}') as Record<
      string,
      object
    >
    assert.equal(({} as Record<string, unknown>).polluted, undefined)
    assert.equal(Object.hasOwn(nested['1'] as object, '__proto__'), false)
    for (const bad of ['{"1": }', '{"1": 1', '[1,]', 'NaNa', '{"1" 1}', '"\\u12"', '[1] x']) {
      assert.throws(() => pythonJsonParse(bad), SyntaxError, bad)
    }
    assert.throws(() => pythonJsonParse(`${'['.repeat(100_000)}1`), SyntaxError)
  })

  it('refuses cycles and BigInt with a TypeError', () => {
    const cyclic: Record<string, unknown> = {}
    cyclic.self = cyclic
    assert.throws(() => pythonJsonStringify(cyclic), TypeError)
    assert.throws(() => pythonJsonStringify({ n: 1n }), TypeError)
  })
})
