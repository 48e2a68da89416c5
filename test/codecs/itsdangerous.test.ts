import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createItsdangerousCodec } from '../../src/codecs/itsdangerous.ts'
import type { CookieCodec } from '../../src/core/types.ts'
import { assertBadSecretListsRefused } from '../support/codec-refusals.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  COOKIE_OCTETS,
  decodeError,
  KEY,
  OLD_KEY,
  OTHER_KEY,
  runCodecSuite,
  UNICODE,
} from '../support/codec-suite.ts'
import { requirePython, runPython } from '../support/python.ts'

/** 2023-11-14T22:13:20Z, the FORMATS.md vectors' clock. */
const T = 1_700_000_000
const at = (seconds: number) => () => seconds * 1000

/** Starlette's payload: standard base64 (with `+`, `/`, `=`) of the UTF-8 JSON. */
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64')
const unb64 = (text: string) => Buffer.from(text, 'base64').toString('utf8')

const codec = createItsdangerousCodec({ keys: [KEY] })

/** The codec as Starlette composes it (base64, then sign), for the shared suite's text payloads. */
const starletteLike: CookieCodec = {
  name: 'itsdangerous',
  encode: (payload) => codec.encode(b64(payload)),
  decode: (value) => {
    const { payload, rotated } = codec.decode(value)
    return { payload: unb64(payload), rotated }
  },
}

const PAYLOADS = {
  ordinary: b64('{"user": "alice", "n": 1}'),
  unicode: b64('{"name": "Zo\\u00eb \\u5c71\\u7530 \\ud83d\\ude00", "raw": "é山😀"}'),
  empty: '',
  large: b64(JSON.stringify({ blob: 'x'.repeat(2800) })),
  symbols: "!#$%&'()*+-./:<=>?@[]^_`{|}~",
}

/** itsdangerous' TimestampSigner with a fixed clock: signs `sign`, unsigns `unsign`. */
const PY_SIGNER = `
import sys, json
from itsdangerous import TimestampSigner, BadSignature, SignatureExpired
inp = json.load(sys.stdin)
class Signer(TimestampSigner):
    def get_timestamp(self):
        return inp["now"]
signer = Signer(inp["secret"])
out = {"signed": [signer.sign(p).decode() for p in inp.get("sign", [])], "unsigned": []}
for value, max_age in inp.get("unsign", []):
    try:
        out["unsigned"].append(["ok", signer.unsign(value, max_age=max_age).decode()])
    except SignatureExpired:
        out["unsigned"].append(["expired", None])
    except BadSignature:
        out["unsigned"].append(["bad", None])
print(json.dumps(out))
`
interface PyOut {
  signed: string[]
  unsigned: Array<[string, string | null]>
}

describe('itsdangerous codec', () => {
  runCodecSuite('itsdangerous', starletteLike, {
    hostile: [
      '..',
      '😀.😀.😀',
      `.ZVPxAA.${'.'.repeat(27)}`,
      `a..${'A'.repeat(27)}`,
      `a.ZVPxAA.${'A'.repeat(26)}=`,
      'a b.ZVPxAA.4tBb5D62sD6DWeyIsgo-9CuGEb4',
      '"a".ZVPxAA.4tBb5D62sD6DWeyIsgo-9CuGEb4',
      '__proto__',
      undefined,
    ],
  })

  it('reports its name', () => assert.equal(codec.name, 'itsdangerous'))

  it('writes the FORMATS.md §0.2 vectors byte for byte and reads them', () => {
    const payload = b64('{"user": "alice"}')
    const top = createItsdangerousCodec({ keys: ['TOP SECRET'], clock: at(T) })
    const secret = createItsdangerousCodec({ keys: ['secret'], clock: () => T * 1000 + 999 })
    const v1 = 'eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.4tBb5D62sD6DWeyIsgo-9CuGEb4'
    const v2 = 'eyJ1c2VyIjogImFsaWNlIn0=.ZVPxAA.XWOfJiyiEaGsEkpNfu08orwe8fA'
    assert.equal(top.encode(payload), v1)
    assert.equal(secret.encode(payload), v2)
    assert.deepEqual(top.decode(v1), { payload, rotated: false })
    assert.deepEqual(secret.decode(v2), { payload, rotated: false })
    assert.equal(decodeError(() => top.decode(v2)).reason, 'tampered')
  })

  it("writes starsessions' CookieStore vectors (§2.2) byte for byte", () => {
    const top = createItsdangerousCodec({ keys: ['TOP SECRET'], clock: at(T) })
    const json =
      '{"user": "alice", "__metadata__": {"lifetime": 3600, "created": 1700000000.25, "last_access": 1700000000.25}}'
    assert.equal(top.encode(b64(json)), `${b64(json)}.ZVPxAA.b-V2LUuyt7W4gbhAvabrcLqIIoM`)
    const fernet =
      'gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAHd_YAHWiqONTHMWNwso7FfWaDCy5O5OmuTYugA0JZsmcs0gFuFRzIwJbEhQt-VQ4MPBrRvurIQjQXNHUa_G5ZCp5lT6dHMKb4RIlhHnvirk5AwQod8vwNtoC14WktY2Xm6b_dxVMqvrNng7bXDfAuBGBMV15aMOJjLuBwXZJ43eLP1ZFVrZRqgulkRU2qS_PA=='
    assert.equal(top.encode(b64(fernet)).slice(-35), '.ZVPxAA.UsXG3dDHfItmjLJ4jU84Fc3gkwI')
  })

  it('signs the payload text as given, after it the timestamp, both in the clear', () => {
    const value = createItsdangerousCodec({ keys: [KEY], clock: at(T) }).encode(PAYLOADS.ordinary)
    assert.equal(value.slice(0, value.indexOf('.')), PAYLOADS.ordinary)
    assert.equal(value.split('.')[1], 'ZVPxAA')
    assert.match(value, COOKIE_OCTETS)
  })

  it('writes the timestamp without leading zero bytes', () => {
    const cases: Array<[number, string]> = [
      [0, ''],
      [1, 'AQ'],
      [255, '_w'],
      [256, 'AQA'],
      [2 ** 32, 'AQAAAAA'],
    ]
    for (const [seconds, ts] of cases) {
      const value = createItsdangerousCodec({
        keys: [KEY],
        clock: at(seconds),
        maxAge: null,
      }).encode('x')
      assert.equal(value.split('.')[1], ts, String(seconds))
    }
  })

  it('refuses to sign a payload that is not cookie-safe text', () => {
    for (const bad of [UNICODE, 'a b', 'a;b', 'a,b', '"a"', 'a\\b', 'é', '\u0000']) {
      assert.throws(() => codec.encode(bad), TypeError, JSON.stringify(bad))
    }
  })

  it('round-trips an empty payload', () => {
    assert.deepEqual(codec.decode(codec.encode('')), { payload: '', rotated: false })
  })

  describe('maxAge', () => {
    const signed = createItsdangerousCodec({ keys: [KEY], clock: at(T) }).encode(PAYLOADS.ordinary)
    const reader = (now: number, maxAge: number | null) =>
      createItsdangerousCodec({ keys: [KEY], clock: () => now * 1000, maxAge })

    it('accepts a value exactly maxAge seconds old and rejects one a second older as expired', () => {
      assert.equal(reader(T + 3600, 3600).decode(signed).payload, PAYLOADS.ordinary)
      assert.equal(reader(T + 3600.999, 3600).decode(signed).payload, PAYLOADS.ordinary)
      assert.equal(decodeError(() => reader(T + 3601, 3600).decode(signed)).reason, 'expired')
    })

    it('rejects a timestamp in the future as expired, as itsdangerous does', () => {
      assert.equal(decodeError(() => reader(T - 1, 3600).decode(signed)).reason, 'expired')
      const farFuture = createItsdangerousCodec({ keys: [KEY], clock: at(2 ** 50) }).encode('x')
      assert.equal(decodeError(() => reader(T, 3600).decode(farFuture)).reason, 'expired')
    })

    it('with maxAge 0 accepts only the same second', () => {
      assert.equal(reader(T + 0.9, 0).decode(signed).payload, PAYLOADS.ordinary)
      assert.equal(decodeError(() => reader(T + 1, 0).decode(signed)).reason, 'expired')
    })

    it('with maxAge null checks no age at all', () => {
      assert.equal(reader(T + 10 ** 9, null).decode(signed).payload, PAYLOADS.ordinary)
      assert.equal(reader(0, null).decode(signed).payload, PAYLOADS.ordinary)
    })

    it("defaults to Starlette's 14 days", () => {
      const now = (seconds: number) => createItsdangerousCodec({ keys: [KEY], clock: at(seconds) })
      assert.equal(now(T + 1_209_600).decode(signed).payload, PAYLOADS.ordinary)
      assert.equal(decodeError(() => now(T + 1_209_601).decode(signed)).reason, 'expired')
    })

    it('checks the signature before the age: a forged old value is tampered, not expired', () => {
      const forged = `${b64('{"user": "admin"}')}${signed.slice(signed.indexOf('.'))}`
      assert.equal(decodeError(() => reader(T + 10 ** 6, 60).decode(forged)).reason, 'tampered')
    })
  })

  describe('keys', () => {
    it('reads a value of the second secret and reports it rotated; the first signs', () => {
      const oldValue = createItsdangerousCodec({ keys: [OLD_KEY] }).encode(PAYLOADS.ordinary)
      const rotating = createItsdangerousCodec({ keys: [KEY, OLD_KEY] })
      assert.deepEqual(rotating.decode(oldValue), { payload: PAYLOADS.ordinary, rotated: true })
      assert.equal(rotating.decode(rotating.encode('x')).rotated, false)
      assert.equal(codec.decode(rotating.encode('x')).payload, 'x')
    })

    it('rejects a value of another or a dropped secret as tampered (the format has no key id)', () => {
      const other = createItsdangerousCodec({ keys: [OTHER_KEY] }).encode(PAYLOADS.ordinary)
      assert.equal(decodeError(() => codec.decode(other)).reason, 'tampered')
    })

    it('takes short secrets, as Starlette does, and a Uint8Array like its UTF-8 string', () => {
      const text = createItsdangerousCodec({ keys: ['s'], clock: at(T) })
      const bytes = createItsdangerousCodec({ keys: [new TextEncoder().encode('s')], clock: at(T) })
      assert.equal(text.encode('x'), bytes.encode('x'))
    })

    it('refuses a missing, empty or invalid key list and duplicate secrets', () => {
      assertBadSecretListsRefused('itsdangerous', createItsdangerousCodec)
      assert.throws(() => createItsdangerousCodec(undefined as unknown as { keys: string[] }), {
        code: 'ERR_SESSION_CONFIG',
      })
    })

    it('refuses a maxAge that is not null or a finite number >= 0, and a clock that is not a function', () => {
      for (const maxAge of [-1, Number.NaN, Number.POSITIVE_INFINITY, '60', {}]) {
        assert.throws(
          () => createItsdangerousCodec({ keys: [KEY], maxAge: maxAge as number }),
          { code: 'ERR_SESSION_CONFIG', message: /options\.maxAge/ },
          String(maxAge),
        )
      }
      assert.throws(
        () => createItsdangerousCodec({ keys: [KEY], clock: 5 as unknown as () => number }),
        { code: 'ERR_SESSION_CONFIG', message: /options\.clock/ },
      )
    })
  })

  describe('rejects', () => {
    const value = codec.encode(PAYLOADS.ordinary)

    it('every single-character change as tampered or malformed', () => {
      assertEveryChangeRefused(codec, value, { extra: ['.', 'A', '='] })
    })

    it('a truncated value as malformed or tampered', () => {
      assertEveryTruncationRefused(codec, value)
      assert.equal(decodeError(() => codec.decode(value.slice(0, -1))).reason, 'malformed')
    })

    it('a signature or timestamp that is not canonical base64url as malformed', () => {
      const [payload, ts, sig] = value.split('.') as [string, string, string]
      for (const bad of [
        `${payload}.${ts}.${sig.slice(0, -1)}B`, // spare bits set
        `${payload}.${ts}=.${sig}`,
        `${payload}.${ts}.${sig}=`,
        `${payload}.Z.${sig}`,
        `${payload}.${ts}.${sig.slice(1)}/`,
        `${payload}${ts}.${sig}`,
      ]) {
        assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
      }
    })

    it('a 10 KB value as malformed', () => {
      const long = codec.encode('x'.repeat(10 * 1024))
      assert.equal(decodeError(() => codec.decode(long)).reason, 'malformed')
    })
  })

  describe('properties', () => {
    const cookieText = fc.stringMatching(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{0,300}$/)

    it('round-trips any cookie-safe text', () => {
      fc.assert(
        fc.property(cookieText, (payload) => {
          assert.deepEqual(codec.decode(codec.encode(payload)), { payload, rotated: false })
        }),
        { numRuns: 300 },
      )
    })

    it('throws nothing but SessionDecodeError on garbage, and never accepts it', () => {
      const garbage = fc.oneof(
        fc.string({ maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.tuple(cookieText, fc.base64String(), fc.base64String()).map((parts) => parts.join('.')),
        fc
          .tuple(cookieText, fc.constantFrom('ZVPxAA', '', 'AQ'), fc.stringMatching(/^[\w-]{27}$/))
          .map((parts) => parts.join('.')),
      )
      fc.assert(
        fc.property(garbage, (value) => {
          decodeError(() => codec.decode(value))
        }),
        { numRuns: 500 },
      )
    })
  })

  describe('against python3-itsdangerous', () => {
    const names = Object.keys(PAYLOADS) as Array<keyof typeof PAYLOADS>
    const texts = names.map((name) => PAYLOADS[name])

    it('reads what TimestampSigner(secret).sign made, with and without max_age', (t) => {
      if (!requirePython(t, 'itsdangerous')) return
      const out = runPython<PyOut>(PY_SIGNER, { secret: 'TOP SECRET', now: T, sign: texts })
      const fresh = createItsdangerousCodec({ keys: ['TOP SECRET'], clock: at(T + 60), maxAge: 60 })
      const late = createItsdangerousCodec({ keys: ['TOP SECRET'], clock: at(T + 61), maxAge: 60 })
      const other = createItsdangerousCodec({ keys: ['secret'], clock: at(T) })
      out.signed.forEach((value, i) => {
        assert.deepEqual(fresh.decode(value), { payload: texts[i], rotated: false }, names[i])
        assert.equal(decodeError(() => late.decode(value)).reason, 'expired', names[i])
        assert.equal(decodeError(() => other.decode(value)).reason, 'tampered', names[i])
      })
      // unicode/large: the base64 payload decodes to the JSON Python signed.
      assert.equal(unb64(fresh.decode(out.signed[1] ?? '').payload), unb64(PAYLOADS.unicode))
    })

    it('makes values that TimestampSigner(secret).unsign accepts, and rejects when expired, future, tampered or of another secret', (t) => {
      if (!requirePython(t, 'itsdangerous')) return
      const ours = createItsdangerousCodec({ keys: ['TOP SECRET'], clock: at(T) })
      const signed = texts.map((text) => ours.encode(text))
      const foreign = createItsdangerousCodec({ keys: ['secret'], clock: at(T) }).encode('x')
      const tampered = `${b64('{"user": "admin"}')}${(signed[0] ?? '').slice((signed[0] ?? '').indexOf('.'))}`
      const unsign: Array<[string, number | null]> = [
        ...signed.map((value): [string, number | null] => [value, 60]),
        ...signed.map((value): [string, number | null] => [value, null]),
        [signed[0] ?? '', 59], // 60 s old at T + 60
        [foreign, null],
        [tampered, null],
        [(signed[0] ?? '').slice(0, -2), null],
      ]
      const out = runPython<PyOut>(PY_SIGNER, { secret: 'TOP SECRET', now: T + 60, unsign })
      const expected = [
        ...texts.map((text) => ['ok', text]),
        ...texts.map((text) => ['ok', text]),
        ['expired', null],
        ['bad', null],
        ['bad', null],
        ['bad', null],
      ]
      assert.deepEqual(out.unsigned, expected)
      const future = runPython<PyOut>(PY_SIGNER, {
        secret: 'TOP SECRET',
        now: T - 1,
        unsign: [[signed[0], 60]],
      })
      assert.deepEqual(future.unsigned, [['expired', null]])
    })

    it('signs byte for byte what itsdangerous signs, for many payloads and secrets', (t) => {
      if (!requirePython(t, 'itsdangerous')) return
      const samples = fc.sample(
        fc.stringMatching(/^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]{0,200}$/),
        { numRuns: 100, seed: 8 },
      )
      for (const secret of ['TOP SECRET', 'é-secret-😀', KEY]) {
        const out = runPython<PyOut>(PY_SIGNER, { secret, now: T + 12345, sign: samples })
        const ours = createItsdangerousCodec({ keys: [secret], clock: at(T + 12345) })
        assert.deepEqual(
          samples.map((sample) => ours.encode(sample)),
          out.signed,
          secret,
        )
      }
    })

    it("reads values of itsdangerous' own key list as rotated when signed by the older secret", (t) => {
      if (!requirePython(t, 'itsdangerous')) return
      const out = runPython<PyOut>(PY_SIGNER, { secret: OLD_KEY, now: T, sign: ['x'] })
      const rotating = createItsdangerousCodec({ keys: [KEY, OLD_KEY], clock: at(T) })
      assert.deepEqual(rotating.decode(out.signed[0] ?? ''), { payload: 'x', rotated: true })
    })
  })
})
