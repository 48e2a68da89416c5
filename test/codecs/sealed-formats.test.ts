import assert from 'node:assert/strict'
import { createDecipheriv, hkdfSync, randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js'
import fc from 'fast-check'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { SessionConfigError } from '../../src/errors.ts'
import { hchacha20 } from '../../src/lib/hchacha20.ts'
import {
  installedXChaCha,
  isBackend,
  type XChaChaBackend,
  XTAG_BYTES,
} from '../../src/lib/xchacha.ts'
import {
  decodeError,
  KEY,
  KEY_ID,
  OLD_KEY,
  PAYLOAD,
  runCodecSuite,
} from '../support/codec-suite.ts'

const hex = (text: string): Buffer => Buffer.from(text.replace(/[^0-9a-f]/g, ''), 'hex')

/** Every XChaCha20-Poly1305 back end this runtime has (node:crypto's always, on Node). */
const backends: XChaChaBackend[] = Object.values(installedXChaCha()).filter(isBackend)
const available = backends.map((backend) => backend.name)
const onOtherRuntime = 'Bun' in globalThis || 'Deno' in globalThis

describe('sealed codec formats', () => {
  it('has all three back ends in the test environment (Node)', (t) => {
    if (onOtherRuntime) return t.skip('Bun and Deno run what they can load')
    assert.deepEqual(backends.map((b) => b.name).sort(), ['js', 'node', 'sodium'])
  })

  it('computes HChaCha20 as draft-irtf-cfrg-xchacha §2.2.1 gives it', () => {
    const key = Buffer.from(Array.from({ length: 32 }, (_, i) => i))
    const nonce = hex('000000090000004a0000000031415927')
    const expected = hex('82413b42 27b27bfe d30e4250 8a877d73 a0f9e4d5 8a74a853 c12ec413 26d3ecdc')
    assert.deepEqual(hchacha20(key, nonce, Buffer.alloc(32)), expected)
  })

  it('gives the same bytes on every back end and opens every other one’s (random inputs)', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 24, maxLength: 24 }),
        fc.uint8Array({ maxLength: 16 }),
        fc.uint8Array({ maxLength: 600 }),
        (key, nonce, aad, message) => {
          const keyBytes = Buffer.from(key)
          const outputs = backends.map((backend) => {
            const out = Buffer.alloc(message.length + XTAG_BYTES)
            backend.seal(out, message, aad, nonce, keyBytes)
            return out
          })
          const reference = Buffer.from(xchacha20poly1305(key, nonce, aad).encrypt(message))
          for (const output of outputs) assert.deepEqual(output, reference)
          for (const backend of backends) {
            assert.deepEqual(backend.open(reference, aad, nonce, keyBytes), Buffer.from(message))
            const damaged = Buffer.from(reference)
            damaged[damaged.length - 1] = (damaged.at(-1) as number) ^ 1
            assert.equal(backend.open(damaged, aad, nonce, keyBytes), null)
          }
        },
      ),
      { numRuns: 200 },
    )
  })

  for (const backend of ['sodium', 'node', 'js'] as const) {
    it(`round-trips through the '${backend}' back end and reads the others`, (t) => {
      if (!available.includes(backend)) return t.skip(`no '${backend}' back end on this runtime`)
      const codec = createSealedCodec({ keys: [KEY], backend })
      assert.equal(codec.backend, backend)
      for (const other of available) {
        const token = createSealedCodec({ keys: [KEY], backend: other }).encode(PAYLOAD)
        assert.deepEqual(codec.decode(token), { payload: PAYLOAD, rotated: false })
      }
    })
  }

  it('takes the noble function as an option', () => {
    const codec = createSealedCodec({ keys: [KEY], backend: 'js', xchacha20poly1305 })
    assert.deepEqual(codec.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })

  it('prefers libsodium when it is installed', (t) => {
    if (!available.includes('sodium')) return t.skip('sodium-native does not load here')
    assert.equal(createSealedCodec({ keys: [KEY] }).backend, 'sodium')
  })

  it('refuses an unknown cipher or back end', () => {
    for (const options of [{ cipher: 'aes-128-gcm' }, { backend: 'openssl' }, { backend: 42 }]) {
      assert.throws(
        () => createSealedCodec({ keys: [KEY], ...(options as object) }),
        SessionConfigError,
      )
    }
  })

  describe("cipher: 'aes-256-gcm' (the 0.x format)", () => {
    const aes = createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' })
    runCodecSuite('sealed', aes, {
      create: (options) => createSealedCodec({ ...options, cipher: 'aes-256-gcm' }),
      hostile: [`${KEY_ID}.`, `${KEY_ID}.${'A'.repeat(36)}`, `${KEY_ID}~${'A'.repeat(52)}`],
    })

    it('writes the key id, a dot and base64url of iv, ciphertext and tag', () => {
      const token = aes.encode(PAYLOAD)
      assert.match(token, /^[A-Za-z0-9_-]{6}\.[A-Za-z0-9_-]+$/)
      assert.equal(aes.cipher, 'aes-256-gcm')
      assert.equal(Buffer.from(token.slice(7), 'base64url').length, 12 + PAYLOAD.length + 16)
    })

    it('follows the documented construction: HKDF-SHA256 key, AES-256-GCM, key id as AAD', () => {
      const bytes = Buffer.from(aes.encode(PAYLOAD).slice(7), 'base64url')
      const key = Buffer.from(hkdfSync('sha256', KEY, '', 'sessionware sealed v1', 32))
      const decipher = createDecipheriv('aes-256-gcm', key, bytes.subarray(0, 12))
      decipher.setAAD(Buffer.from(KEY_ID))
      decipher.setAuthTag(bytes.subarray(-16))
      const plain = Buffer.concat([decipher.update(bytes.subarray(12, -16)), decipher.final()])
      assert.equal(plain.toString('utf8'), PAYLOAD)
    })
  })

  describe('migration between the formats', () => {
    const current = createSealedCodec({ keys: [KEY] })
    const legacy = createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' })

    it('reads an AES-256-GCM cookie with the same keys and reports it for re-issue', () => {
      assert.deepEqual(current.decode(legacy.encode(PAYLOAD)), { payload: PAYLOAD, rotated: true })
    })

    it('reads an XChaCha20-Poly1305 cookie in AES mode too (rollback), reported for re-issue', () => {
      assert.deepEqual(legacy.decode(current.encode(PAYLOAD)), { payload: PAYLOAD, rotated: true })
    })

    it('combines with key rotation: an old key in the old format opens and is re-issued', () => {
      const old = createSealedCodec({ keys: [OLD_KEY], cipher: 'aes-256-gcm' }).encode(PAYLOAD)
      const rotating = createSealedCodec({ keys: [KEY, OLD_KEY] })
      assert.deepEqual(rotating.decode(old), { payload: PAYLOAD, rotated: true })
    })

    it('never lets a token cross formats: the same bytes behind the other separator fail', () => {
      for (const token of [current.encode(PAYLOAD), legacy.encode(PAYLOAD)]) {
        const swapped = `${token.slice(0, 6)}${token[6] === '~' ? '.' : '~'}${token.slice(7)}`
        assert.ok(
          ['tampered', 'malformed'].includes(decodeError(() => current.decode(swapped)).reason),
        )
      }
    })

    it('refuses a random token in either format', () => {
      for (const sep of ['.', '~']) {
        const token = `${KEY_ID}${sep}${randomBytes(60).toString('base64url')}`
        assert.equal(decodeError(() => current.decode(token)).reason, 'tampered')
      }
    })
  })
})
