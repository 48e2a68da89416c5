import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js'
import fc from 'fast-check'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import {
  type Backends,
  buildNaclCodec,
  installedBackends,
  jsBackend,
  type NaclBackendName,
} from '../../src/lib/secretbox.ts'
import {
  assertEveryChangeRefused,
  assertEveryTruncationRefused,
  decodeError,
  PAYLOAD,
  runCodecSuite,
  UNICODE,
} from '../support/codec-suite.ts'
import { requirePython, runPython } from '../support/python.ts'

/** libsodium itself, as a reference (sodium-native ships no types). */
const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean
}

/** Bytes 0..31 and 0..23: the key and nonce of the FORMATS.md vectors (§1.2 V5, V6). */
const VECTOR_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i)
const VECTOR_HEX = Buffer.from(VECTOR_BYTES).toString('hex')
const VECTOR_NONCE = Uint8Array.from({ length: 24 }, (_, i) => i)
const V5_PAYLOAD = '{"created": 1700000000, "session": {"user": "alice", "n": 1}}'
const V5 =
  'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXPnIDSeSvJtMNeA7iz+6fziXdWz2iq9Z13x61Hlm4eqdilXbvvBUTzzXRAucmrs6PoeHVrmfFhmfLr9q5WAfHKkAkSrPTtbJthj8WwGc='
const V6_PAYLOAD = '{"created": 1700000000, "session": {"user": "alice"}}'
const V6 =
  'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXNFp3gB+WEGGJ69OvkCqU4CXdWz2iq9Z13x61Hlm4eqdilXbvvBUTzzXRAucmrs6PoeHVrmfFhmfLr9q5WAfHKkAkSuKO'

/** Fixed test keys (64 hex digits, as `nacl.utils.random(32).hex()` prints). */
const KEY = '6d0b1f5c2a8e4f3b9c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b'
const OLD_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0'
const OTHER_KEY = 'a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0'
const LARGE = JSON.stringify({ created: 1700000000, session: { blob: 'é😀;,"'.repeat(250) } })
const SPECIAL = '{"created": 1700000000, "session": {"q": "a;b,c\\"d", "f": 1.5, "n": null}}'
const BACKENDS: readonly NaclBackendName[] = ['sodium', 'js']

const fixedNonce = (nonce: Uint8Array) => () => Uint8Array.from(nonce)
const raw = (value: string) => Buffer.from(value, 'base64')
const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** Runtime back ends with one or both pretended missing. */
function without(...missing: NaclBackendName[]): Backends {
  const real = installedBackends()
  const gone = { error: new Error('Cannot find module (pretended missing in this test)') }
  return {
    sodium: missing.includes('sodium') ? gone : real.sodium,
    js: missing.includes('js') ? gone : real.js,
  }
}

/** True where this runtime loads `.ts` files itself (Bun, Deno, Node with type stripping). */
const loadsTypeScript =
  'bun' in process.versions ||
  'deno' in process.versions ||
  typeof (process.features as { typescript?: unknown }).typescript === 'string'

/**
 * Runs an ES module script (it may import `.ts` sources by absolute path) in a child process of the
 * runtime running this test, and returns the JSON it prints. The script goes to a file: Deno's
 * emulation of Node's command line runs `--eval` code as CommonJS.
 */
function runScript(script: string, env: Record<string, string> = {}): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-nacl-script-'))
  try {
    const file = join(dir, 'script.mjs')
    writeFileSync(file, script)
    const child = spawnSync(
      process.execPath,
      [...(loadsTypeScript ? [] : ['--import', 'tsx']), file],
      {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        timeout: 30_000,
      },
    )
    assert.equal(child.status, 0, child.stderr)
    return JSON.parse(child.stdout) as Record<string, string>
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const PY_ENCRYPT = `
import json, sys
import nacl.secret, nacl.encoding
req = json.load(sys.stdin)
box = nacl.secret.SecretBox(bytes.fromhex(req["key"]))
nonce = bytes.fromhex(req["nonce"]) if req.get("nonce") else None
out = [box.encrypt(p.encode("utf-8"), nonce, encoder=nacl.encoding.Base64Encoder).decode("ascii")
       for p in req["payloads"]]
print(json.dumps(out))
`

const PY_DECRYPT = `
import json, sys, binascii
import nacl.secret, nacl.encoding, nacl.exceptions
req = json.load(sys.stdin)
box = nacl.secret.SecretBox(bytes.fromhex(req["key"]))
out = []
for t in req["tokens"]:
    try:
        out.append({"payload": box.decrypt(t.encode("ascii"), encoder=nacl.encoding.Base64Encoder).decode("utf-8")})
    except (nacl.exceptions.CryptoError, binascii.Error):
        out.append(None)  # what aiohttp's NaClCookieStorage catches: a new session
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

function pyEncrypt(key: string, payloads: string[], nonce?: Uint8Array): string[] {
  const hexNonce = nonce === undefined ? undefined : Buffer.from(nonce).toString('hex')
  return runPython<string[]>(PY_ENCRYPT, { key, payloads, nonce: hexNonce })
}

type PyResult = { payload: string } | { error: string } | null
function pyDecrypt(key: string, tokens: string[]): PyResult[] {
  return runPython<PyResult[]>(PY_DECRYPT, { key, tokens })
}

for (const backend of BACKENDS) {
  const codec = createNaclCodec({ keys: [KEY], backend })
  const vectorCodec = buildNaclCodec(
    { keys: [VECTOR_HEX], backend },
    { nonce: fixedNonce(VECTOR_NONCE) },
  )

  describe(`nacl codec (${backend} back end)`, () => {
    runCodecSuite('nacl', codec, {
      // No `create`: the suite expects `unknown-key` for a value of another key, and a secretbox
      // names no key (that case is `tampered` here; see the key tests below).
      hostile: [
        'AAAA',
        'AA==',
        '====',
        'A'.repeat(52),
        `${'A'.repeat(53)}=`,
        '😀😀😀😀',
        `${V5.slice(0, -4)}-_-_`,
        ` ${V5}`,
        `${V5}\n`,
        `"${V5}"`,
        '__proto__',
        undefined,
      ],
    })

    it(`runs on the ${backend} back end`, () => {
      assert.equal(codec.backend, backend)
    })

    it('writes V5 of FORMATS.md §1.2 byte for byte (aiohttp NaClCookieStorage)', () => {
      assert.equal(vectorCodec.encode(V5_PAYLOAD), V5)
      assert.equal(raw(V5).length, 24 + 16 + Buffer.byteLength(V5_PAYLOAD))
      assert.deepEqual(raw(V5).subarray(0, 24), Buffer.from(VECTOR_NONCE))
    })

    it('writes V6 of FORMATS.md §1.2 byte for byte', () => {
      assert.equal(vectorCodec.encode(V6_PAYLOAD), V6)
    })

    it('reads V5 and V6 with the key as hex, base64, url-safe base64 and bytes', () => {
      for (const key of [
        VECTOR_HEX,
        VECTOR_HEX.toUpperCase(),
        Buffer.from(VECTOR_BYTES).toString('base64'),
        Buffer.from(VECTOR_BYTES).toString('base64').slice(0, -1),
        Buffer.from(VECTOR_BYTES).toString('base64url'),
        VECTOR_BYTES,
      ]) {
        const reader = createNaclCodec({ keys: [key], backend })
        assert.deepEqual(reader.decode(V5), { payload: V5_PAYLOAD, rotated: false })
        assert.deepEqual(reader.decode(V6), { payload: V6_PAYLOAD, rotated: false })
      }
    })

    it('round-trips an empty payload as a 40-byte box', () => {
      const value = codec.encode('')
      assert.equal(raw(value).length, 40)
      assert.deepEqual(codec.decode(value), { payload: '', rotated: false })
    })

    it('writes standard padded base64 of nonce, tag and ciphertext, and nothing else', () => {
      for (const payload of [PAYLOAD, UNICODE, '', 'x', 'xy', LARGE]) {
        const value = codec.encode(payload)
        assert.match(value, /^[A-Za-z0-9+/]+={0,2}$/)
        assert.equal(value.length % 4, 0)
        assert.equal(b64(raw(value)), value)
        assert.equal(raw(value).length, 40 + Buffer.byteLength(payload))
      }
    })

    it('follows the construction: libsodium crypto_secretbox_open_easy opens the box after the nonce', () => {
      const bytes = raw(codec.encode(UNICODE))
      const message = Buffer.alloc(bytes.length - 40)
      const ok = sodium.crypto_secretbox_open_easy(
        message,
        bytes.subarray(24),
        bytes.subarray(0, 24),
        Buffer.from(KEY, 'hex'),
      )
      assert.ok(ok)
      assert.equal(message.toString('utf8'), UNICODE)
    })

    it('uses a fresh nonce for every encode', () => {
      const values = Array.from({ length: 1200 }, () => codec.encode(PAYLOAD)) // > 2 pool refills
      const nonces = new Set(values.map((v) => raw(v).subarray(0, 24).toString('hex')))
      assert.equal(nonces.size, values.length)
    })

    it('does not reveal the payload in the value', () => {
      const secret = 'SECRET-MARKER-do-not-leak'
      const value = codec.encode(`{"s":"${secret}"}`)
      assert.ok(!raw(value).includes(secret))
      for (const shift of ['', 'x', 'xx']) {
        assert.ok(
          !value.includes(
            Buffer.from(shift + secret)
              .toString('base64')
              .slice(4, -4),
          ),
        )
      }
    })

    it('rejects a value of another key, or of a dropped key, as tampered', () => {
      const other = createNaclCodec({ keys: [OTHER_KEY], backend })
      assert.equal(decodeError(() => codec.decode(other.encode(PAYLOAD))).reason, 'tampered')
      const old = createNaclCodec({ keys: [OLD_KEY], backend })
      assert.equal(decodeError(() => codec.decode(old.encode(PAYLOAD))).reason, 'tampered')
    })

    it('reads a value of the second key and reports it rotated; writes with the first', () => {
      const old = createNaclCodec({ keys: [OLD_KEY], backend })
      const rotating = createNaclCodec({ keys: [KEY, OLD_KEY], backend })
      assert.deepEqual(rotating.decode(old.encode(PAYLOAD)), { payload: PAYLOAD, rotated: true })
      assert.deepEqual(rotating.decode(codec.encode(PAYLOAD)), {
        payload: PAYLOAD,
        rotated: false,
      })
      assert.deepEqual(codec.decode(rotating.encode(PAYLOAD)), {
        payload: PAYLOAD,
        rotated: false,
      })
      assert.equal(decodeError(() => old.decode(rotating.encode(PAYLOAD))).reason, 'tampered')
    })

    it('rejects every single-character change as tampered or malformed', () => {
      const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      assertEveryChangeRefused(codec, codec.encode(PAYLOAD), { digits, extra: ['=', '-'] })
    })

    it('rejects a value truncated anywhere as malformed or tampered, below 40 bytes malformed', () => {
      const value = codec.encode(PAYLOAD)
      assertEveryTruncationRefused(codec, value)
      // Whole boxes cut back to 39 bytes (canonical base64, so only the size is wrong).
      for (const length of [0, 1, 24, 39]) {
        const short = b64(raw(value).subarray(0, length))
        if (short === '') continue
        const error = decodeError(() => codec.decode(short))
        assert.equal(error.reason, 'malformed')
      }
      // 40 bytes and more are boxes; cut ones fail their tag.
      const cut = b64(raw(value).subarray(0, 60))
      assert.equal(decodeError(() => codec.decode(cut)).reason, 'tampered')
    })

    it('rejects base64 other than canonical, padded, standard as malformed', () => {
      const value = codec.encode('x') // 41 bytes: ends in one '='
      assert.ok(value.endsWith('=') && !value.endsWith('=='))
      const value2 = codec.encode('') // 40 bytes: ends in '=='
      assert.ok(value2.endsWith('=='))
      const digits = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'
      const bump = (text: string, at: number) =>
        text.slice(0, at) + digits[digits.indexOf(text.charAt(at)) ^ 1] + text.slice(at + 1)
      for (const bad of [
        value.slice(0, -1), // padding dropped
        value2.slice(0, -2),
        value2.slice(0, -1),
        `${value}=`,
        bump(value, value.length - 2), // spare bits set before '='
        bump(value2, value2.length - 3), // spare bits set before '=='
        Buffer.from(value, 'base64').toString('base64url'),
        `${value.slice(0, 8)}\n${value.slice(8)}`,
        `${value.slice(0, 8)}=${value.slice(9)}`,
      ]) {
        assert.equal(decodeError(() => codec.decode(bad)).reason, 'malformed', bad)
      }
    })

    it('rejects a value over 4096 characters as malformed', () => {
      assert.equal(decodeError(() => codec.decode('A'.repeat(4100))).reason, 'malformed')
    })

    it('rejects an opened payload that is not UTF-8 as malformed', () => {
      const box = new Uint8Array(40 + 2)
      box.set(VECTOR_NONCE)
      sodium.crypto_secretbox_easy(
        box.subarray(24),
        Uint8Array.of(0xff, 0xfe),
        VECTOR_NONCE,
        Buffer.from(KEY, 'hex'),
      )
      const error = decodeError(() => codec.decode(b64(box)))
      assert.equal(error.reason, 'malformed')
      assert.match(error.message, /not UTF-8/)
    })

    it('property: every payload round-trips, with one key and through a key list', () => {
      const rotating = createNaclCodec({ keys: [OLD_KEY, KEY], backend })
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (payload) => {
          assert.deepEqual(codec.decode(codec.encode(payload)), { payload, rotated: false })
          assert.deepEqual(rotating.decode(codec.encode(payload)), { payload, rotated: true })
        }),
        { numRuns: 300 },
      )
    })

    it('property: garbage, random boxes and bit flips give only SessionDecodeError', () => {
      const reader = createNaclCodec({ keys: [KEY, OLD_KEY], backend })
      const value = codec.encode(PAYLOAD)
      fc.assert(
        fc.property(
          fc.oneof(
            fc.string({ maxLength: 400 }),
            fc.string({ unit: 'binary', maxLength: 200 }),
            fc.uint8Array({ maxLength: 300 }).map(b64),
            fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64url')),
            fc
              .tuple(fc.nat(raw(value).length - 1), fc.integer({ min: 1, max: 255 }))
              .map(([at, flip]) => {
                const bytes = raw(value)
                bytes[at] = (bytes[at] ?? 0) ^ flip
                return b64(bytes)
              }),
          ),
          (garbage) => {
            const { reason } = decodeError(() => reader.decode(garbage))
            assert.ok(reason === 'malformed' || reason === 'tampered', reason)
          },
        ),
        { numRuns: 500 },
      )
    })
  })
}

describe('nacl codec: both back ends', () => {
  it('produce identical bytes for the same key and nonce, and read each other', () => {
    const nonces = fc.uint8Array({ minLength: 24, maxLength: 24 })
    const keys = fc.uint8Array({ minLength: 32, maxLength: 32 })
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 500 }), nonces, keys, (text, n, k) => {
        const [sodiumCodec, jsCodec] = BACKENDS.map((backend) =>
          buildNaclCodec({ keys: [k], backend }, { nonce: fixedNonce(n) }),
        )
        const a = sodiumCodec?.encode(text) ?? ''
        assert.equal(jsCodec?.encode(text), a)
        assert.deepEqual(jsCodec?.decode(a), { payload: text, rotated: false })
        assert.deepEqual(sodiumCodec?.decode(a), { payload: text, rotated: false })
      }),
      { numRuns: 200 },
    )
  })

  it("'auto' picks sodium when it loads", () => {
    assert.equal(createNaclCodec({ keys: [KEY] }).backend, 'sodium')
    assert.equal(createNaclCodec({ keys: [KEY], backend: 'auto' }).backend, 'sodium')
  })

  it("'auto' falls back to js when sodium-native is missing", () => {
    const codec = buildNaclCodec({ keys: [KEY] }, { backends: without('sodium') })
    assert.equal(codec.backend, 'js')
    assert.deepEqual(codec.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })

  it('fails with a SessionConfigError naming both packages when neither is installed', () => {
    assert.throws(() => buildNaclCodec({ keys: [KEY] }, { backends: without('sodium', 'js') }), {
      name: 'SessionConfigError',
      code: 'ERR_SESSION_CONFIG',
      message:
        /needs sodium-native .* or @noble\/ciphers .*npm install sodium-native.*npm install @noble\/ciphers/s,
    })
  })

  it("fails when backend 'sodium' is asked for and sodium-native is missing", () => {
    assert.throws(
      () => buildNaclCodec({ keys: [KEY], backend: 'sodium' }, { backends: without('sodium') }),
      { code: 'ERR_SESSION_CONFIG', message: /backend is 'sodium' but the sodium-native package/ },
    )
  })

  it("fails when backend 'js' is asked for and @noble/ciphers is missing", () => {
    assert.throws(
      () => buildNaclCodec({ keys: [KEY], backend: 'js' }, { backends: without('js') }),
      { code: 'ERR_SESSION_CONFIG', message: /backend is 'js' but the @noble\/ciphers package/ },
    )
  })

  it('uses an xsalsa20poly1305 function passed in (runtimes without require)', () => {
    const backends = without('sodium', 'js')
    for (const backend of ['auto', 'js'] as const) {
      const codec = buildNaclCodec(
        { keys: [VECTOR_HEX], backend, xsalsa20poly1305 },
        { backends, nonce: fixedNonce(VECTOR_NONCE) },
      )
      assert.equal(codec.backend, 'js')
      assert.equal(codec.encode(V5_PAYLOAD), V5)
    }
    assert.equal(jsBackend(xsalsa20poly1305).name, 'js')
  })

  it('works without Buffer and require() (Workers-like) given noble as an option', () => {
    const source = fileURLToPath(new URL('../../src/lib/secretbox.ts', import.meta.url))
    const noble = import.meta.resolve('@noble/ciphers/salsa.js')
    const out = runScript(`
const { xsalsa20poly1305 } = await import(${JSON.stringify(noble)})
delete globalThis.Buffer
const { buildNaclCodec } = await import(${JSON.stringify(source)})
const gone = { error: new Error('no require()') }
const codec = buildNaclCodec(
  { keys: ['${Buffer.from(VECTOR_BYTES).toString('base64')}'], xsalsa20poly1305 },
  { nonce: () => Uint8Array.from({ length: 24 }, (_, i) => i), backends: { sodium: gone, js: gone } },
)
const value = codec.encode(${JSON.stringify(V5_PAYLOAD)})
console.log(JSON.stringify({ buffer: typeof globalThis.Buffer, backend: codec.backend, value,
  back: codec.decode(value).payload, unicode: codec.decode(codec.encode('é😀')).payload }))
`)
    assert.deepEqual(out, {
      buffer: 'undefined',
      backend: 'js',
      value: V5,
      back: V5_PAYLOAD,
      unicode: 'é😀',
    })
  })

  it('loads nothing at import and falls back for real when the packages cannot be resolved', () => {
    // A child process where require() of sodium-native and @noble/ciphers fails, as in a runtime
    // without them: importing the module must work, and creating a codec must explain. The hook is
    // imported before the codec (a --require flag would do on Node, but Deno ignores it).
    const dir = mkdtempSync(join(tmpdir(), 'sessionware-nacl-'))
    try {
      const block = join(dir, 'block.cjs')
      writeFileSync(
        block,
        `const Module = require('node:module')
const blocked = (process.env.BLOCK || '').split(',').filter(Boolean)
const resolve = Module._resolveFilename
Module._resolveFilename = function (request, ...rest) {
  if (blocked.some((name) => request === name || request.startsWith(name + '/'))) {
    const error = new Error("Cannot find module '" + request + "'")
    error.code = 'MODULE_NOT_FOUND'
    throw error
  }
  return resolve.call(this, request, ...rest)
}
`,
      )
      const source = fileURLToPath(new URL('../../src/codecs/nacl.ts', import.meta.url))
      const script = `
import ${JSON.stringify(block)}
import { createNaclCodec } from ${JSON.stringify(source)}
const out = {}
for (const backend of ['auto', 'sodium', 'js']) {
  try {
    const codec = createNaclCodec({ keys: ['${KEY}'], backend })
    out[backend] = codec.backend + ':' + codec.decode(codec.encode('ok')).payload
  } catch (error) {
    out[backend] = error.code + ':' + error.message
  }
}
console.log(JSON.stringify(out))
`
      const run = (blocked: string) => runScript(script, { BLOCK: blocked })
      const none = run('sodium-native,@noble/ciphers')
      assert.match(none.auto ?? '', /^ERR_SESSION_CONFIG:nacl codec needs sodium-native/)
      assert.match(none.sodium ?? '', /^ERR_SESSION_CONFIG:.*Cannot find module 'sodium-native'/)
      assert.match(none.js ?? '', /^ERR_SESSION_CONFIG:.*Cannot find module '@noble\/ciphers/)
      const noSodium = run('sodium-native')
      assert.equal(noSodium.auto, 'js:ok')
      assert.equal(noSodium.js, 'js:ok')
      assert.match(noSodium.sodium ?? '', /^ERR_SESSION_CONFIG:/)
      const noNoble = run('@noble/ciphers')
      assert.equal(noNoble.auto, 'sodium:ok')
      assert.match(noNoble.js ?? '', /^ERR_SESSION_CONFIG:/)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})

describe('nacl codec: options', () => {
  const create = (keys: unknown[], extra: object = {}) =>
    createNaclCodec({ keys, ...extra } as Parameters<typeof createNaclCodec>[0])

  it('refuses a missing, non-array or empty key list', () => {
    assert.throws(() => create(undefined as unknown as unknown[]), {
      code: 'ERR_SESSION_CONFIG',
      message: /nacl codec: options\.keys must be an array/,
    })
    assert.throws(() => create([]), { code: 'ERR_SESSION_CONFIG', message: /keys is empty/ })
    assert.throws(() => createNaclCodec(null as never), { code: 'ERR_SESSION_CONFIG' })
  })

  it('refuses keys that are not 32 bytes in one of the accepted forms, without echoing them', () => {
    for (const [key, pattern] of [
      [KEY.slice(0, 63), /keys\[0\] is a string of 63 characters; a nacl key must be 64 hex/],
      [`${KEY}00`, /a string of 66 characters/],
      ['x'.repeat(32), /a string of 32 characters/],
      [`${KEY.slice(0, 63)}g`, /a string of 64 characters/],
      [Buffer.from(VECTOR_BYTES).toString('base64').replace('=', '=='), /45 characters/],
      [new Uint8Array(31), /a Uint8Array of 31 bytes/],
      [new Uint8Array(64), /a Uint8Array of 64 bytes/],
      [42, /must be 64 hex digits.*got number/],
      [null, /got null/],
      // 43 base64 digits with spare bits set in the last one.
      [`${'A'.repeat(42)}B=`, /not canonical base64 of 32 bytes/],
    ] as const) {
      assert.throws(
        () => create([key]),
        (error: Error & { code?: string }) => {
          assert.equal(error.code, 'ERR_SESSION_CONFIG')
          assert.match(error.message, pattern)
          if (typeof key === 'string' && key.length > 8) assert.ok(!error.message.includes(key))
          return true
        },
      )
    }
  })

  it('refuses the same key twice, in any two forms', () => {
    assert.throws(() => create([KEY, OLD_KEY, KEY]), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys\[0\] and nacl codec: options\.keys\[2\] are the same key/,
    })
    assert.throws(() => create([VECTOR_HEX, VECTOR_BYTES]), { code: 'ERR_SESSION_CONFIG' })
    assert.throws(() => create([Buffer.from(VECTOR_BYTES).toString('base64'), VECTOR_HEX]), {
      code: 'ERR_SESSION_CONFIG',
    })
  })

  it('copies a Uint8Array key (changing it later changes nothing)', () => {
    const bytes = Uint8Array.from(VECTOR_BYTES)
    const codec = createNaclCodec({ keys: [bytes] })
    bytes.fill(0)
    assert.deepEqual(codec.decode(V5), { payload: V5_PAYLOAD, rotated: false })
  })

  it('refuses an unknown backend and a non-function xsalsa20poly1305', () => {
    assert.throws(() => create([KEY], { backend: 'wasm' }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.backend must be 'auto', 'sodium' or 'js'/,
    })
    assert.throws(() => create([KEY], { xsalsa20poly1305: 'noble' }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.xsalsa20poly1305 must be the xsalsa20poly1305 function/,
    })
  })
})

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
