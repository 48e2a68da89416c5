import assert from 'node:assert/strict'
import { createCipheriv, createHmac, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { createFernetCodec, type FernetCodecOptions } from '../../src/codecs/fernet.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  DIGITS,
  decodeError,
  PAYLOAD,
  runCodecSuite,
  UNICODE,
} from '../support/codec-suite.ts'
import {
  ASGI_KEY,
  atSeconds,
  codec,
  KEY,
  OLD_KEY,
  OTHER_KEY,
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

  describe('FORMATS.md vectors', () => {
    it('writes aiohttp-session V3 (EncryptedCookieStorage, ts 1700000000, IV zeros) byte for byte', () => {
      const json = '{"created": 1700000000, "session": {"user": "alice", "n": 1}}'
      const v3 =
        'gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAO76hUp1afHPQiWkzSlmAk3BKpG1Z084XxuqaMnePcFvSzqIMNuekdB' +
        'ac86KwQUW8dGqPFqyQUd-frszTTzXVRRsrKwKZhKGrFcVCeKbAI627FADNYoI5_K4A094miBJJA=='
      // aiohttp's clock was 1700000000.5: Fernet keeps whole seconds.
      const clock = () => 1_700_000_000_500
      assert.equal(pinned({ keys: [VECTOR_KEY], clock }).encode(json), v3)
      assert.equal(pinned({ keys: [VECTOR_BYTES], clock }).encode(json), v3)
      assert.deepEqual(createFernetCodec({ keys: [VECTOR_KEY] }).decode(v3), {
        payload: json,
        rotated: false,
      })
      // V4 (max_age=3600) is the same token; read at T + 100 with ttl 3600.
      const withTtl = createFernetCodec({
        keys: [VECTOR_KEY],
        ttl: 3600,
        clock: atSeconds(T + 100),
      })
      assert.equal(withTtl.decode(v3).payload, json)
    })

    it('writes the asgi-sessions fernet vector (secret SECRET-TESTS) byte for byte', () => {
      const json = '{"user":"alice","n":1}'
      const vector =
        'gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAACFchks9RJlAhj7l9u2nHbgB7S8TydGVd78pqlFGd59eT8q7Kffn7zBYH' +
        'OTRWqOQBKTOg9HMIY1fpZvQMSMtwxU='
      assert.equal(pinned({ keys: [ASGI_KEY], clock: atSeconds(T) }).encode(json), vector)
      assert.equal(createFernetCodec({ keys: [ASGI_KEY] }).decode(vector).payload, json)
    })

    it('writes the starsessions FernetEncryptor inner token byte for byte', () => {
      const json =
        '{"user": "alice", "__metadata__": {"lifetime": 3600, "created": 1700000000.25, "last_access": 1700000000.25}}'
      const inner =
        'gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAHd_YAHWiqONTHMWNwso7FfWaDCy5O5OmuTYugA0JZsmcs0gFuFRzIwJbEhQ' +
        't-VQ4MPBrRvurIQjQXNHUa_G5ZCp5lT6dHMKb4RIlhHnvirk5AwQod8vwNtoC14WktY2Xm6b_dxVMqvrNng7bXDfAu' +
        'BGBMV15aMOJjLuBwXZJ43eLP1ZFVrZRqgulkRU2qS_PA=='
      assert.equal(pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode(json), inner)
      assert.equal(createFernetCodec({ keys: [VECTOR_KEY] }).decode(inner).payload, json)
    })

    it('applies the vector TTL rules (ttl 10, token at T): T+5 ok, T+11 and T-100 expired', () => {
      const written = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode(PAYLOAD)
      const at = (now: number) =>
        createFernetCodec({ keys: [VECTOR_KEY], ttl: 10, clock: atSeconds(now) })
      assert.equal(at(T + 5).decode(written).payload, PAYLOAD)
      assert.equal(decodeError(() => at(T + 11).decode(written)).reason, 'expired')
      assert.match(decodeError(() => at(T + 11).decode(written)).message, /11 s ago, ttl 10 s/)
      const future = decodeError(() => at(T - 100).decode(written))
      assert.equal(future.reason, 'expired')
      assert.match(future.message, /100 s in the future, over the 60 s clock skew/)
    })

    it('has the exact boundaries of Python: ts + ttl < now expires, now + 60 < ts is too early', () => {
      const written = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode(PAYLOAD)
      const outcome = (now: number, ttl = 10) => {
        try {
          createFernetCodec({ keys: [VECTOR_KEY], ttl, clock: () => now }).decode(written)
          return 'ok'
        } catch (error) {
          return (error as { reason: string }).reason
        }
      }
      assert.equal(outcome((T + 10) * 1000 + 999), 'ok') // int(now) = T + 10: not < now
      assert.equal(outcome((T + 11) * 1000), 'expired')
      assert.equal(outcome((T - 60) * 1000), 'ok')
      assert.equal(outcome((T - 61) * 1000 + 999), 'expired')
      assert.equal(outcome(T * 1000, 1), 'ok')
    })

    it('has no age check without ttl (as Python)', () => {
      const written = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode(PAYLOAD)
      for (const now of [0, T - 10_000_000, T + 1_000_000_000]) {
        const reader = createFernetCodec({ keys: [VECTOR_KEY], clock: atSeconds(now) })
        assert.equal(reader.decode(written).payload, PAYLOAD)
      }
    })

    it('checks the age only of an authentic token: a forged old timestamp is tampered', () => {
      const written = pinned({ keys: [VECTOR_KEY], clock: atSeconds(T) }).encode(PAYLOAD)
      const bytes = raw(written)
      bytes.writeUInt32BE(T - 1000, 5)
      const reader = createFernetCodec({ keys: [VECTOR_KEY], ttl: 10, clock: atSeconds(T) })
      assert.equal(decodeError(() => reader.decode(token(bytes))).reason, 'tampered')
      assert.equal(
        decodeError(() => reader.decode(token(resign(bytes, VECTOR_KEY)))).reason,
        'expired',
      )
    })

    it('writes the clock in whole seconds, big-endian, into bytes 1..8', () => {
      const far = 2 ** 40 + 12_345 // beyond 32 bits
      const bytes = raw(pinned({ keys: [KEY], clock: atSeconds(far) }).encode(''))
      assert.equal(bytes[0], 0x80)
      assert.equal(bytes.readBigUInt64BE(1), BigInt(far))
      const reader = createFernetCodec({ keys: [KEY], ttl: 5, clock: atSeconds(far + 3) })
      assert.equal(reader.decode(token(bytes)).payload, '')
    })
  })

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
      const reason = decodeError(() => codec.decode(token(resign(forged, KEY)))).reason
      assert.equal(reason, 'tampered') // wrong key
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
      const value = codec.encode(PAYLOAD)
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 400 }),
            fc.string({ unit: 'binary', maxLength: 200 }),
            fc.uint8Array({ minLength: 0, maxLength: 300 }).map((b) => token(Buffer.from(b))),
            fc
              .integer({ min: 0, max: 12 })
              .chain((n) => fc.uint8Array({ minLength: 72 + 16 * n, maxLength: 72 + 16 * n }))
              .map((b) => token(Buffer.concat([Buffer.from([0x80]), Buffer.from(b)]))),
            fc
              .tuple(fc.nat(raw(value).length - 1), fc.integer({ min: 1, max: 255 }))
              .map(([at, flip]) => {
                const bytes = raw(value)
                bytes[at] = (bytes[at] ?? 0) ^ flip
                return token(bytes)
              }),
          ),
          (garbage) => {
            const { reason } = decodeError(() => reader.decode(garbage))
            assert.ok(reason === 'malformed' || reason === 'tampered', reason)
          },
        ),
        { numRuns: 500 },
      )
    })
  })
})
