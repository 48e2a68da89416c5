import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import { ensureCliBuilt, runCli } from '../support/cli.ts'

before(() => ensureCliBuilt())

describe('sessionware keygen', () => {
  it('prints a 43-character base64url key and a newline', () => {
    const { status, stdout, stderr } = runCli(['keygen'])
    assert.equal(status, 0)
    assert.match(stdout, /^[A-Za-z0-9_-]{43}\n$/)
    assert.equal(stderr, '')
  })

  it('prints a different key on every run', () => {
    const keys = new Set([runCli(['keygen']).stdout, runCli(['keygen']).stdout])
    assert.equal(keys.size, 2)
  })

  it('prints a key that the sealed codec accepts', () => {
    const key = runCli(['keygen', '--codec', 'sealed']).stdout.trim()
    const codec = createSealedCodec({ keys: [key] })
    assert.deepEqual(codec.decode(codec.encode('{"a":1}')), { payload: '{"a":1}', rotated: false })
  })

  it('prints a key that the signed codec accepts with --codec signed', () => {
    const { status, stdout } = runCli(['keygen', '--codec=signed'])
    assert.equal(status, 0)
    const codec = createSignedCodec({ keys: [stdout.trim()] })
    assert.equal(codec.decode(codec.encode('x')).payload, 'x')
  })

  it('refuses --codec plain with exit code 2', () => {
    const { status, stdout, stderr } = runCli(['keygen', '--codec', 'plain'])
    assert.equal(status, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /the plain codec takes no key/)
  })

  it('refuses an unknown codec with exit code 2', () => {
    const { status, stderr } = runCli(['keygen', '--codec', 'fernet'])
    assert.equal(status, 2)
    assert.match(stderr, /unknown codec 'fernet'/)
  })

  it('refuses an unknown option with exit code 2', () => {
    const { status, stderr } = runCli(['keygen', '--bytes', '64'])
    assert.equal(status, 2)
    assert.match(stderr, /Usage: sessionware keygen/)
  })

  it('prints its usage with --help', () => {
    const { status, stdout } = runCli(['keygen', '--help'])
    assert.equal(status, 0)
    assert.match(stdout, /^Usage: sessionware keygen \[--codec sealed\|signed\]/)
  })
})
