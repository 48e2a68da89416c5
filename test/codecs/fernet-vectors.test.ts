/**
 * The fernet codec against the FORMATS.md vectors (aiohttp-session, asgi-sessions, starsessions)
 * byte for byte, and its clock: the TTL and clock-skew boundaries of Python's cryptography.fernet.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import { decodeError, PAYLOAD } from '../support/codec-suite.ts'
import {
  ASGI_KEY,
  atSeconds,
  KEY,
  pinned,
  raw,
  resign,
  T,
  token,
  VECTOR_BYTES,
  VECTOR_KEY,
} from '../support/fernet-fixtures.ts'

describe('fernet codec', () => {
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
})
