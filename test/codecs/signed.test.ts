import assert from 'node:assert/strict'
import { createHmac, hkdfSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import { SessionDecodeError } from '../../src/errors.ts'

const KEY = 'sessionware-test-key-0123456789abcdef'
const OLD_KEY = 'sessionware-old-key-0123456789abcdef'
const OTHER_KEY = 'sessionware-other-key-0123456789abcd'
/** The key id of KEY: a golden value, the same in every process, codec and release. */
const KEY_ID = '3erTQh'
const PAYLOAD = '{"user":"ann","roles":["admin"],"visits":3}'
const UNICODE = '{"name":"Zoë 山田 😀","note":"naïve café\\u0000ok","rtl":"שלום"}'
/** RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/
const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

const codec = createSignedCodec({ keys: [KEY] })

function decodeError(run: () => unknown): SessionDecodeError {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof SessionDecodeError, `expected SessionDecodeError, got ${error}`)
    assert.equal(error.code, 'ERR_SESSION_DECODE')
    return error
  }
  assert.fail('expected decode to throw')
}

describe('signed codec', () => {
  it('round-trips an ASCII payload', () => {
    assert.deepEqual(codec.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })

  it('round-trips a non-ASCII payload', () => {
    assert.deepEqual(codec.decode(codec.encode(UNICODE)), { payload: UNICODE, rotated: false })
  })

  it('round-trips an empty payload', () => {
    assert.deepEqual(codec.decode(codec.encode('')), { payload: '', rotated: false })
  })

  it('writes only RFC 6265 cookie-octets', () => {
    assert.match(codec.encode(UNICODE), COOKIE_OCTETS)
    assert.match(codec.encode(''), COOKIE_OCTETS)
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
    for (let i = 0; i < token.length; i++) {
      const char = token[i] ?? ''
      const index = DIGITS.indexOf(char)
      const replacements = [DIGITS[index ^ 1], DIGITS[(index + 32) % 64], '.', 'A']
      for (const replacement of replacements) {
        if (replacement === undefined || replacement === char) continue
        const changed = token.slice(0, i) + replacement + token.slice(i + 1)
        const { reason } = decodeError(() => codec.decode(changed))
        const inKid = i >= kidStart && i < kidStart + 6
        const allowed = inKid ? ['unknown-key', 'malformed'] : ['tampered', 'malformed']
        assert.ok(allowed.includes(reason), `position ${i} -> ${replacement}: ${reason}`)
      }
    }
  })

  it('rejects a token signed with another key as unknown-key', () => {
    const other = createSignedCodec({ keys: [OTHER_KEY] })
    assert.equal(decodeError(() => codec.decode(other.encode(PAYLOAD))).reason, 'unknown-key')
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

  it('rejects tokens of a dropped key as unknown-key', () => {
    const oldToken = createSignedCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
    assert.equal(decodeError(() => codec.decode(oldToken)).reason, 'unknown-key')
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

  it('rejects an empty value as malformed', () => {
    assert.equal(decodeError(() => codec.decode('')).reason, 'malformed')
  })

  it('rejects a 10 KB value as malformed', () => {
    const token = codec.encode('x'.repeat(7700))
    assert.ok(token.length > 10 * 1024)
    assert.equal(decodeError(() => codec.decode(token)).reason, 'malformed')
  })

  it('throws nothing but SessionDecodeError on hostile input', () => {
    const hostile: unknown[] = [
      '.',
      '..',
      '.'.repeat(1024 * 1024),
      '\u0000',
      'é',
      '😀.😀.😀',
      `.${KEY_ID}.`,
      `..${'A'.repeat(43)}`,
      `.${'.'.repeat(6)}.${'A'.repeat(43)}`,
      `AAAA.${KEY_ID}.${'.'.repeat(43)}`,
      '__proto__',
      ' ',
      null,
      undefined,
      42,
      {},
    ]
    for (const value of hostile) decodeError(() => codec.decode(value as string))
  })

  it('refuses a missing key list', () => {
    assert.throws(() => createSignedCodec({} as { keys: string[] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /signed codec: options\.keys must be an array/,
    })
  })

  it('refuses an empty key list', () => {
    assert.throws(() => createSignedCodec({ keys: [] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys is empty/,
    })
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

  it('is named signed', () => {
    assert.equal(codec.name, 'signed')
  })
})
