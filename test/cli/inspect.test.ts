import assert from 'node:assert/strict'
import { before, describe, it } from 'node:test'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import { ensureCliBuilt, runCli } from '../support/cli.ts'
import { KEY, KEY_ID, OLD_KEY, OTHER_KEY } from '../support/codec-suite.ts'

const PAYLOAD = '{"user":"ann","roles":["admin"]}'
const PRETTY = '{\n  "user": "ann",\n  "roles": [\n    "admin"\n  ]\n}'

before(() => ensureCliBuilt())

function sealed(payload: string, keys: string[] = [KEY]): string {
  return createSealedCodec({ keys }).encode(payload)
}

describe('sessionware inspect', () => {
  it('prints the JSON payload of a sealed cookie pretty-printed', () => {
    const { status, stdout, stderr } = runCli(['inspect', '--key', KEY, '--', sealed(PAYLOAD)])
    assert.equal(status, 0)
    assert.equal(stderr, '')
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
    assert.match(stdout, /^codec: +sealed$/m)
  })

  it('names the key that opened the cookie by position and key id', () => {
    const { stdout } = runCli(['inspect', '--key', KEY, '--key', OLD_KEY, '--', sealed(PAYLOAD)])
    assert.match(stdout, new RegExp(`^key: +#1 of 2 \\(key id ${KEY_ID}\\)$`, 'm'))
    assert.match(stdout, /^rotated: +no$/m)
  })

  it('reports a cookie opened by an old key as rotated', () => {
    const token = sealed(PAYLOAD, [OLD_KEY])
    const { status, stdout } = runCli(['inspect', '-k', KEY, '-k', OLD_KEY, '--', token])
    assert.equal(status, 0)
    assert.match(stdout, /^key: +#2 of 2 /m)
    assert.match(stdout, /^rotated: +yes/m)
  })

  it('decodes a signed cookie with --codec signed', () => {
    const token = createSignedCodec({ keys: [KEY] }).encode(PAYLOAD)
    const { status, stdout } = runCli(['inspect', '--codec', 'signed', '--key', KEY, token])
    assert.equal(status, 0)
    assert.match(stdout, /^codec: +signed$/m)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('decodes a plain cookie with --codec plain and no key', () => {
    const token = createPlainCodec().encode(PAYLOAD)
    const { status, stdout } = runCli(['inspect', '--codec', 'plain', token])
    assert.equal(status, 0)
    assert.match(stdout, /^key: +none/m)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('prints a payload that is not JSON as it is', () => {
    const { stdout } = runCli(['inspect', '--key', KEY, '--', sealed('just text')])
    assert.ok(stdout.endsWith('payload:\njust text\n'), stdout)
  })

  it('escapes terminal control characters in the payload', () => {
    const { stdout } = runCli(['inspect', '--key', KEY, '--', sealed('a\u001b[2Jb\u009bc')])
    assert.ok(stdout.endsWith('payload:\na\\u001b[2Jb\\u009bc\n'), stdout)
  })

  it('accepts the cookie as name=value', () => {
    const { status, stdout } = runCli([
      'inspect',
      '--key',
      KEY,
      `__Host-session=${sealed(PAYLOAD)}`,
    ])
    assert.equal(status, 0)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('fails with exit code 1 and "invalid cookie: tampered" on a tampered cookie', () => {
    const token = sealed(PAYLOAD)
    // Position 10 is inside the sealed bytes (after the 6-character key id and the dot).
    const tampered = `${token.slice(0, 10)}${token[10] === 'x' ? 'y' : 'x'}${token.slice(11)}`
    const { status, stdout, stderr } = runCli(['inspect', '--key', KEY, '--', tampered])
    assert.equal(status, 1)
    assert.equal(stdout, '')
    assert.match(stderr, /^invalid cookie: tampered\n/)
  })

  it('fails with exit code 1 and "invalid cookie: unknown-key" when no key wrote it', () => {
    const { status, stderr } = runCli(['inspect', '--key', OTHER_KEY, '--', sealed(PAYLOAD)])
    assert.equal(status, 1)
    assert.match(stderr, /^invalid cookie: unknown-key\n/)
  })

  it('fails with exit code 1 and "invalid cookie: malformed" on garbage', () => {
    const { status, stderr } = runCli(['inspect', '--key', KEY, 'not a cookie!'])
    assert.equal(status, 1)
    assert.match(stderr, /^invalid cookie: malformed\n/)
  })

  it('refuses a short key with exit code 2 and says why', () => {
    const { status, stderr } = runCli(['inspect', '--key', 'short', 'abc'])
    assert.equal(status, 2)
    assert.match(stderr, /options\.keys\[0\] is a string of 5 characters/)
  })

  it('refuses to run without a key or without a cookie value', () => {
    assert.equal(runCli(['inspect', sealed(PAYLOAD)]).status, 2)
    assert.equal(runCli(['inspect', '--key', KEY]).status, 2)
    assert.equal(runCli(['inspect', '--key', KEY, 'a', 'b']).status, 2)
  })

  it('refuses a key with the plain codec', () => {
    const { status, stderr } = runCli(['inspect', '--codec', 'plain', '--key', KEY, 'eyJuIjoxfQ'])
    assert.equal(status, 2)
    assert.match(stderr, /the plain codec takes no --key/)
  })

  it('prints its usage with --help', () => {
    const { status, stdout } = runCli(['inspect', '--help'])
    assert.equal(status, 0)
    assert.match(stdout, /^Usage:\n {2}sessionware inspect --key <key>/)
  })
})
