/**
 * The fernet codec's token format (the spec's layout, padding, fresh IVs) and what it does with
 * damaged, forged and random input.
 */
import assert from 'node:assert/strict'
import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import { assertGarbageRefused } from '../support/codec-refusals.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  DIGITS,
  decodeError,
  PAYLOAD,
  UNICODE,
} from '../support/codec-suite.ts'
import {
  atSeconds,
  codec,
  KEY,
  OLD_KEY,
  pinned,
  pyDecrypt,
  raw,
  resign,
  T,
  token,
  VECTOR_BYTES,
  VECTOR_KEY,
} from '../support/fernet-fixtures.ts'
import { requirePython } from '../support/python.ts'

describe('fernet codec', () => {
  describe('format and hostile input', () => {
    it('writes url-safe base64 with the = padding of 57 + 16n bytes', () => {
      for (let length = 0; length < 64; length++) {
        const value = codec.encode('a'.repeat(length))
        const size = 57 + 16 * (Math.floor(length / 16) + 1)
        assert.equal(value.length, Math.ceil(size / 3) * 4, `length ${length}`)
        assert.match(value, /^gAAAAA[A-Za-z0-9_-]+={0,2}$/)
        assert.equal(raw(value).length, size)
        assert.equal(codec.decode(value).payload, 'a'.repeat(length))
      }
    })

    it('follows the spec: HMAC-SHA256 with bytes 0..15, AES-128-CBC with bytes 16..31', () => {
      const iv = randomBytes(16)
      const value = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }, iv).encode(UNICODE)
      const cipher = createCipheriv('aes-128-cbc', VECTOR_BYTES.subarray(16), iv)
      const body = Buffer.concat([
        Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0]), // the timestamp is written below
        iv,
        cipher.update(UNICODE, 'utf8'),
        cipher.final(),
      ])
      body.writeUInt32BE(T, 5)
      const mac = createHmac('sha256', VECTOR_BYTES.subarray(0, 16)).update(body).digest()
      assert.equal(value, token(Buffer.concat([body, mac])))
    })

    it('draws a fresh IV for every token', () => {
      const ivs = new Set(
        Array.from({ length: 200 }, () =>
          raw(codec.encode(PAYLOAD)).subarray(9, 25).toString('hex'),
        ),
      )
      assert.equal(ivs.size, 200)
    })

    it('does not reveal the payload in the token', () => {
      const secret = 'SECRET-MARKER-do-not-leak'
      const value = codec.encode(`{"s":"${secret}"}`)
      assert.ok(!raw(value).includes(secret))
      assert.ok(!value.includes(Buffer.from(secret).toString('base64url').slice(4, -4)))
    })

    it('rejects every single-character change as tampered or malformed', () => {
      assertEveryChangeRefused(codec, codec.encode(PAYLOAD), { extra: ['=', '.'] })
    })

    it('rejects a token truncated anywhere as malformed (and a whole block less as tampered)', () => {
      const value = codec.encode(PAYLOAD)
      assertEveryTruncationRefused(codec, value)
      const bytes = raw(value)
      const shorter = Buffer.concat([bytes.subarray(0, 25), bytes.subarray(41)])
      assert.equal(decodeError(() => codec.decode(token(shorter))).reason, 'tampered')
    })

    it('rejects a missing or extra padding, the standard alphabet and stray bits as malformed', () => {
      const value = codec.encode('x'.repeat(40)) // 105 bytes: no padding
      const padded = codec.encode('x'.repeat(20)) // 89 bytes: "="
      const twoPad = codec.encode('') // 73 bytes: "=="
      assert.ok(!value.endsWith('='))
      assert.ok(padded.endsWith('=') && !padded.endsWith('=='))
      assert.ok(twoPad.endsWith('=='))
      const bad = [
        padded.slice(0, -1),
        `${padded}=`,
        twoPad.slice(0, -1),
        twoPad.slice(0, -2),
        `${value}====`,
        `${value.slice(0, -4)}====`,
        value.replace(/_/g, '/').replace(/-/g, '+'),
        `${value.slice(0, 10)} ${value.slice(11)}`,
        `"${value.slice(1, -1)}"`,
        `${padded.slice(0, -2)}${DIGITS[DIGITS.indexOf(padded.at(-2) ?? '') ^ 1]}=`,
        `${padded.slice(0, 20)}=${padded.slice(21)}`,
      ]
      for (const changed of bad) {
        if (changed === value || changed === padded) continue
        assert.equal(decodeError(() => codec.decode(changed)).reason, 'malformed', changed)
      }
    })

    it('rejects another version byte, a short token and a 10 KB value as malformed', () => {
      const bytes = raw(codec.encode(PAYLOAD))
      bytes[0] = 0x81
      assert.match(decodeError(() => codec.decode(token(resign(bytes, KEY)))).message, /0x80/)
      const short = Buffer.concat([Buffer.from([0x80]), randomBytes(71)])
      assert.equal(decodeError(() => codec.decode(token(short))).reason, 'malformed')
      const odd = Buffer.concat([Buffer.from([0x80]), randomBytes(80)])
      assert.equal(decodeError(() => codec.decode(token(odd))).reason, 'malformed')
      const long = `gAAAAA${'A'.repeat(10 * 1024)}`
      assert.equal(decodeError(() => codec.decode(long)).reason, 'malformed')
    })

    it('rejects an authentic token whose padding is wrong as tampered', () => {
      const bytes = raw(codec.encode(PAYLOAD))
      // The last byte of the block before the last one XORs the padding byte: 0x05 becomes 0x5f.
      bytes.writeUInt8((bytes.at(-49) ?? 0) ^ 0x5a, bytes.length - 49)
      assert.equal(decodeError(() => codec.decode(token(resign(bytes, KEY)))).reason, 'tampered')
    })

    it('checks PKCS7 padding exactly as Python (authentic tokens with hand-made padding)', (t) => {
      const key = Buffer.from(KEY, 'base64url')
      const forge = (plain: Buffer) => {
        const iv = randomBytes(16)
        const cipher = createCipheriv('aes-128-cbc', key.subarray(16), iv).setAutoPadding(false)
        const head = Buffer.from([0x80, 0, 0, 0, 0, 0, 0, 0, 0])
        head.writeUInt32BE(T, 5)
        const body = Buffer.concat([head, iv, cipher.update(plain), cipher.final()])
        return token(resign(Buffer.concat([body, Buffer.alloc(32)]), KEY))
      }
      const text = Buffer.from('0123456789abcdef0123456789')
      const cases: [Buffer, string | null][] = [
        [Buffer.concat([text, Buffer.alloc(6, 6)]), '0123456789abcdef0123456789'],
        [Buffer.concat([text.subarray(0, 16), Buffer.alloc(16, 16)]), '0123456789abcdef'],
        [Buffer.concat([text, Buffer.alloc(5, 6), Buffer.from([0])]), null],
        [Buffer.concat([text, Buffer.alloc(5, 6), Buffer.from([17])]), null],
        [Buffer.concat([text, Buffer.from([6, 6, 6, 5, 6, 6])]), null],
        [Buffer.concat([text.subarray(0, 16), Buffer.alloc(16, 32)]), null],
      ]
      const tokens = cases.map(([plain]) => forge(plain))
      cases.forEach(([, expected], i) => {
        const value = tokens[i] as string
        if (expected === null) {
          assert.equal(decodeError(() => codec.decode(value)).reason, 'tampered', `case ${i}`)
        } else {
          assert.equal(codec.decode(value).payload, expected, `case ${i}`)
        }
      })
      if (!requirePython(t, 'cryptography')) return
      assert.deepEqual(
        pyDecrypt([KEY], tokens),
        cases.map(([, expected]) => (expected === null ? null : { payload: expected })),
      )
    })

    it('goes on to the next key when a MAC verifies but the padding does not (as MultiFernet)', () => {
      // Two keys sharing their signing half: the first one's AES key cannot open B's token.
      const signing = Buffer.alloc(16, 1)
      const a = Buffer.concat([signing, Buffer.alloc(16, 2)])
      const b = Buffer.concat([signing, Buffer.alloc(16, 3)])
      const fromB = pinned({ keys: [b], clock: atSeconds(T) }, Buffer.alloc(16, 4)).encode(PAYLOAD)
      assert.equal(
        decodeError(() => createFernetCodec({ keys: [a] }).decode(fromB)).reason,
        'tampered',
      )
      assert.deepEqual(createFernetCodec({ keys: [a, b] }).decode(fromB), {
        payload: PAYLOAD,
        rotated: true,
      })
    })

    it('rejects an authentic token whose plaintext is not UTF-8 as malformed', () => {
      const value = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode('')
      const bytes = raw(value)
      const cipher = createCipheriv('aes-128-cbc', VECTOR_BYTES.subarray(16), bytes.subarray(9, 25))
      const body = Buffer.concat([cipher.update(Buffer.from([0xff, 0xfe])), cipher.final()])
      const forged = Buffer.concat([bytes.subarray(0, 25), body, Buffer.alloc(32)])
      // A fixed wrong key: its AES half leaves this body with bad padding ('tampered'). A random
      // one would unpad it by chance about once in 256 runs and then find it not UTF-8.
      const wrong = Buffer.alloc(32, 0x11).toString('base64')
      const wrongCodec = createFernetCodec({ keys: [wrong] })
      const reason = decodeError(() => wrongCodec.decode(token(resign(forged, wrong)))).reason
      assert.equal(reason, 'tampered')
      const own = createFernetCodec({ keys: [VECTOR_KEY] })
      const error = decodeError(() => own.decode(token(resign(forged, VECTOR_KEY))))
      assert.equal(error.reason, 'malformed')
      assert.match(error.message, /not UTF-8/)
    })

    it('property: every payload round-trips, with one key and through a key list', () => {
      const rotating = createFernetCodec({ keys: [OLD_KEY, KEY] })
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (payload) => {
          const back = codec.decode(codec.encode(payload))
          assert.deepEqual(back, { payload, rotated: false })
          assert.deepEqual(rotating.decode(codec.encode(payload)), { payload, rotated: true })
        }),
        { numRuns: 300 },
      )
    })

    it('property: garbage, random Fernet-shaped bytes and bit flips give only SessionDecodeError', () => {
      const reader = createFernetCodec({ keys: [KEY, OLD_KEY], ttl: 60 })
      const shaped = [
        fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => token(Buffer.from(b))),
        fc
          .integer({ min: 0, max: 12 })
          .chain((n) => fc.uint8Array({ minLength: 72 + 16 * n, maxLength: 72 + 16 * n }))
          .map((b) => token(Buffer.concat([Buffer.from([0x80]), Buffer.from(b)]))),
      ]
      const valid = raw(codec.encode(PAYLOAD))
      assertGarbageRefused(reader, { shaped, valid, encode: token }, 500)
    })
  })
})
