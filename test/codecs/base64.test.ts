import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createBase64Codec } from '../../src/codecs/base64.ts'
import { decodeError, PAYLOAD, runCodecSuite, UNICODE } from '../support/codec-suite.ts'
import { withNodeEnv } from '../support/node-env.ts'
import { requirePython, runPython } from '../support/python.ts'

const codec = createBase64Codec()

/** asgi-sessions' base64 type, as Python: urlsafe_b64encode / urlsafe_b64decode of UTF-8. */
const PY_BASE64 = `
import sys, json, base64
inp = json.load(sys.stdin)
out = {
    "encoded": [base64.urlsafe_b64encode(p.encode()).decode() for p in inp["encode"]],
    "decoded": [base64.urlsafe_b64decode(v).decode() for v in inp["decode"]],
}
print(json.dumps(out))
`

describe('base64 codec', () => {
  runCodecSuite('base64', codec, {
    hostile: ['😀', '=', '====', 'e30', 'e30=x', 'e3==', '+w==', '/w==', 'e30==', '__proto__'],
  })

  it('reports its name', () => assert.equal(codec.name, 'base64'))

  it('writes the FORMATS.md §3.2 vectors: url-safe base64 with padding', () => {
    assert.equal(codec.encode('{"user":"alice","n":1}'), 'eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ==')
    assert.equal(codec.encode('{"user":"alice"}'), 'eyJ1c2VyIjoiYWxpY2UifQ==')
    assert.equal(codec.encode('{}'), 'e30=')
    assert.deepEqual(codec.decode('eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ=='), {
      payload: '{"user":"alice","n":1}',
      rotated: false,
    })
    assert.equal(codec.encode('\u00fb\u00ff\u00fe'), 'w7vDv8O-') // - and _, never + and /
  })

  it('accepts any well-formed value, because nothing protects it', () => {
    assert.equal(codec.decode('eyJ1c2VyIjoiYWRtaW4ifQ==').payload, '{"user":"admin"}')
  })

  it('rejects unpadded, wrongly padded, standard-alphabet and non-canonical values as malformed', () => {
    const value = codec.encode('{"user":"alice"}') // ends in ==
    for (const bad of [
      value.replace(/=+$/, ''),
      `${value}=`,
      value.slice(0, -1),
      'e30',
      '+/+/',
      'e31=', // spare bits set
      'eyJ1c2VyIjoiYWxpY2UifR==', // spare bits set
      ` ${value}`,
      `${value}.`,
    ]) {
      assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
    }
  })

  it('rejects bytes that are not UTF-8 as malformed', () => {
    const latin1 = Buffer.from([0x7b, 0xe9, 0xff, 0x7d]).toString('base64url')
    assert.equal(decodeError(() => codec.decode(latin1)).reason, 'malformed')
  })

  it('rejects a 10 KB value as malformed', () => {
    assert.equal(
      decodeError(() => codec.decode(codec.encode('x'.repeat(7700)))).reason,
      'malformed',
    )
  })

  it('refuses to be created when NODE_ENV is production, unless unsafeAllowInProduction', () => {
    withNodeEnv('production', () => {
      assert.throws(() => createBase64Codec(), {
        code: 'ERR_SESSION_CONFIG',
        message: /lets clients read and forge sessions; it refuses NODE_ENV=production/,
      })
      assert.throws(
        () => createBase64Codec({ unsafeAllowInProduction: 'yes' as unknown as true }),
        {
          code: 'ERR_SESSION_CONFIG',
        },
      )
      assert.equal(createBase64Codec({ unsafeAllowInProduction: true }).name, 'base64')
    })
    withNodeEnv('test', () => assert.equal(createBase64Codec().name, 'base64'))
    withNodeEnv(undefined, () => assert.equal(createBase64Codec().name, 'base64'))
  })

  it('round-trips any text, and throws nothing but SessionDecodeError on garbage', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', minLength: 1, maxLength: 300 }), (payload) => {
        assert.deepEqual(codec.decode(codec.encode(payload)), { payload, rotated: false })
      }),
      { numRuns: 300 },
    )
    const garbage = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.stringMatching(/^[\w=-]{1,64}$/),
      fc.base64String({ minLength: 1 }),
    )
    fc.assert(
      fc.property(garbage, (value) => {
        try {
          codec.decode(value)
        } catch {
          decodeError(() => codec.decode(value))
        }
      }),
      { numRuns: 500 },
    )
  })

  it('agrees with Python urlsafe_b64encode / urlsafe_b64decode both ways', (t) => {
    if (!requirePython(t, 'json')) return
    const payloads = [
      '{"user":"alice","n":1}',
      UNICODE,
      '{"a":"é山😀","q":"a;b,c\\"d"}',
      '{}',
      PAYLOAD,
      JSON.stringify({ blob: 'y'.repeat(2800) }),
    ]
    const out = runPython<{ encoded: string[]; decoded: string[] }>(PY_BASE64, {
      encode: payloads,
      decode: payloads.map((payload) => codec.encode(payload)),
    })
    assert.deepEqual(
      out.encoded,
      payloads.map((payload) => codec.encode(payload)),
    )
    assert.deepEqual(out.decoded, payloads)
    assert.deepEqual(
      out.encoded.map((value) => codec.decode(value).payload),
      payloads,
    )
  })
})
