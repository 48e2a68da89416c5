import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { decodeError, PAYLOAD, runCodecSuite } from '../support/codec-suite.ts'
import { withNodeEnv } from '../support/node-env.ts'

const codec = createPlainCodec()

describe('plain codec', () => {
  runCodecSuite('plain', codec, { hostile: ['😀'] })

  it('writes unpadded base64url of the UTF-8 payload', () => {
    assert.equal(codec.encode('{"n":1}'), 'eyJuIjoxfQ')
    assert.equal(codec.encode('é?'), Buffer.from('é?').toString('base64url'))
  })

  it('accepts any well-formed value, because nothing protects it', () => {
    const forged = Buffer.from('{"user":"admin"}').toString('base64url')
    assert.deepEqual(codec.decode(forged), { payload: '{"user":"admin"}', rotated: false })
  })

  it('rejects invalid base64url as malformed', () => {
    const token = codec.encode(PAYLOAD)
    for (const bad of [
      `${token}=`,
      `+${token.slice(1)}`,
      `/${token.slice(1)}`,
      `${token}.`,
      'eSB',
    ]) {
      assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
    }
  })

  it('rejects a value one digit too short for a whole byte as malformed', () => {
    assert.equal(decodeError(() => codec.decode('eyJuI')).reason, 'malformed')
  })

  it('rejects bytes that are not UTF-8 as malformed', () => {
    const latin1 = Buffer.from([0x7b, 0xe9, 0xff, 0x7d]).toString('base64url')
    assert.equal(decodeError(() => codec.decode(latin1)).reason, 'malformed')
  })

  it('rejects a 10 KB value as malformed', () => {
    const long = codec.encode('x'.repeat(7700))
    assert.ok(long.length > 10 * 1024)
    assert.equal(decodeError(() => codec.decode(long)).reason, 'malformed')
  })

  it('never reports rotated', () => {
    assert.equal(codec.decode(codec.encode(PAYLOAD)).rotated, false)
  })

  it('refuses to be created when NODE_ENV is production', () => {
    withNodeEnv('production', () => {
      assert.throws(() => createPlainCodec(), {
        code: 'ERR_SESSION_CONFIG',
        message: /for tests only; it refuses NODE_ENV=production/,
      })
    })
  })

  it('can be created when NODE_ENV is test or unset', () => {
    withNodeEnv('test', () => assert.equal(createPlainCodec().name, 'plain'))
    withNodeEnv(undefined, () => assert.equal(createPlainCodec().name, 'plain'))
  })
})
