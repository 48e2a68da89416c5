import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import { buildNaclCodec } from '../../src/lib/secretbox.ts'
import { decodeError, PAYLOAD, UNICODE } from '../support/codec-suite.ts'
import {
  BACKENDS,
  b64,
  fixedNonce,
  KEY,
  LARGE,
  OTHER_KEY,
  pyDecrypt,
  pyEncrypt,
  raw,
  SPECIAL,
  V5,
  V5_PAYLOAD,
  V6,
  V6_PAYLOAD,
  VECTOR_HEX,
  VECTOR_NONCE,
} from '../support/nacl-fixtures.ts'
import { requirePython } from '../support/python.ts'

describe('nacl codec against Python PyNaCl (aiohttp NaClCookieStorage)', () => {
  const PAYLOADS = [PAYLOAD, UNICODE, '', LARGE, SPECIAL, V5_PAYLOAD]

  for (const backend of BACKENDS) {
    const codec = createNaclCodec({ keys: [KEY], backend })

    it(`${backend}: reads what SecretBox.encrypt(…, encoder=Base64Encoder) wrote`, (t) => {
      if (!requirePython(t, 'nacl')) return
      const values = pyEncrypt(KEY, PAYLOADS)
      values.forEach((value, i) => {
        assert.deepEqual(codec.decode(value), { payload: PAYLOADS[i], rotated: false })
      })
      const rotating = createNaclCodec({ keys: [OTHER_KEY, KEY], backend })
      assert.deepEqual(rotating.decode(values[0] ?? ''), { payload: PAYLOAD, rotated: true })
    })

    it(`${backend}: writes what Python reads`, (t) => {
      if (!requirePython(t, 'nacl')) return
      const values = PAYLOADS.map((payload) => codec.encode(payload))
      assert.deepEqual(
        pyDecrypt(KEY, values),
        PAYLOADS.map((payload) => ({ payload })),
      )
    })

    it(`${backend}: writes what Python writes, byte for byte, for the same nonce`, (t) => {
      if (!requirePython(t, 'nacl')) return
      for (const nonce of [VECTOR_NONCE, new Uint8Array(24), new Uint8Array(24).fill(0xff)]) {
        const python = pyEncrypt(VECTOR_HEX, PAYLOADS, nonce)
        const pinned = buildNaclCodec({ keys: [VECTOR_HEX], backend }, { nonce: fixedNonce(nonce) })
        assert.deepEqual(
          PAYLOADS.map((payload) => pinned.encode(payload)),
          python,
        )
      }
      assert.deepEqual(pyEncrypt(VECTOR_HEX, [V5_PAYLOAD, V6_PAYLOAD], VECTOR_NONCE), [V5, V6])
    })

    it(`${backend}: both sides reject wrong-key, tampered and truncated values`, (t) => {
      if (!requirePython(t, 'nacl')) return
      const [ours] = [codec.encode(SPECIAL)]
      const [theirs] = pyEncrypt(KEY, [SPECIAL])
      assert.ok(ours !== undefined && theirs !== undefined)
      const flip = (value: string, at: number) => {
        const bytes = raw(value)
        bytes[at] = (bytes[at] ?? 0) ^ 0x01
        return b64(bytes)
      }
      const bad = (value: string) => [
        flip(value, 0), // nonce
        flip(value, 30), // tag
        flip(value, raw(value).length - 1), // ciphertext
        b64(raw(value).subarray(0, raw(value).length - 1)), // one byte short
        b64(raw(value).subarray(0, 39)), // shorter than nonce and tag
      ]
      // Python rejects our bad values and the wrong key...
      assert.deepEqual(pyDecrypt(KEY, bad(ours)), [null, null, null, null, null])
      assert.deepEqual(pyDecrypt(OTHER_KEY, [ours]), [null])
      // ...and so do we for Python's.
      const reasons = bad(theirs).map((value) => decodeError(() => codec.decode(value)).reason)
      assert.deepEqual(reasons, ['tampered', 'tampered', 'tampered', 'tampered', 'malformed'])
      const other = createNaclCodec({ keys: [OTHER_KEY], backend })
      assert.equal(decodeError(() => other.decode(theirs)).reason, 'tampered')
    })
  }
})
