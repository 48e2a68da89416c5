import assert from 'node:assert/strict'
import { existsSync, readFileSync } from 'node:fs'
import { before, describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import { type CliOptions, ensureCliBuilt, runCli, startCli } from '../support/cli.ts'
import { KEY, KEY_ID, OLD_KEY, OTHER_KEY } from '../support/codec-suite.ts'

const PAYLOAD = '{"user":"ann","roles":["admin"]}'
const PRETTY = '{\n  "user": "ann",\n  "roles": [\n    "admin"\n  ]\n}'

before(() => ensureCliBuilt())

function sealed(payload: string, keys: string[] = [KEY]): string {
  return createSealedCodec({ keys }).encode(payload)
}

/** Runs the CLI with SESSION_KEYS set to `keys`, comma-separated. */
function withEnvKeys(keys: readonly string[]): CliOptions {
  return { env: { SESSION_KEYS: keys.join(',') } }
}

describe('sessionware inspect', () => {
  it('prints the JSON payload of a sealed cookie pretty-printed, keys from SESSION_KEYS', () => {
    const { status, stdout, stderr } = runCli(
      ['inspect', '--', sealed(PAYLOAD)],
      withEnvKeys([KEY]),
    )
    assert.equal(status, 0)
    assert.equal(stderr, '')
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
    assert.match(stdout, /^codec: +sealed$/m)
  })

  it('names the key that opened the cookie by position and key id', () => {
    const { stdout } = runCli(['inspect', '--', sealed(PAYLOAD)], withEnvKeys([KEY, OLD_KEY]))
    assert.match(stdout, new RegExp(`^key: +#1 of 2 \\(key id ${KEY_ID}\\)$`, 'm'))
    assert.match(stdout, /^rotated: +no$/m)
  })

  it('reports a cookie opened by an old key as rotated', () => {
    const token = sealed(PAYLOAD, [OLD_KEY])
    const { status, stdout } = runCli(['inspect', '--', token], withEnvKeys([KEY, OLD_KEY]))
    assert.equal(status, 0)
    assert.match(stdout, /^key: +#2 of 2 /m)
    assert.match(stdout, /^rotated: +yes/m)
  })

  it('reads SESSION_KEYS as the demo does: comma-separated, blanks around keys ignored', () => {
    const token = sealed(PAYLOAD, [OLD_KEY])
    const env = { SESSION_KEYS: `  ${KEY} ,\t${OLD_KEY}  ` }
    const { status, stdout } = runCli(['inspect', '--', token], { env })
    assert.equal(status, 0)
    assert.match(stdout, /^key: +#2 of 2 /m)
  })

  it('reads the keys from stdin with --keys-from-stdin, one per line, newest first', () => {
    const token = sealed(PAYLOAD, [OLD_KEY])
    const input = `\r\n${KEY}\r\n\n  ${OLD_KEY}  \n\n`
    const { status, stdout, stderr } = runCli(['inspect', '--keys-from-stdin', '--', token], {
      input,
    })
    assert.equal(status, 0, stderr)
    assert.match(stdout, /^key: +#2 of 2 /m)
    assert.match(stdout, /^rotated: +yes/m)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('uses only stdin with --keys-from-stdin, whatever SESSION_KEYS holds', () => {
    const options = { ...withEnvKeys([OTHER_KEY]), input: `${KEY}\n` }
    const { status, stdout } = runCli(['inspect', '--keys-from-stdin', sealed(PAYLOAD)], options)
    assert.equal(status, 0)
    assert.match(stdout, /^key: +#1 of 1 /m)
  })

  it('keeps the keys out of the running process command line (what ps shows)', {
    skip: !existsSync('/proc/self/cmdline') && 'needs /proc',
  }, async () => {
    const token = sealed(PAYLOAD)
    const { child, done } = startCli(['inspect', '--keys-from-stdin', '--', token])
    try {
      // The process waits for its keys on stdin: read its command line meanwhile.
      let cmdline = ''
      for (let attempt = 0; attempt < 100 && !cmdline.includes(token); attempt++) {
        await sleep(20)
        cmdline = readFileSync(`/proc/${child.pid}/cmdline`, 'utf8')
      }
      assert.ok(cmdline.includes(token), 'the process shows its arguments')
      assert.ok(!cmdline.includes(KEY))
    } finally {
      child.stdin?.end(`${KEY}\n`)
    }
    const { status, stdout } = await done
    assert.equal(status, 0)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  for (const args of [
    ['--key', KEY],
    ['-k', KEY],
    [`--key=${KEY}`],
    [`-k${KEY}`],
    ['--codec', 'signed', '--key', KEY],
    ['--key'],
  ]) {
    it(`refuses a key on the command line (${args[0]?.slice(0, 6)}…) with exit code 2 and says how to pass it`, () => {
      const { status, stdout, stderr } = runCli(
        ['inspect', ...args, sealed(PAYLOAD)],
        withEnvKeys([KEY]),
      )
      assert.equal(status, 2)
      assert.equal(stdout, '')
      assert.match(stderr, /^sessionware inspect: keys are not accepted on the command line/)
      assert.match(stderr, /Set SESSION_KEYS \(comma-separated, newest first\)/)
      assert.match(stderr, /--keys-from-stdin/)
      assert.ok(!stderr.includes(KEY), 'the key is not repeated')
    })
  }

  it('takes --key after -- as the cookie value, not as an option', () => {
    const { status, stderr } = runCli(['inspect', '--', '--key'], withEnvKeys([KEY]))
    assert.equal(status, 1)
    assert.match(stderr, /^invalid cookie: malformed\n/)
  })

  it('refuses to run without keys and says where they come from', () => {
    const { status, stderr } = runCli(['inspect', sealed(PAYLOAD)])
    assert.equal(status, 2)
    assert.match(stderr, /the sealed codec needs at least one key: set SESSION_KEYS/)
    assert.match(stderr, /--keys-from-stdin/)
    const blank = runCli(['inspect', '--keys-from-stdin', sealed(PAYLOAD)], { input: '\n \n' })
    assert.equal(blank.status, 2)
    assert.match(blank.stderr, /needs at least one key/)
  })

  it('decodes a signed cookie with --codec signed', () => {
    const token = createSignedCodec({ keys: [KEY] }).encode(PAYLOAD)
    const { status, stdout } = runCli(['inspect', '--codec', 'signed', token], withEnvKeys([KEY]))
    assert.equal(status, 0)
    assert.match(stdout, /^codec: +signed$/m)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('decodes a plain cookie with --codec plain, using no key even when SESSION_KEYS is set', () => {
    const token = createPlainCodec().encode(PAYLOAD)
    for (const options of [{}, withEnvKeys([KEY])]) {
      const { status, stdout } = runCli(['inspect', '--codec', 'plain', token], options)
      assert.equal(status, 0)
      assert.match(stdout, /^key: +none/m)
      assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
    }
  })

  it('refuses --keys-from-stdin with the plain codec', () => {
    const token = createPlainCodec().encode(PAYLOAD)
    const { status, stderr } = runCli(['inspect', '--codec', 'plain', '--keys-from-stdin', token], {
      input: `${KEY}\n`,
    })
    assert.equal(status, 2)
    assert.match(stderr, /the plain codec takes no keys/)
  })

  it('prints a payload that is not JSON as it is', () => {
    const { stdout } = runCli(['inspect', '--', sealed('just text')], withEnvKeys([KEY]))
    assert.ok(stdout.endsWith('payload:\njust text\n'), stdout)
  })

  it('escapes terminal control characters in the payload', () => {
    const { stdout } = runCli(['inspect', '--', sealed('a\u001b[2Jb\u009bc')], withEnvKeys([KEY]))
    assert.ok(stdout.endsWith('payload:\na\\u001b[2Jb\\u009bc\n'), stdout)
  })

  it('accepts the cookie as name=value', () => {
    const { status, stdout } = runCli(
      ['inspect', `__Host-session=${sealed(PAYLOAD)}`],
      withEnvKeys([KEY]),
    )
    assert.equal(status, 0)
    assert.ok(stdout.endsWith(`payload:\n${PRETTY}\n`), stdout)
  })

  it('fails with exit code 1 and "invalid cookie: tampered" on a tampered cookie', () => {
    const token = sealed(PAYLOAD)
    // Position 10 is inside the sealed bytes (after the 6-character key id and the dot).
    const tampered = `${token.slice(0, 10)}${token[10] === 'x' ? 'y' : 'x'}${token.slice(11)}`
    const { status, stdout, stderr } = runCli(['inspect', '--', tampered], withEnvKeys([KEY]))
    assert.equal(status, 1)
    assert.equal(stdout, '')
    assert.match(stderr, /^invalid cookie: tampered\n/)
  })

  it('fails with exit code 1 and "invalid cookie: unknown-key" when no key wrote it', () => {
    const { status, stderr } = runCli(['inspect', '--', sealed(PAYLOAD)], withEnvKeys([OTHER_KEY]))
    assert.equal(status, 1)
    assert.match(stderr, /^invalid cookie: unknown-key\n/)
  })

  it('fails with exit code 1 and "invalid cookie: malformed" on garbage', () => {
    const { status, stderr } = runCli(['inspect', 'not a cookie!'], withEnvKeys([KEY]))
    assert.equal(status, 1)
    assert.match(stderr, /^invalid cookie: malformed\n/)
  })

  it('refuses a short key with exit code 2, says why and where it came from, without the key', () => {
    const short = 'abcde12345'
    const fromEnv = runCli(['inspect', 'abc'], withEnvKeys([short]))
    assert.equal(fromEnv.status, 2)
    assert.match(
      fromEnv.stderr,
      /the keys from SESSION_KEYS: .*options\.keys\[0\] is a string of 10 characters/,
    )
    assert.ok(!fromEnv.stderr.includes(short))
    const fromStdin = runCli(['inspect', '--keys-from-stdin', 'abc'], {
      input: `${KEY}\n${short}\n`,
    })
    assert.equal(fromStdin.status, 2)
    assert.match(fromStdin.stderr, /the keys from stdin: .*options\.keys\[1\] is a string of 10/)
    assert.ok(!fromStdin.stderr.includes(short))
  })

  it('refuses to run without a cookie value or with two', () => {
    assert.equal(runCli(['inspect'], withEnvKeys([KEY])).status, 2)
    assert.equal(runCli(['inspect', 'a', 'b'], withEnvKeys([KEY])).status, 2)
  })

  it('prints its usage with --help, which shows no key option', () => {
    const { status, stdout } = runCli(['inspect', '--help'])
    assert.equal(status, 0)
    assert.match(
      stdout,
      /^Usage:\n {2}sessionware inspect \[--codec <name>\] \[--keys-from-stdin\] <value>\n/,
    )
    assert.match(stdout, /SESSION_KEYS, comma-separated and newest first/)
    assert.doesNotMatch(stdout, /--key[ =]|-k,/)
  })

  it('opens the Python formats too: fernet (quoted as aiohttp writes it) and nacl, naming the key', () => {
    const fernetKey = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='
    const oldFernet = 'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY='
    const token = createFernetCodec({ keys: [oldFernet] }).encode(PAYLOAD)
    const fernet = runCli(
      ['inspect', '--codec', 'fernet', '--', `AIOHTTP_SESSION="${token}"`],
      withEnvKeys([fernetKey, oldFernet]),
    )
    assert.equal(fernet.status, 0, fernet.stderr)
    assert.match(fernet.stdout, /^codec: +fernet$/m)
    assert.match(fernet.stdout, /^key: +#2 of 2$/m, 'no key id: the format names none')
    assert.match(fernet.stdout, /^rotated: +yes/m)
    assert.ok(fernet.stdout.endsWith(`payload:\n${PRETTY}\n`), fernet.stdout)
    const naclKey = '00'.repeat(32)
    const box = createNaclCodec({ keys: [naclKey] }).encode(PAYLOAD)
    const nacl = runCli(['inspect', '--codec', 'nacl', '--', box], withEnvKeys([naclKey]))
    assert.equal(nacl.status, 0, nacl.stderr)
    assert.match(nacl.stdout, /^key: +#1 of 1$/m)
    const wrong = runCli(['inspect', '--codec', 'nacl', '--', box], withEnvKeys(['11'.repeat(32)]))
    assert.equal(wrong.status, 1)
    assert.match(wrong.stderr, /^invalid cookie: tampered$/m)
  })
})
