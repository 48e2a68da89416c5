/**
 * The fernet codec: the shared codec suite, keys and options. The FORMATS.md vectors and the
 * clock: `fernet-vectors.test.ts`; the token format and hostile input: `fernet-format.test.ts`;
 * Python's cryptography.fernet as a peer: `fernet-python.test.ts`.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFernetCodec, type FernetCodecOptions } from '../../src/codecs/fernet.ts'
import { decodeError, PAYLOAD, runCodecSuite } from '../support/codec-suite.ts'
import {
  atSeconds,
  codec,
  KEY,
  OLD_KEY,
  OTHER_KEY,
  pinned,
  raw,
  T,
  VECTOR_BYTES,
  VECTOR_KEY,
} from '../support/fernet-fixtures.ts'

describe('fernet codec', () => {
  runCodecSuite('fernet', codec, {
    // No `create`: the suite expects `unknown-key` for a token of another key, and a Fernet token
    // names no key (that case is `tampered` here; see the key tests below).
    hostile: [
      'gAAAAA',
      'gAAAAA==',
      '====',
      `${'A'.repeat(96)}`,
      `g${'A'.repeat(99)}`,
      '😀😀😀😀',
      'gAAAAABlU_EA.AAAA',
      undefined,
      '__proto__',
    ],
  })

  describe('keys and options', () => {
    it('round-trips an empty payload', () => {
      assert.deepEqual(codec.decode(codec.encode('')), { payload: '', rotated: false })
      assert.equal(raw(codec.encode('')).length, 73)
    })

    it('rejects a token of another key as tampered (a Fernet token names no key)', () => {
      const other = createFernetCodec({ keys: [OTHER_KEY] })
      assert.equal(decodeError(() => codec.decode(other.encode(PAYLOAD))).reason, 'tampered')
    })

    it('reads a token of a later key and reports it rotated, and writes with the first', () => {
      const oldToken = createFernetCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
      const rotating = createFernetCodec({ keys: [KEY, OLD_KEY, OTHER_KEY] })
      assert.deepEqual(rotating.decode(oldToken), { payload: PAYLOAD, rotated: true })
      const fresh = rotating.encode(PAYLOAD)
      assert.deepEqual(rotating.decode(fresh), { payload: PAYLOAD, rotated: false })
      assert.deepEqual(codec.decode(fresh), { payload: PAYLOAD, rotated: false })
      const third = createFernetCodec({ keys: [OTHER_KEY] }).encode(PAYLOAD)
      assert.deepEqual(rotating.decode(third), { payload: PAYLOAD, rotated: true })
    })

    it('rejects tokens of a dropped key as tampered', () => {
      const oldToken = createFernetCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
      assert.equal(decodeError(() => codec.decode(oldToken)).reason, 'tampered')
    })

    it('takes a key as the 44-character text or as its 32 raw bytes, the same key', () => {
      const fromBytes = pinned({ keys: [VECTOR_BYTES], clock: atSeconds(T) })
      const fromText = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) })
      assert.equal(fromBytes.encode(PAYLOAD), fromText.encode(PAYLOAD))
      const asBuffer = createFernetCodec({ keys: [Buffer.from(KEY, 'base64url')] })
      assert.deepEqual(asBuffer.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
      // A view into a larger buffer: only its own 32 bytes count.
      const big = Buffer.concat([Buffer.alloc(8, 7), Buffer.from(VECTOR_BYTES), Buffer.alloc(8, 9)])
      const view = pinned({ keys: [big.subarray(8, 40)], clock: atSeconds(T) })
      assert.equal(view.encode(PAYLOAD), fromText.encode(PAYLOAD))
    })

    it('accepts a key in the standard base64 alphabet, as Python does', () => {
      const bytes = Buffer.alloc(32, 0xfb) // encodes to digits 62 and 63
      const standard = bytes.toString('base64')
      assert.match(standard, /[+/]/)
      const a = pinned({ keys: [standard], clock: atSeconds(T) })
      const b = pinned({ keys: [`${bytes.toString('base64url')}=`], clock: atSeconds(T) })
      assert.equal(a.encode(PAYLOAD), b.encode(PAYLOAD))
    })

    it('refuses a missing, empty or wrong key list with SessionConfigError', () => {
      const cases: [unknown, RegExp][] = [
        [undefined, /options\.keys must be an array/],
        ['AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=', /must be an array/],
        [[], /options\.keys is empty/],
        [[VECTOR_KEY.slice(0, -1)], /keys\[0\] is not a Fernet key.*43 characters/],
        [[`${VECTOR_KEY.slice(0, -1)}A`], /not a Fernet key/],
        [[`${VECTOR_KEY}=`], /not a Fernet key/],
        [['sessionware-test-key-0123456789abcdef'], /not a Fernet key/],
        [[` ${VECTOR_KEY.slice(1)}`], /not a Fernet key/],
        [[new Uint8Array(31)], /Uint8Array of 31 bytes; a raw Fernet key is exactly 32/],
        [[Buffer.from(VECTOR_KEY)], /Uint8Array of 44 bytes.*as a string/],
        [[42], /must be a string .* got number/],
        [[VECTOR_KEY, VECTOR_BYTES], /keys\[0\] and .*keys\[1\] are the same key/],
      ]
      for (const [keys, message] of cases) {
        assert.throws(() => createFernetCodec({ keys } as FernetCodecOptions), {
          code: 'ERR_SESSION_CONFIG',
          message,
        })
      }
      assert.throws(() => createFernetCodec(undefined as unknown as FernetCodecOptions), {
        code: 'ERR_SESSION_CONFIG',
      })
    })

    it('refuses a ttl that is not a positive whole number, and a clock that is not a function', () => {
      for (const ttl of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '10', null]) {
        assert.throws(() => createFernetCodec({ keys: [KEY], ttl } as FernetCodecOptions), {
          code: 'ERR_SESSION_CONFIG',
          message: /fernet codec: options\.ttl must be a positive whole number/,
        })
      }
      assert.throws(
        () => createFernetCodec({ keys: [KEY], clock: 5 } as unknown as FernetCodecOptions),
        { code: 'ERR_SESSION_CONFIG', message: /clock must be a function/ },
      )
      createFernetCodec({ keys: [KEY], ttl: 1 })
      createFernetCodec({ keys: [KEY], ttl: undefined, clock: undefined })
    })

    it('never puts a key into an error message', () => {
      try {
        createFernetCodec({ keys: [`${KEY.slice(0, -1)}x`] })
        assert.fail('expected a SessionConfigError')
      } catch (error) {
        assert.ok(!(error as Error).message.includes(KEY.slice(0, 20)))
      }
    })
  })
})
