import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import { buildNaclCodec } from '../../src/lib/secretbox.ts'
import { assertGarbageRefused } from '../support/codec-refusals.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  decodeError,
  PAYLOAD,
  runCodecSuite,
  UNICODE,
} from '../support/codec-suite.ts'
import {
  BACKENDS,
  b64,
  fixedNonce,
  KEY,
  LARGE,
  OLD_KEY,
  OTHER_KEY,
  raw,
  sodium,
  V5,
  V5_PAYLOAD,
  V6,
  V6_PAYLOAD,
  VECTOR_BYTES,
  VECTOR_HEX,
  VECTOR_NONCE,
} from '../support/nacl-fixtures.ts'

for (const backend of BACKENDS) {
  const codec = createNaclCodec({ keys: [KEY], backend })
  const vectorCodec = buildNaclCodec(
    { keys: [VECTOR_HEX], backend },
    { nonce: fixedNonce(VECTOR_NONCE) },
  )

  describe(`nacl codec (${backend} back end)`, () => {
    runCodecSuite('nacl', codec, {
      // No `create`: the suite expects `unknown-key` for a value of another key, and a secretbox
      // names no key (that case is `tampered` here; see the key tests below).
      hostile: [
        'AAAA',
        'AA==',
        '====',
        'A'.repeat(52),
        `${'A'.repeat(53)}=`,
        '😀😀😀😀',
        `${V5.slice(0, -4)}-_-_`,
        ` ${V5}`,
        `${V5}\n`,
        `"${V5}"`,
        '__proto__',
        undefined,
      ],
    })

    it(`runs on the ${backend} back end`, () => {
      assert.equal(codec.backend, backend)
    })

    it('writes V5 of FORMATS.md §1.2 byte for byte (aiohttp NaClCookieStorage)', () => {
      assert.equal(vectorCodec.encode(V5_PAYLOAD), V5)
      assert.equal(raw(V5).length, 24 + 16 + Buffer.byteLength(V5_PAYLOAD))
      assert.deepEqual(raw(V5).subarray(0, 24), Buffer.from(VECTOR_NONCE))
    })

    it('writes V6 of FORMATS.md §1.2 byte for byte', () => {
      assert.equal(vectorCodec.encode(V6_PAYLOAD), V6)
    })

    it('reads V5 and V6 with the key as hex, base64, url-safe base64 and bytes', () => {
      for (const key of [
        VECTOR_HEX,
        VECTOR_HEX.toUpperCase(),
        Buffer.from(VECTOR_BYTES).toString('base64'),
        Buffer.from(VECTOR_BYTES).toString('base64').slice(0, -1),
        Buffer.from(VECTOR_BYTES).toString('base64url'),
        VECTOR_BYTES,
      ]) {
        const reader = createNaclCodec({ keys: [key], backend })
        assert.deepEqual(reader.decode(V5), { payload: V5_PAYLOAD, rotated: false })
        assert.deepEqual(reader.decode(V6), { payload: V6_PAYLOAD, rotated: false })
      }
    })

    it('round-trips an empty payload as a 40-byte box', () => {
      const value = codec.encode('')
      assert.equal(raw(value).length, 40)
      assert.deepEqual(codec.decode(value), { payload: '', rotated: false })
    })

    it('writes standard padded base64 of nonce, tag and ciphertext, and nothing else', () => {
      for (const payload of [PAYLOAD, UNICODE, '', 'x', 'xy', LARGE]) {
        const value = codec.encode(payload)
        assert.match(value, /^[A-Za-z0-9+/]+={0,2}$/)
        assert.equal(value.length % 4, 0)
        assert.equal(b64(raw(value)), value)
        assert.equal(raw(value).length, 40 + Buffer.byteLength(payload))
      }
    })

    it('follows the construction: libsodium crypto_secretbox_open_easy opens the box after the nonce', () => {
      const bytes = raw(codec.encode(UNICODE))
      const message = Buffer.alloc(bytes.length - 40)
      const ok = sodium.crypto_secretbox_open_easy(
        message,
        bytes.subarray(24),
        bytes.subarray(0, 24),
        Buffer.from(KEY, 'hex'),
      )
      assert.ok(ok)
      assert.equal(message.toString('utf8'), UNICODE)
    })

    it('uses a fresh nonce for every encode', () => {
      const values = Array.from({ length: 1200 }, () => codec.encode(PAYLOAD)) // > 2 pool refills
      const nonces = new Set(values.map((v) => raw(v).subarray(0, 24).toString('hex')))
      assert.equal(nonces.size, values.length)
    })

    it('does not reveal the payload in the value', () => {
      const secret = 'SECRET-MARKER-do-not-leak'
      const value = codec.encode(`{"s":"${secret}"}`)
      assert.ok(!raw(value).includes(secret))
      for (const shift of ['', 'x', 'xx']) {
        assert.ok(
          !value.includes(
            Buffer.from(shift + secret)
              .toString('base64')
              .slice(4, -4),
          ),
        )
      }
    })

    it('rejects a value of another key, or of a dropped key, as tampered', () => {
      const other = createNaclCodec({ keys: [OTHER_KEY], backend })
      assert.equal(decodeError(() => codec.decode(other.encode(PAYLOAD))).reason, 'tampered')
      const old = createNaclCodec({ keys: [OLD_KEY], backend })
      assert.equal(decodeError(() => codec.decode(old.encode(PAYLOAD))).reason, 'tampered')
    })

    it('reads a value of the second key and reports it rotated; writes with the first', () => {
      const old = createNaclCodec({ keys: [OLD_KEY], backend })
      const rotating = createNaclCodec({ keys: [KEY, OLD_KEY], backend })
      assert.deepEqual(rotating.decode(old.encode(PAYLOAD)), { payload: PAYLOAD, rotated: true })
      assert.deepEqual(rotating.decode(codec.encode(PAYLOAD)), {
        payload: PAYLOAD,
        rotated: false,
      })
      assert.deepEqual(codec.decode(rotating.encode(PAYLOAD)), {
        payload: PAYLOAD,
        rotated: false,
      })
      assert.equal(decodeError(() => old.decode(rotating.encode(PAYLOAD))).reason, 'tampered')
    })

    it('rejects every single-character change as tampered or malformed', () => {
      const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      assertEveryChangeRefused(codec, codec.encode(PAYLOAD), { digits, extra: ['=', '-'] })
    })

    it('rejects a value truncated anywhere as malformed or tampered, below 40 bytes malformed', () => {
      const value = codec.encode(PAYLOAD)
      assertEveryTruncationRefused(codec, value)
      // Whole boxes cut back to 39 bytes (canonical base64, so only the size is wrong).
      for (const length of [0, 1, 24, 39]) {
        const short = b64(raw(value).subarray(0, length))
        if (short === '') continue
        const error = decodeError(() => codec.decode(short))
        assert.equal(error.reason, 'malformed')
      }
      // 40 bytes and more are boxes; cut ones fail their tag.
      const cut = b64(raw(value).subarray(0, 60))
      assert.equal(decodeError(() => codec.decode(cut)).reason, 'tampered')
    })

    it('rejects base64 other than canonical, padded, standard as malformed', () => {
      const value = codec.encode('x') // 41 bytes: ends in one '='
      assert.ok(value.endsWith('=') && !value.endsWith('=='))
      const value2 = codec.encode('') // 40 bytes: ends in '=='
      assert.ok(value2.endsWith('=='))
      const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      const bump = (text: string, at: number) =>
        text.slice(0, at) + digits[digits.indexOf(text.charAt(at)) ^ 1] + text.slice(at + 1)
      for (const bad of [
        value.slice(0, -1), // padding dropped
        value2.slice(0, -2),
        value2.slice(0, -1),
        `${value}=`,
        bump(value, value.length - 2), // spare bits set before '='
        bump(value2, value2.length - 3), // spare bits set before '=='
        Buffer.from(value, 'base64').toString('base64url'),
        `${value.slice(0, 8)}\n${value.slice(8)}`,
        `${value.slice(0, 8)}=${value.slice(9)}`,
      ]) {
        assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
      }
    })

    it('rejects a value over 4096 characters as malformed', () => {
      assert.equal(decodeError(() => codec.decode('A'.repeat(4100))).reason, 'malformed')
    })

    it('rejects an opened payload that is not UTF-8 as malformed', () => {
      const box = new Uint8Array(40 + 2)
      box.set(VECTOR_NONCE)
      sodium.crypto_secretbox_easy(
        box.subarray(24),
        Uint8Array.of(0xff, 0xfe),
        VECTOR_NONCE,
        Buffer.from(KEY, 'hex'),
      )
      const error = decodeError(() => codec.decode(b64(box)))
      assert.equal(error.reason, 'malformed')
      assert.match(error.message, /not UTF-8/)
    })

    it('property: every payload round-trips, with one key and through a key list', () => {
      const rotating = createNaclCodec({ keys: [OLD_KEY, KEY], backend })
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (payload) => {
          assert.deepEqual(codec.decode(codec.encode(payload)), { payload, rotated: false })
          assert.deepEqual(rotating.decode(codec.encode(payload)), { payload, rotated: true })
        }),
        { numRuns: 300 },
      )
    })

    it('property: garbage, random boxes and bit flips give only SessionDecodeError', () => {
      const reader = createNaclCodec({ keys: [KEY, OLD_KEY], backend })
      const shaped = [
        fc.uint8Array({ maxLength: 300 }).map(b64),
        fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url')),
      ]
      const valid = raw(codec.encode(PAYLOAD))
      assertGarbageRefused(reader, { shaped, valid, encode: b64 }, 500)
    })
  })
}
