import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { xsalsa20poly1305 } from '@noble/ciphers/salsa.js'
import fc from 'fast-check'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import { buildNaclCodec, jsBackend } from '../../src/lib/secretbox.ts'
import { PAYLOAD } from '../support/codec-suite.ts'
import {
  BACKENDS,
  fixedNonce,
  KEY,
  OLD_KEY,
  runScript,
  V5,
  V5_PAYLOAD,
  VECTOR_BYTES,
  VECTOR_HEX,
  VECTOR_NONCE,
  without,
} from '../support/nacl-fixtures.ts'

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
