/**
 * Internal: the nacl codec's two secretbox back ends (XSalsa20-Poly1305), libsodium through the
 * `sodium-native` addon or the pure-JS `@noble/ciphers`, both optional peer dependencies loaded
 * here with a synchronous `require()` inside `try` (no top-level await, so the module also loads
 * through `require(esm)`, and a runtime without native addons or without `require()` simply has
 * fewer back ends); and the nonce source cut from a back end's CSPRNG. The codec itself is
 * `buildNaclCodec` in `./secretbox.ts`. Never exported from the package.
 *
 * Why `@noble/ciphers` for the pure-JS back end rather than `tweetnacl`: both are audited and give
 * the same bytes, and tweetnacl was faster on a 201-byte payload here (seal 12 µs, open 14 µs
 * against noble's 21 and 31; noble is faster from about 3 KB), but tweetnacl has had no release
 * since 1.0.3 (2020) while noble is maintained, typed and ESM. The pure-JS back end is the
 * fallback where libsodium cannot load (seal 1.6 µs, open 1.9 µs there), so maintenance won.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { loadOptional, localRequire } from './optional-require.ts'

/** Bytes of the nonce written in front of every box. */
export const NONCE_BYTES = 24
/** Bytes of the Poly1305 tag. */
export const TAG_BYTES = 16

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
/** Uninitialized bytes where Buffer exists (every byte is written before use), else zeroed. */
export const allocate: (length: number) => Uint8Array =
  NodeBuffer !== undefined
    ? (length) => NodeBuffer.allocUnsafe(length)
    : (length) => new Uint8Array(length)

/** The name of a back end, as the `backend` option and {@link NaclCodec.backend} spell it. */
export type NaclBackendName = 'sodium' | 'js'

/**
 * `xsalsa20poly1305` of `@noble/ciphers/salsa.js` (v2), reduced to what the codec calls. Declared
 * here so that no type of the optional package leaks into the package's declarations.
 */
export type XSalsa20Poly1305 = (
  key: Uint8Array,
  nonce: Uint8Array,
) => {
  encrypt(plaintext: Uint8Array): Uint8Array
  decrypt(ciphertext: Uint8Array): Uint8Array
}

/** What a back end does: secretbox with the nonce in front, and random bytes. */
export interface SecretboxBackend {
  readonly name: NaclBackendName
  /**
   * Seals `message` with `nonce` and `key` into `box` = nonce ‖ tag ‖ ciphertext, of length
   * `NONCE_BYTES + TAG_BYTES + message.length`; writes every byte of `box`.
   */
  seal(box: Uint8Array, nonce: Uint8Array, message: Uint8Array, key: Uint8Array): void
  /** Opens `box` (nonce ‖ tag ‖ ciphertext, at least 40 bytes) with `key`; null when the tag fails. */
  open(box: Uint8Array, key: Uint8Array): Uint8Array | null
  /** Fills `target` with bytes from a CSPRNG. */
  random(target: Uint8Array): void
}

/** The back ends a runtime has: each present, or the reason it could not be loaded. */
export interface Backends {
  readonly sodium: SecretboxBackend | { readonly error: unknown }
  readonly js: SecretboxBackend | { readonly error: unknown }
}

/** The `sodium-native` functions the codec calls. */
interface Sodium {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean
  randombytes_buf(buffer: Uint8Array): void
}

/** libsodium's `crypto_secretbox_easy` writes tag ‖ ciphertext: exactly the box after the nonce. */
export function sodiumBackend(sodium: Sodium): SecretboxBackend {
  return {
    name: 'sodium',
    seal(box, nonce, message, key) {
      box.set(nonce, 0)
      sodium.crypto_secretbox_easy(box.subarray(NONCE_BYTES), message, nonce, key)
    },
    open(box, key) {
      const message = allocate(box.length - NONCE_BYTES - TAG_BYTES)
      const ok = sodium.crypto_secretbox_open_easy(
        message,
        box.subarray(NONCE_BYTES),
        box.subarray(0, NONCE_BYTES),
        key,
      )
      return ok ? message : null
    },
    random(target) {
      sodium.randombytes_buf(target)
    },
  }
}

/** noble's `xsalsa20poly1305` also returns tag ‖ ciphertext (the secretbox layout). */
export function jsBackend(xsalsa20poly1305: XSalsa20Poly1305): SecretboxBackend {
  return {
    name: 'js',
    seal(box, nonce, message, key) {
      box.set(nonce, 0)
      box.set(xsalsa20poly1305(key, nonce).encrypt(message), NONCE_BYTES)
    },
    open(box, key) {
      try {
        return xsalsa20poly1305(key, box.subarray(0, NONCE_BYTES)).decrypt(
          box.subarray(NONCE_BYTES),
        )
      } catch {
        return null // noble throws on a tag mismatch; the input sizes were checked before
      }
    },
    random(target) {
      globalThis.crypto.getRandomValues(target as Uint8Array<ArrayBuffer>)
    },
  }
}

/**
 * Loads both back ends once. Nothing here throws: a package that is missing, or an addon that
 * cannot load in this runtime (Workers, Deno without FFI permission), leaves its error instead.
 */
function loadBackends(): Backends {
  let require: (specifier: string) => unknown
  try {
    require = localRequire()
  } catch (error) {
    return { sodium: { error }, js: { error } }
  }
  const sodium = loadOptional(
    require,
    'sodium-native',
    ['crypto_secretbox_easy', 'crypto_secretbox_open_easy', 'randombytes_buf'],
    (loaded: Sodium) => sodiumBackend(loaded),
  )
  const js = loadOptional(
    require,
    '@noble/ciphers/salsa.js',
    ['xsalsa20poly1305'],
    (loaded: { xsalsa20poly1305: XSalsa20Poly1305 }) => jsBackend(loaded.xsalsa20poly1305),
  )
  return { sodium, js }
}

let installed: Backends | undefined

/** The back ends of this runtime, loaded on first use (the first codec created). */
export function installedBackends(): Backends {
  installed ??= loadBackends()
  return installed
}

/** Returns the 24-byte nonce of each new box. */
export type NonceSource = () => Uint8Array

/** How many nonces one refill of a back end's nonce pool holds. */
const NONCE_POOL_SIZE = 512

/**
 * A nonce source cut from a pool of the back end's CSPRNG bytes, refilled NONCE_POOL_SIZE nonces
 * at a time (as the sealed codec does with its IVs): each byte is handed out once, and a refill
 * allocates a new buffer. Measured: a per-call `crypto.getRandomValues` of 24 bytes costs several
 * microseconds, more than libsodium's whole seal.
 */
export function pooledNonces(backend: SecretboxBackend): NonceSource {
  let pool = new Uint8Array(0)
  let offset = 0
  return () => {
    if (offset + NONCE_BYTES > pool.length) {
      pool = new Uint8Array(NONCE_BYTES * NONCE_POOL_SIZE)
      // getRandomValues takes at most 65536 bytes per call; the pool is 12288.
      backend.random(pool)
      offset = 0
    }
    const nonce = pool.subarray(offset, offset + NONCE_BYTES)
    offset += NONCE_BYTES
    return nonce
  }
}
