import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createSimpleCodec } from '../../src/codecs/simple.ts'
import { decodeError, PAYLOAD, UNICODE } from '../support/codec-suite.ts'
import { withNodeEnv } from '../support/node-env.ts'
import { requirePython, runPython } from '../support/python.ts'

const codec = createSimpleCodec()

/** FORMATS.md §1.2 V1: aiohttp's SimpleCookieStorage cookie, as Python's http.cookies quotes it. */
const V1_COOKIE = String.raw`"{\"created\": 1700000000\054 \"session\": {\"user\": \"alice\"\054 \"n\": 1}}"`
const V1_PAYLOAD = '{"created": 1700000000, "session": {"user": "alice", "n": 1}}'

/** Python's http.cookies: quote (as aiohttp writes) and unquote (as aiohttp reads) each value. */
const PY_COOKIES = `
import sys, json
from http import cookies
inp = json.load(sys.stdin)
out = {
    "quoted": [cookies._quote(v) for v in inp["quote"]],
    "unquoted": [cookies._unquote(v) for v in inp["unquote"]],
    "loaded": [json.loads(v) for v in inp["load"]],
}
print(json.dumps(out))
`

// The shared codec suite is not run here: it requires cookie-octets from encode, and this codec's
// value is the JSON text itself, which the cookie layer must quote (see the module doc).
describe('simple codec', () => {
  it('reports its name', () => assert.equal(codec.name, 'simple'))

  it('returns the payload itself as the value, and the value itself as the payload', () => {
    for (const payload of [V1_PAYLOAD, '{}', PAYLOAD, UNICODE, 'a;b,c "d" \\e']) {
      assert.equal(codec.encode(payload), payload)
      assert.deepEqual(codec.decode(payload), { payload, rotated: false })
    }
  })

  it('reads the FORMATS.md §1.2 V1 payload once the cookie layer has unquoted it', (t) => {
    assert.equal(codec.decode(V1_PAYLOAD).payload, V1_PAYLOAD)
    if (!requirePython(t, 'json')) return
    const out = runPython<{ quoted: string[]; unquoted: string[]; loaded: unknown[] }>(PY_COOKIES, {
      quote: [codec.encode(V1_PAYLOAD), codec.encode('{}')],
      unquote: [V1_COOKIE],
      load: [codec.encode(V1_PAYLOAD), codec.encode(UNICODE)],
    })
    assert.deepEqual(out.quoted, [V1_COOKIE, '"{}"'])
    assert.deepEqual(out.unquoted, [V1_PAYLOAD])
    assert.deepEqual(out.loaded, [JSON.parse(V1_PAYLOAD), JSON.parse(UNICODE)])
  })

  it('rejects an empty value (aiohttp fails on it too), a non-string and a 10 KB value as malformed', () => {
    for (const bad of ['', null, undefined, 42, {}, 'x'.repeat(10 * 1024)]) {
      assert.equal(decodeError(() => codec.decode(bad as string)).reason, 'malformed')
    }
  })

  it('never reports rotated and throws nothing but SessionDecodeError on any input', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (value) => {
        if (value === '') decodeError(() => codec.decode(value))
        else assert.deepEqual(codec.decode(value), { payload: value, rotated: false })
      }),
      { numRuns: 300 },
    )
  })

  it('refuses to be created when NODE_ENV is production, unless unsafeAllowInProduction', () => {
    withNodeEnv('production', () => {
      assert.throws(() => createSimpleCodec(), {
        code: 'ERR_SESSION_CONFIG',
        message: /lets clients read and forge sessions; it refuses NODE_ENV=production/,
      })
      assert.equal(createSimpleCodec({ unsafeAllowInProduction: true }).name, 'simple')
    })
    withNodeEnv('test', () => assert.equal(createSimpleCodec().name, 'simple'))
    withNodeEnv(undefined, () => assert.equal(createSimpleCodec().name, 'simple'))
  })
})
