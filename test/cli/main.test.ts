import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'
import { ensureCliBuilt, runCli } from '../support/cli.ts'

before(() => ensureCliBuilt())

describe('sessionware', () => {
  it('prints its usage on stdout with --help', () => {
    const { status, stdout, stderr } = runCli(['--help'])
    assert.equal(status, 0)
    assert.match(stdout, /^Usage: sessionware <command>/)
    assert.match(stdout, /keygen/)
    assert.match(stdout, /inspect/)
    assert.equal(stderr, '')
  })

  it('prints its usage on stderr and exits 2 for an unknown command', () => {
    const { status, stdout, stderr } = runCli(['frobnicate'])
    assert.equal(status, 2)
    assert.equal(stdout, '')
    assert.match(stderr, /^sessionware: unknown command 'frobnicate'\n\nUsage: sessionware/)
  })

  it('prints its usage on stderr and exits 2 without a command', () => {
    const { status, stderr } = runCli([])
    assert.equal(status, 2)
    assert.match(stderr, /missing command/)
  })

  it('does not treat inherited object keys as commands', () => {
    assert.equal(runCli(['constructor']).status, 2)
    assert.equal(runCli(['__proto__']).status, 2)
  })

  it('starts with a node shebang', () => {
    const main = readFileSync(new URL('../../dist/cli/main.js', import.meta.url), 'utf8')
    assert.ok(main.startsWith('#!/usr/bin/env node\n'))
  })
})
