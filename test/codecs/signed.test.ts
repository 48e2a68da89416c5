import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import {
  assertEveryChangeRefused,
  decodeError,
  KEY,
  KEY_ID,
  OLD_KEY,
  PAYLOAD,
  runCodecSuite,
} from '../support/codec-suite.ts'

const codec = createSignedCodec({ keys: [KEY] })

describe('signed codec', () => {
  runCodecSuite('signed', codec, {
    create: createSignedCodec,
    hostile: [
      '..',
      '😀.😀.😀',
      `.${KEY_ID}.`,
      `..${'A'.repeat(43)}`,
      `.${'.'.repeat(6)}.${'A'.repeat(43)}`,
      `AAAA.${KEY_ID}.${'.'.repeat(43)}`,
      '__proto__',
      undefined,
    ],
  })

  it('follows the documented format: payload, key id, HMAC-SHA256 under an HKDF key', () => {
    const token = codec.encode(PAYLOAD)
    const [payload, kid, mac] = token.split('.')
    assert.equal(payload, Buffer.from(PAYLOAD).toString('base64url'))
    assert.equal(kid, KEY_ID)
    const key = Buffer.from(hkdfSync('sha256', KEY, '', 'sessionware signed v1', 32))
    const expected = createHmac('sha256', key).update(`${payload}.${kid}`).digest('base64url')
    assert.equal(mac, expected)
  })

  it('leaves the payload readable by the client (integrity only)', () => {
    const token = codec.encode(PAYLOAD)
    const readable = Buffer.from(token.slice(0, token.indexOf('.')), 'base64url')
    assert.equal(readable.toString('utf8'), PAYLOAD)
  })

  it('signs the same payload the same way every time', () => {
    assert.equal(codec.encode(PAYLOAD), codec.encode(PAYLOAD))
  })

  it('rejects every single-character change as tampered, malformed or (key id) unknown-key', () => {
    const token = codec.encode(PAYLOAD)
    const kidStart = token.indexOf('.') + 1
    assertEveryChangeRefused(codec, token, {
      extra: ['.', 'A'],
      allowed: (i) =>
        i >= kidStart && i < kidStart + 6
          ? ['unknown-key', 'malformed']
          : ['tampered', 'malformed'],
    })
  })

  it('rejects a changed payload with a valid key id as tampered', () => {
    const token = codec.encode(PAYLOAD)
    const forged =
      Buffer.from('{"user":"admin"}').toString('base64url') + token.slice(token.indexOf('.'))
    assert.equal(decodeError(() => codec.decode(forged)).reason, 'tampered')
  })

  it('gives the same key id for the same key in every codec instance', () => {
    const again = createSignedCodec({ keys: [KEY] })
    const fromBytes = createSignedCodec({ keys: [new TextEncoder().encode(KEY)] })
    assert.equal(again.encode(PAYLOAD).split('.')[1], KEY_ID)
    assert.equal(fromBytes.encode(PAYLOAD), codec.encode(PAYLOAD))
  })

  it('reads a token of the second key and reports it rotated', () => {
    const oldToken = createSignedCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
    const rotating = createSignedCodec({ keys: [KEY, OLD_KEY] })
    assert.deepEqual(rotating.decode(oldToken), { payload: PAYLOAD, rotated: true })
    assert.equal(rotating.encode(PAYLOAD), codec.encode(PAYLOAD))
  })

  it('rejects invalid base64url as malformed', () => {
    const [payload, kid, mac] = codec.encode(PAYLOAD).split('.')
    for (const bad of [
      `${payload}=.${kid}.${mac}`,
      `+${payload}.${kid}.${mac}`,
      `${payload}.${kid}.${mac}=`,
      `${payload}/.${kid}.${mac}`,
      `${payload}B.${kid}.${mac}`, // a spare bit set: not canonical
    ]) {
      assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
    }
  })

  it('rejects a truncated token as malformed', () => {
    const token = codec.encode(PAYLOAD)
    for (let length = 0; length < token.length; length++) {
      const { reason } = decodeError(() => codec.decode(token.slice(0, length)))
      assert.equal(reason, 'malformed', `length ${length}`)
    }
  })

  it('rejects a 10 KB value as malformed', () => {
    const token = codec.encode('x'.repeat(7700))
    assert.ok(token.length > 10 * 1024)
    assert.equal(decodeError(() => codec.decode(token)).reason, 'malformed')
  })

  it('refuses a key string shorter than 32 characters', () => {
    assert.throws(() => createSignedCodec({ keys: ['short'] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[0\] is a string of 5 characters; a key needs at least 32/,
    })
  })

  it('refuses the same key twice', () => {
    assert.throws(() => createSignedCodec({ keys: [KEY, KEY] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /are the same key/,
    })
  })
})
