import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createJwtCodec } from '../../src/codecs/jwt.ts'
import { assertBadSecretListsRefused } from '../support/codec-refusals.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  decodeError,
  KEY,
  OLD_KEY,
  OTHER_KEY,
  PAYLOAD,
  runCodecSuite,
  UNICODE,
} from '../support/codec-suite.ts'
import { requirePython, runPython } from '../support/python.ts'

const codec = createJwtCodec({ keys: [KEY] })
const b64url = (text: string | Buffer) => Buffer.from(text).toString('base64url')
const HEADER = b64url('{"alg":"HS256","typ":"JWT"}')

/** A compact JWS of `header` and `payload` (texts), HMAC-SHA256 with `secret`. */
function sign(header: string, payload: string, secret: string, algorithm = 'sha256'): string {
  const signed = `${b64url(header)}.${b64url(payload)}`
  return `${signed}.${createHmac(algorithm, secret).update(signed).digest('base64url')}`
}

/** PyJWT's payload text: compact JSON with `ensure_ascii=True` (lowercase \uXXXX escapes). */
function pyjwtJson(value: unknown): string {
  return JSON.stringify(value).replace(
    /[\u0080-\uffff]/g,
    (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`,
  )
}

const OBJECTS: Record<string, unknown> = {
  ordinary: { user: 'alice', n: 1 },
  unicode: { name: 'Zoë 山田 😀', note: 'naïve;café,"q"', rtl: 'שלום', nested: { a: [1.5, null] } },
  empty: {},
  large: { blob: 'x'.repeat(2500) },
}

const PY_JWT = `
import sys, json, jwt
inp = json.load(sys.stdin)
out = {"encoded": [jwt.encode(json.loads(p), None if inp.get("alg") == "none" else inp["secret"], algorithm=inp.get("alg", "HS256"), headers=inp.get("headers")) for p in inp.get("encode", [])], "decoded": []}
for token in inp.get("decode", []):
    try:
        out["decoded"].append(["ok", jwt.decode(token, inp["secret"], algorithms=["HS256"])])
    except jwt.InvalidSignatureError:
        out["decoded"].append(["bad-signature", None])
    except jwt.DecodeError:
        out["decoded"].append(["decode-error", None])
    except jwt.PyJWTError as error:
        out["decoded"].append([type(error).__name__, None])
print(json.dumps(out))
`
interface PyOut {
  encoded: string[]
  decoded: Array<[string, unknown]>
}

describe('jwt codec', () => {
  runCodecSuite('jwt', codec, {
    hostile: [
      '..',
      '😀.😀.😀',
      `${HEADER}..${'A'.repeat(43)}`,
      `${HEADER}.e30.${'.'.repeat(43)}`,
      `.e30.${'A'.repeat(43)}`,
      `e30.e30.${'A'.repeat(43)}`,
      `W10.e30.${'A'.repeat(43)}`,
      '__proto__',
      undefined,
    ],
  })

  it('reports its name', () => assert.equal(codec.name, 'jwt'))

  it('writes the FORMATS.md §3.2 vector byte for byte and reads it', () => {
    const vector =
      'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJ1c2VyIjoiYWxpY2UiLCJuIjoxfQ.xQj7uXM8e1hzo2CCLVJDuLNlvPd8Eia_Io9PA_q-kdg'
    const tests = createJwtCodec({ keys: ['SECRET-TESTS'] })
    assert.equal(tests.encode('{"user":"alice","n":1}'), vector)
    assert.deepEqual(tests.decode(vector), { payload: '{"user":"alice","n":1}', rotated: false })
    assert.equal(tests.encode('{}').split('.')[1], 'e30')
  })

  it('uses the payload text as given, UTF-8, and adds no claims', () => {
    const token = codec.encode(UNICODE)
    assert.equal(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'), UNICODE)
    assert.equal(token.split('.')[0], HEADER)
  })

  it('refuses to sign a payload that is not the JSON text of an object', () => {
    for (const bad of ['', '[1]', '"x"', '1', 'null', ' {}']) {
      assert.throws(() => codec.encode(bad), TypeError, JSON.stringify(bad))
    }
  })

  it('accepts another HS256 header (other key order, a kid) when the signature verifies', () => {
    for (const header of [
      '{"typ":"JWT","alg":"HS256"}',
      '{"alg":"HS256"}',
      '{"alg":"HS256","kid":"k1"}',
    ]) {
      assert.equal(codec.decode(sign(header, PAYLOAD, KEY)).payload, PAYLOAD, header)
    }
  })

  it('refuses alg none, every other alg and crit, even with a good HMAC, as tampered', () => {
    const none = `${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(PAYLOAD)}.`
    assert.equal(decodeError(() => codec.decode(none)).reason, 'malformed')
    for (const alg of ['none', 'HS384', 'HS512', 'hs256', 'RS256', 'ES256', '']) {
      const token = sign(`{"alg":"${alg}","typ":"JWT"}`, PAYLOAD, KEY)
      assert.equal(decodeError(() => codec.decode(token)).reason, 'tampered', alg)
    }
    const noAlg = sign('{"typ":"JWT"}', PAYLOAD, KEY)
    assert.equal(decodeError(() => codec.decode(noAlg)).reason, 'tampered')
    const crit = sign('{"alg":"HS256","crit":["exp"],"exp":1}', PAYLOAD, KEY)
    assert.equal(decodeError(() => codec.decode(crit)).reason, 'tampered')
    const hs512 = sign('{"alg":"HS512","typ":"JWT"}', PAYLOAD, KEY, 'sha512')
    assert.equal(decodeError(() => codec.decode(hs512)).reason, 'malformed') // 86-char signature
  })

  it('rejects a header that is not a JSON object as malformed', () => {
    for (const header of ['[]', 'null', '"HS256"', '{', 'not json']) {
      assert.equal(
        decodeError(() => codec.decode(sign(header, PAYLOAD, KEY))).reason,
        'malformed',
        header,
      )
    }
  })

  it('rejects a validly signed payload that is not UTF-8 JSON of an object as malformed', () => {
    for (const payload of ['[1]', 'null', '"x"', '1', '{', '', 'NaN']) {
      const token = sign('{"alg":"HS256","typ":"JWT"}', payload, KEY)
      assert.equal(decodeError(() => codec.decode(token)).reason, 'malformed', payload)
    }
    const signed = `${HEADER}.${b64url(Buffer.from([0x7b, 0xff, 0x7d]))}`
    const latin1 = `${signed}.${createHmac('sha256', KEY).update(signed).digest('base64url')}`
    assert.equal(decodeError(() => codec.decode(latin1)).reason, 'malformed')
  })

  describe('keys', () => {
    it('reads a token of the second secret and reports it rotated; the first signs', () => {
      const oldToken = createJwtCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
      const rotating = createJwtCodec({ keys: [KEY, OLD_KEY] })
      assert.deepEqual(rotating.decode(oldToken), { payload: PAYLOAD, rotated: true })
      assert.equal(rotating.encode(PAYLOAD), codec.encode(PAYLOAD))
    })

    it('rejects a token of another or a dropped secret as tampered (the format has no key id)', () => {
      const other = createJwtCodec({ keys: [OTHER_KEY] }).encode(PAYLOAD)
      assert.equal(decodeError(() => codec.decode(other)).reason, 'tampered')
    })

    it('takes short secrets and a Uint8Array like its UTF-8 string', () => {
      const text = createJwtCodec({ keys: ['s'] })
      const bytes = createJwtCodec({ keys: [new TextEncoder().encode('s')] })
      assert.equal(text.encode(PAYLOAD), bytes.encode(PAYLOAD))
    })

    it('refuses a missing, empty or invalid key list and duplicate secrets', () => {
      assertBadSecretListsRefused('jwt', createJwtCodec)
    })
  })

  describe('rejects', () => {
    const token = codec.encode(PAYLOAD)

    it('every single-character change as tampered or malformed', () => {
      assertEveryChangeRefused(codec, token, { extra: ['.', 'A', '='] })
    })

    it('a truncated token as malformed or tampered', () => {
      assertEveryTruncationRefused(codec, token)
    })

    it('a changed payload with the original signature as tampered', () => {
      const [header, , sig] = token.split('.')
      const forged = `${header}.${b64url('{"user":"admin"}')}.${sig}`
      assert.equal(decodeError(() => codec.decode(forged)).reason, 'tampered')
    })

    it('a 10 KB token as malformed', () => {
      const long = codec.encode(`{"x":"${'x'.repeat(7700)}"}`)
      assert.equal(decodeError(() => codec.decode(long)).reason, 'malformed')
    })
  })

  describe('properties', () => {
    it('round-trips the JSON text of any object', () => {
      fc.assert(
        fc.property(fc.dictionary(fc.string(), fc.jsonValue()), (object) => {
          const payload = JSON.stringify(object)
          assert.deepEqual(codec.decode(codec.encode(payload)), { payload, rotated: false })
        }),
        { numRuns: 300 },
      )
    })

    it('throws nothing but SessionDecodeError on garbage, and never accepts it', () => {
      const part = fc.base64String().map((text) => text.replace(/=+$/, '').replaceAll('+', '-'))
      const garbage = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.tuple(part, part, part).map((parts) => parts.join('.')),
        fc
          .tuple(part, fc.stringMatching(/^[\w-]{43}$/))
          .map(([body, sig]) => `${HEADER}.${body}.${sig}`),
      )
      fc.assert(
        fc.property(garbage, (value) => {
          decodeError(() => codec.decode(value))
        }),
        { numRuns: 500 },
      )
    })
  })

  describe('against python3-jwt (PyJWT)', () => {
    const names = Object.keys(OBJECTS)
    const objects = names.map((name) => OBJECTS[name])
    const texts = objects.map(pyjwtJson)

    it('reads what jwt.encode made, and makes the same tokens byte for byte', (t) => {
      if (!requirePython(t, 'jwt')) return
      const out = runPython<PyOut>(PY_JWT, { secret: KEY, encode: texts })
      out.encoded.forEach((token, i) => {
        assert.deepEqual(codec.decode(token), { payload: texts[i], rotated: false }, names[i])
        assert.deepEqual(JSON.parse(codec.decode(token).payload), objects[i], names[i])
        assert.equal(codec.encode(texts[i] ?? ''), token, names[i])
        const other = createJwtCodec({ keys: [OTHER_KEY] })
        assert.equal(decodeError(() => other.decode(token)).reason, 'tampered', names[i])
      })
    })

    it('makes tokens jwt.decode accepts (raw UTF-8 too), and PyJWT rejects tampered and foreign ones', (t) => {
      if (!requirePython(t, 'jwt')) return
      const ours = texts.map((text) => codec.encode(text))
      const raw = objects.map((object) => codec.encode(JSON.stringify(object)))
      const foreign = createJwtCodec({ keys: [OTHER_KEY] }).encode(texts[0] ?? '')
      const [header, , sig] = (ours[0] ?? '').split('.')
      const tampered = `${header}.${b64url('{"user":"admin"}')}.${sig}`
      const truncated = (ours[0] ?? '').slice(0, -3)
      const out = runPython<PyOut>(PY_JWT, {
        secret: KEY,
        decode: [...ours, ...raw, foreign, tampered, truncated],
      })
      assert.deepEqual(out.decoded, [
        ...objects.map((object) => ['ok', object]),
        ...objects.map((object) => ['ok', object]),
        ['bad-signature', null],
        ['bad-signature', null],
        ['bad-signature', null],
      ])
    })

    it('refuses what PyJWT signs with another alg or headers PyJWT would add', (t) => {
      if (!requirePython(t, 'jwt')) return
      const hs384 = runPython<PyOut>(PY_JWT, { secret: KEY, encode: [PAYLOAD], alg: 'HS384' })
      assert.equal(decodeError(() => codec.decode(hs384.encoded[0] ?? '')).reason, 'malformed')
      const none = runPython<PyOut>(PY_JWT, { secret: KEY, encode: [PAYLOAD], alg: 'none' })
      assert.equal(decodeError(() => codec.decode(none.encoded[0] ?? '')).reason, 'malformed')
      const kid = runPython<PyOut>(PY_JWT, {
        secret: KEY,
        encode: [PAYLOAD],
        headers: { kid: 'k' },
      })
      assert.equal(codec.decode(kid.encoded[0] ?? '').payload, PAYLOAD)
    })

    it('signs byte for byte what PyJWT signs, for many objects', (t) => {
      // No floats: Python's float repr differs from JSON.stringify, and writing Python-style JSON
      // is the envelope's business, not the codec's.
      const text = fc.string({ unit: 'binary' })
      const scalar = fc.oneof(text, fc.integer(), fc.boolean(), fc.constant(null), fc.array(text))
      if (!requirePython(t, 'jwt')) return
      const samples = fc
        .sample(fc.dictionary(fc.string({ unit: 'binary' }), scalar), {
          numRuns: 100,
          seed: 8,
        })
        .map(pyjwtJson)
      const out = runPython<PyOut>(PY_JWT, { secret: 'SECRET-TESTS', encode: samples })
      const tests = createJwtCodec({ keys: ['SECRET-TESTS'] })
      assert.deepEqual(
        samples.map((sample) => tests.encode(sample)),
        out.encoded,
      )
    })
  })
})
