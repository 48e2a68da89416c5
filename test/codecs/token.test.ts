import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { decodeTokenPart, decodeTokenPartInto } from '../../src/lib/token.ts'

/** The definition: a part is canonical when encoding what it decodes to gives it back. */
function canonical(part: string): boolean {
  return Buffer.from(part, 'base64url').toString('base64url') === part
}

/**
 * Characters a decoder reads as data, skips or stops at: base64url's digits, standard base64's
 * `+` and `/`, padding, separators, blanks, bytes over 0x7f, and wide characters whose low byte is
 * a digit (`Q`, `D`, `A`, `w`, `-`, `_`), which some decoders read as that digit.
 */
const CHARS = [
  ...'AQgw-_09azBCxyz',
  '+',
  '/',
  '=',
  '.',
  '~',
  ' ',
  '\t',
  '\u0000',
  'é',
  '\u00ff',
  '\u0151',
  '\u0144',
  '\u0141',
  '\u0177',
  '\u012d',
  '\u015f',
  '😀',
]

describe('strict base64url (decodeTokenPart)', () => {
  it('gives back the bytes of every canonical encoding, also into a buffer', () => {
    const target = Buffer.alloc(600)
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const part = Buffer.from(bytes).toString('base64url')
        assert.deepEqual(decodeTokenPart(part), Buffer.from(bytes))
        const length = decodeTokenPartInto(part, target)
        assert.equal(length, bytes.length)
        assert.deepEqual(target.subarray(0, length), Buffer.from(bytes))
      }),
      { numRuns: 300 },
    )
  })

  it('accepts a text exactly when it is the encoding of the bytes it decodes to', () => {
    const target = Buffer.alloc(64)
    const text = fc
      .array(fc.constantFrom(...CHARS), { maxLength: 24 })
      .map((chars) => chars.join(''))
    fc.assert(
      fc.property(text, (part) => {
        const expected = canonical(part)
        assert.equal(decodeTokenPart(part) !== null, expected, JSON.stringify(part))
        assert.equal(decodeTokenPartInto(part, target) >= 0, expected, JSON.stringify(part))
      }),
      { numRuns: 3000 },
    )
  })

  it('refuses the spellings a decoder would read as the same bytes', () => {
    const part = Buffer.from('any bytes at all').toString('base64url') // "YW55IGJ5dGVzIGF0IGFsbA"
    for (const other of [
      `${part}==`,
      `${part.slice(0, 4)}.${part.slice(4)}`,
      `${part.slice(0, 4)} ${part.slice(4)}`,
      `${part.slice(0, -1)}B`, // the last digit's spare bits set
      // a wide character whose low byte is the digit it replaces
      `${part.slice(0, 4)}${String.fromCharCode(0x100 + part.charCodeAt(4))}${part.slice(5)}`,
    ]) {
      assert.equal(decodeTokenPart(other), null, JSON.stringify(other))
    }
    assert.deepEqual(decodeTokenPart('--__'), Buffer.from([0xfb, 0xef, 0xff]))
    assert.equal(decodeTokenPart('++//'), null) // the same bytes in standard base64
    assert.deepEqual(decodeTokenPart('Pz8_'), Buffer.from([0x3f, 0x3f, 0x3f]))
    assert.equal(decodeTokenPart('Pz8/'), null) // the same bytes in standard base64
    assert.equal(decodeTokenPart('P\u017a8_'), null) // U+017A's low byte is `z`
  })

  it('reports -1 for a part that does not fit the buffer', () => {
    const part = Buffer.alloc(100, 7).toString('base64url')
    assert.equal(decodeTokenPartInto(part, Buffer.alloc(99)), -1)
    assert.equal(decodeTokenPartInto(part, Buffer.alloc(100)), 100)
  })
})
