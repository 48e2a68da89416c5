/**
 * Internal: XChaCha20-Poly1305 (IETF, draft-irtf-cfrg-xchacha) on three back ends, the cipher of
 * the sealed codec's tokens:
 *
 * - `sodium`: libsodium's `crypto_aead_xchacha20poly1305_ietf_*` through the optional
 *   `sodium-native` addon (prebuilt binaries); the fastest (about 1.7 µs to seal or open a
 *   200-byte payload here, against 9–10 µs for one node:crypto AEAD call).
 * - `node`: node:crypto's `chacha20-poly1305` (OpenSSL) under the HChaCha20 sub-key; no package
 *   needed, on Node and Deno (Bun's node:crypto has no ChaCha20-Poly1305).
 * - `js`: `xchacha20poly1305` of the optional pure-JS `@noble/ciphers`; anywhere, the slowest.
 *
 * All three give the same bytes (`ciphertext ‖ 16-byte tag`); the tests check it on random inputs.
 * Optional packages load with a synchronous `require()` inside `try` on first use, so importing
 * this module never fails. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { createCipheriv, createDecipheriv } from 'node:crypto'
import { hchacha20 } from './hchacha20.ts'
import { loadOptional, localRequire } from './optional-require.ts'

/** Bytes of an XChaCha20 nonce. */
export const XNONCE_BYTES = 24
/** Bytes of the Poly1305 tag. */
export const XTAG_BYTES = 16

/** The name of a back end, as the sealed codec's `backend` option spells it. */
export type XChaChaBackendName = 'sodium' | 'node' | 'js'

/**
 * `xchacha20poly1305` of `@noble/ciphers/chacha.js` (v2), reduced to what the codec calls.
 * Declared here so that no type of the optional package leaks into the package's declarations.
 */
export type XChaCha20Poly1305 = (
  key: Uint8Array,
  nonce: Uint8Array,
  associatedData?: Uint8Array,
) => {
  encrypt(plaintext: Uint8Array): Uint8Array
  decrypt(ciphertext: Uint8Array): Uint8Array
}

/** One implementation of XChaCha20-Poly1305. */
export interface XChaChaBackend {
  readonly name: XChaChaBackendName
  /** Writes `ciphertext ‖ tag` of `message` into `out` (`message.length + 16` bytes). */
  seal(out: Uint8Array, message: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Buffer): void
  /** The plaintext of `sealed` (`ciphertext ‖ tag`, at least 16 bytes), or null when the tag fails. */
  open(sealed: Uint8Array, aad: Uint8Array, nonce: Uint8Array, key: Buffer): Buffer | null
}

/** The `sodium-native` functions the back end calls. */
interface Sodium {
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    c: Uint8Array,
    m: Uint8Array,
    ad: Uint8Array,
    nsec: null,
    npub: Uint8Array,
    k: Uint8Array,
  ): number
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    m: Uint8Array,
    nsec: null,
    c: Uint8Array,
    ad: Uint8Array,
    npub: Uint8Array,
    k: Uint8Array,
  ): number
}

/** libsodium: the combined mode writes exactly `ciphertext ‖ tag`. */
export function sodiumXChaCha(sodium: Sodium): XChaChaBackend {
  return {
    name: 'sodium',
    seal(out, message, aad, nonce, key) {
      sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(out, message, aad, null, nonce, key)
    },
    open(sealed, aad, nonce, key) {
      const message = Buffer.allocUnsafe(sealed.length - XTAG_BYTES)
      try {
        sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(message, null, sealed, aad, nonce, key)
      } catch {
        return null // sodium-native throws 'could not verify data' on a tag mismatch
      }
      return message
    },
  }
}

/** The ChaCha20-Poly1305 nonce of XChaCha20: four zero bytes, then the nonce's last eight. */
function innerNonce(nonce: Uint8Array): Buffer {
  const inner = Buffer.alloc(12)
  inner.set(nonce.subarray(16, XNONCE_BYTES), 4)
  return inner
}

/** node:crypto (OpenSSL) ChaCha20-Poly1305 under the HChaCha20 sub-key. */
export const nodeXChaCha: XChaChaBackend = {
  name: 'node',
  seal(out, message, aad, nonce, key) {
    const subkey = hchacha20(key, nonce.subarray(0, 16), Buffer.allocUnsafe(32))
    const cipher = createCipheriv('chacha20-poly1305', subkey, innerNonce(nonce), {
      authTagLength: XTAG_BYTES,
    })
    cipher.setAAD(aad, { plaintextLength: message.length })
    const body = cipher.update(message)
    cipher.final()
    out.set(body, 0)
    out.set(cipher.getAuthTag(), body.length)
  },
  open(sealed, aad, nonce, key) {
    const subkey = hchacha20(key, nonce.subarray(0, 16), Buffer.allocUnsafe(32))
    const tagStart = sealed.length - XTAG_BYTES
    try {
      const decipher = createDecipheriv('chacha20-poly1305', subkey, innerNonce(nonce), {
        authTagLength: XTAG_BYTES,
      })
      decipher.setAAD(aad, { plaintextLength: sealed.length - XTAG_BYTES })
      decipher.setAuthTag(sealed.subarray(tagStart))
      const body = decipher.update(sealed.subarray(0, tagStart))
      decipher.final()
      return body
    } catch {
      return null
    }
  },
}

/** `@noble/ciphers`: `encrypt` returns `ciphertext ‖ tag`, `decrypt` throws on a bad tag. */
export function jsXChaCha(xchacha20poly1305: XChaCha20Poly1305): XChaChaBackend {
  return {
    name: 'js',
    seal(out, message, aad, nonce, key) {
      out.set(xchacha20poly1305(key, nonce, aad).encrypt(message), 0)
    },
    open(sealed, aad, nonce, key) {
      try {
        const opened = xchacha20poly1305(key, nonce, aad).decrypt(sealed)
        return Buffer.from(opened.buffer, opened.byteOffset, opened.byteLength)
      } catch {
        return null
      }
    },
  }
}

/** Every back end: each present, or the reason it is not. */
export interface XChaChaBackends {
  readonly sodium: XChaChaBackend | { readonly error: unknown }
  readonly node: XChaChaBackend | { readonly error: unknown }
  readonly js: XChaChaBackend | { readonly error: unknown }
}

/** Loads the three back ends; nothing here throws. */
function loadBackends(): XChaChaBackends {
  let node: XChaChaBackends['node']
  try {
    // A probe rather than getCiphers(): a runtime may list a cipher it cannot run.
    createCipheriv('chacha20-poly1305', Buffer.alloc(32), Buffer.alloc(12), { authTagLength: 16 })
    node = nodeXChaCha
  } catch (cause) {
    const detail = cause instanceof Error ? cause.message : String(cause)
    node = { error: new Error(`node:crypto cannot run chacha20-poly1305 here (${detail})`) }
  }
  let require: (specifier: string) => unknown
  try {
    require = localRequire()
  } catch (error) {
    return { sodium: { error }, node, js: { error } }
  }
  const sodium = loadOptional(
    require,
    'sodium-native',
    ['crypto_aead_xchacha20poly1305_ietf_encrypt', 'crypto_aead_xchacha20poly1305_ietf_decrypt'],
    (loaded: Sodium) => sodiumXChaCha(loaded),
  )
  const js = loadOptional(
    require,
    '@noble/ciphers/chacha.js',
    ['xchacha20poly1305'],
    (loaded: { xchacha20poly1305: XChaCha20Poly1305 }) => jsXChaCha(loaded.xchacha20poly1305),
  )
  return { sodium, node, js }
}

let installed: XChaChaBackends | undefined

/** The back ends of this runtime, loaded on first use. */
export function installedXChaCha(): XChaChaBackends {
  installed ??= loadBackends()
  return installed
}

/** Whether `entry` is a loaded back end rather than the reason it is missing. */
export function isBackend(
  entry: XChaChaBackend | { readonly error: unknown },
): entry is XChaChaBackend {
  return 'seal' in entry
}

/** What {@link chooseXChaCha} reads from the codec's options (validated there). */
export interface XChaChaChoice {
  readonly backend?: unknown
  readonly xchacha20poly1305?: unknown
}

/** The reason a back end is missing, for messages. */
function reason(entry: { readonly error: unknown }): string {
  return entry.error instanceof Error ? entry.error.message : String(entry.error)
}

/**
 * The back end the options ask for: `'sodium'`, `'node'`, `'js'` (noble, or the given
 * `xchacha20poly1305` function), or `'auto'` (default: the first of sodium, node, js that is
 * present). Returns a string saying what is missing instead, for the caller's config error.
 */
export function chooseXChaCha(
  options: XChaChaChoice,
  backends: XChaChaBackends = installedXChaCha(),
): XChaChaBackend | string {
  const wanted = options.backend ?? 'auto'
  if (wanted !== 'auto' && wanted !== 'sodium' && wanted !== 'node' && wanted !== 'js') {
    return `backend must be 'auto', 'sodium', 'node' or 'js', got ${String(wanted)}`
  }
  const given = options.xchacha20poly1305
  if (given !== undefined && typeof given !== 'function') {
    return 'xchacha20poly1305 must be the function of @noble/ciphers/chacha.js'
  }
  const js = given !== undefined ? jsXChaCha(given as XChaCha20Poly1305) : backends.js
  const byName = { sodium: backends.sodium, node: backends.node, js }
  if (wanted !== 'auto') {
    const entry = byName[wanted]
    return isBackend(entry) ? entry : `backend '${wanted}' is not available: ${reason(entry)}`
  }
  for (const entry of [byName.sodium, byName.node, byName.js]) {
    if (isBackend(entry)) return entry
  }
  return (
    'no XChaCha20-Poly1305 implementation in this runtime: install sodium-native (fastest) or ' +
    "@noble/ciphers, or pass cipher: 'aes-256-gcm'"
  )
}
