import assert from 'node:assert/strict'
import { createDecipheriv, hkdfSync } from 'node:crypto'
import { describe, it } from 'node:test'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import fc from 'fast-check'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  decodeError,
  KEY,
  KEY_ID,
  OLD_KEY,
  OTHER_KEY,
  PAYLOAD,
  runCodecSuite,
} from '../support/codec-suite.ts'

const codec = createSealedCodec({ keys: [KEY] })

describe('sealed codec', () => {
  runCodecSuite('sealed', codec, {
    create: createSealedCodec,
    hostile: [
      '......',
      '😀😀😀😀😀😀.😀',
      `${KEY_ID}.`,
      `${KEY_ID}..`,
      `${KEY_ID}.${'A'.repeat(4)}`,
      `${KEY_ID}.${'A'.repeat(40)}`,
      `.${KEY_ID}.AAAA`,
      `${KEY_ID}~`,
      `${KEY_ID}~~`,
      `${KEY_ID}~${'A'.repeat(52)}`,
      `${KEY_ID}~.${'A'.repeat(60)}`,
      `~${KEY_ID}~AAAA`,
      '__proto__',
      undefined,
    ],
  })

  it('writes the key id, a tilde and base64url of nonce, ciphertext and tag', () => {
    const token = codec.encode(PAYLOAD)
    assert.match(token, /^[A-Za-z0-9_-]{6}~[A-Za-z0-9_-]+$/)
    assert.equal(token.slice(0, 6), KEY_ID)
    const bytes = Buffer.from(token.slice(7), 'base64url')
    assert.equal(bytes.length, 24 + Buffer.byteLength(PAYLOAD) + 16)
  })

  it('follows the documented construction: HKDF-SHA256 key, XChaCha20-Poly1305, key id as AAD', () => {
    const token = codec.encode(PAYLOAD)
    const bytes = Buffer.from(token.slice(7), 'base64url')
    const key = Buffer.from(hkdfSync('sha256', KEY, '', 'sessionware sealed v2', 32))
    const box = xchacha20poly1305(key, bytes.subarray(0, 24), Buffer.from(KEY_ID))
    assert.equal(Buffer.from(box.decrypt(bytes.subarray(24))).toString('utf8'), PAYLOAD)
  })

  it('seals the same payload differently on every encode', () => {
    const tokens = new Set(Array.from({ length: 100 }, () => codec.encode(PAYLOAD)))
    assert.equal(tokens.size, 100)
    const ivs = new Set(
      [...tokens].map((t) => Buffer.from(t.slice(7), 'base64url').subarray(0, 24).toString('hex')),
    )
    assert.equal(ivs.size, 100)
  })

  it('does not reveal the payload in the token', () => {
    const secret = 'SECRET-MARKER-do-not-leak'
    const token = codec.encode(`{"s":"${secret}"}`)
    assert.ok(!token.includes(secret))
    for (const shift of ['', 'x', 'xx']) {
      const encoded = Buffer.from(shift + secret)
        .toString('base64url')
        .slice(4, -4)
      assert.ok(!token.includes(encoded), `base64url of the payload appears in ${token}`)
    }
    assert.ok(!Buffer.from(token.slice(7), 'base64url').includes(secret))
  })

  it('rejects every single-character change as tampered, malformed or (key id) unknown-key', () => {
    assertEveryChangeRefused(codec, codec.encode(PAYLOAD), {
      extra: ['.'],
      allowed: (i) => (i < 6 ? ['unknown-key', 'malformed'] : ['tampered', 'malformed']),
    })
  })

  it('reads a token only as it was written: any other spelling of its data is malformed', () => {
    // Decoders also accept `+`, `/`, `=`, skip or stop at other characters, and read a wide one
    // by its low byte: none of that may read back, in either format. Property-based: an insertion
    // or a replacement anywhere in the data, with a character from outside base64url or from it.
    const aes = createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' })
    const hostile = [
      '+',
      '/',
      '=',
      ' ',
      '\t',
      '.',
      '~',
      '%',
      '!',
      '"',
      '\u0000',
      'é',
      '😀',
      '\u2028',
      // node's and Bun's decoders read only the low byte of these: `Q`, `D`, `A`, `w`.
      '\u0151',
      '\u0144',
      '\u0141',
      '\u0177',
    ]
    const inAlphabet = fc.constantFrom(...'AQgw-_09azBCx'.split(''))
    fc.assert(
      fc.property(
        fc.constantFrom(codec, aes),
        fc.string({ maxLength: 40 }),
        fc.nat(),
        fc.constantFrom('insert', 'replace'),
        fc.oneof(fc.constantFrom(...hostile), inAlphabet),
        (sealed, payload, at, how, char) => {
          const token = sealed.encode(payload)
          const i = KEY_ID.length + 1 + (at % (token.length - KEY_ID.length - 1))
          const changed = token.slice(0, i) + char + token.slice(how === 'insert' ? i : i + 1)
          if (changed === token) return
          const { reason } = decodeError(() => sealed.decode(changed))
          if (/^[A-Za-z0-9_-]$/.test(char)) assert.ok(['tampered', 'malformed'].includes(reason))
          else assert.equal(reason, 'malformed', JSON.stringify(changed))
        },
      ),
      { numRuns: 400 },
    )
  })

  it('tells a key id no key has (unknown-key) from one that is not a key id (malformed)', () => {
    for (const aes of [false, true]) {
      const sealed = aes ? createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' }) : codec
      const token = sealed.encode(PAYLOAD)
      const data = token.slice(6)
      assert.equal(decodeError(() => sealed.decode(`AAAAAA${data}`)).reason, 'unknown-key')
      for (const kid of ['AAAA+A', 'AAA.AA', 'AAAAA=', 'AAAAA\u0151']) {
        assert.equal(decodeError(() => sealed.decode(kid + data)).reason, 'malformed', kid)
      }
    }
  })

  it('rejects a token whose key id was swapped for a configured one as tampered', () => {
    const both = createSealedCodec({ keys: [KEY, OTHER_KEY] })
    const token = createSealedCodec({ keys: [OTHER_KEY] }).encode(PAYLOAD)
    const swapped = KEY_ID + token.slice(6)
    assert.equal(decodeError(() => both.decode(swapped)).reason, 'tampered')
  })

  it('gives the same key id for the same key in every codec instance', () => {
    const again = createSealedCodec({ keys: [KEY] })
    const fromBytes = createSealedCodec({ keys: [new TextEncoder().encode(KEY)] })
    assert.equal(again.encode(PAYLOAD).slice(0, 6), KEY_ID)
    assert.equal(fromBytes.encode(PAYLOAD).slice(0, 6), KEY_ID)
    assert.deepEqual(again.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })

  it('reads a token of the second key and reports it rotated', () => {
    const oldToken = createSealedCodec({ keys: [OLD_KEY] }).encode(PAYLOAD)
    const rotating = createSealedCodec({ keys: [KEY, OLD_KEY] })
    assert.deepEqual(rotating.decode(oldToken), { payload: PAYLOAD, rotated: true })
    assert.deepEqual(rotating.decode(rotating.encode(PAYLOAD)), {
      payload: PAYLOAD,
      rotated: false,
    })
    assert.equal(rotating.encode(PAYLOAD).slice(0, 6), KEY_ID)
  })

  it('rejects invalid base64url as malformed', () => {
    const body = codec.encode(PAYLOAD).slice(7)
    for (const bad of [
      `${KEY_ID}.${body}=`,
      `${KEY_ID}.+${body.slice(1)}`,
      `${KEY_ID}.a/${body}`,
    ]) {
      assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
    }
    // 43 digits carry 32 bytes and 2 spare bits; a final 'B' sets one of them (not canonical).
    const nonCanonical = `${KEY_ID}.${'A'.repeat(42)}B`
    assert.equal(decodeError(() => codec.decode(nonCanonical)).reason, 'malformed')
  })

  it('rejects a token truncated below iv and tag as malformed', () => {
    const token = codec.encode(PAYLOAD)
    for (const length of [0, 3, 6, 7, 8, 20, 7 + 36]) {
      assert.equal(decodeError(() => codec.decode(token.slice(0, length))).reason, 'malformed')
    }
  })

  it('rejects a token truncated anywhere as malformed or tampered', () => {
    assertEveryTruncationRefused(codec, codec.encode(PAYLOAD))
  })

  it('rejects a 10 KB value as malformed', () => {
    const long = `${KEY_ID}.${'A'.repeat(10 * 1024)}`
    assert.equal(decodeError(() => codec.decode(long)).reason, 'malformed')
  })

  it('derives keys apart from the signed codec for the same key string (AES format)', () => {
    const sealedToken = createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' }).encode(PAYLOAD)
    const signed = createSignedCodec({ keys: [KEY] })
    const bytes = Buffer.from(sealedToken.slice(7), 'base64url')
    const signedKey = Buffer.from(hkdfSync('sha256', KEY, '', 'sessionware signed v1', 32))
    const decipher = createDecipheriv('aes-256-gcm', signedKey, bytes.subarray(0, 12))
    decipher.setAAD(Buffer.from(KEY_ID))
    decipher.setAuthTag(bytes.subarray(-16))
    decipher.update(bytes.subarray(12, -16))
    assert.throws(() => decipher.final())
    assert.equal(decodeError(() => signed.decode(sealedToken)).reason, 'malformed')
  })

  it('refuses a key string shorter than 32 characters', () => {
    assert.throws(() => createSealedCodec({ keys: [KEY, 'x'.repeat(31)] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[1\] is a string of 31 characters; a key needs at least 32/,
    })
  })

  it('refuses a Uint8Array key shorter than 32 bytes', () => {
    assert.throws(() => createSealedCodec({ keys: [new Uint8Array(16)] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[0\] is a Uint8Array of 16 bytes/,
    })
  })

  it('refuses a key that is neither a string nor a Uint8Array', () => {
    assert.throws(() => createSealedCodec({ keys: [42 as unknown as string] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[0\] must be a string or a Uint8Array, got number/,
    })
  })

  it('refuses the same key twice, even once as a string and once as bytes', () => {
    assert.throws(() => createSealedCodec({ keys: [KEY, OLD_KEY, KEY] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[0\] and sealed codec: options\.keys\[2\] are the same key/,
    })
    assert.throws(() => createSealedCodec({ keys: [KEY, Buffer.from(KEY)] }), {
      code: 'ERR_SESSION_CONFIG',
    })
  })

  it('accepts a 32-byte Uint8Array key', () => {
    const bytes = createSealedCodec({ keys: [new Uint8Array(32).fill(7)] })
    assert.deepEqual(bytes.decode(bytes.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })
})
