/**
 * Internal: the nacl codec's implementation. XSalsa20-Poly1305 secretbox on one of two back ends,
 * libsodium through the `sodium-native` addon or the pure-JS `@noble/ciphers`, both optional peer
 * dependencies loaded here with a synchronous `require()` inside `try` (no top-level await, so the
 * module also loads through `require(esm)`, and a runtime without native addons or without
 * `require()` simply has fewer back ends). The nonce source and the installed back ends are
 * parameters so the tests can pin the nonce (the FORMATS.md vectors) and pretend a package is
 * missing. The public factory, `createNaclCodec` in `src/codecs/nacl.ts`, passes the real ones.
 * Never exported from the package.
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

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { localRequire } from './optional-require.ts'
import { MAX_TOKEN_LENGTH, malformed } from './token.ts'

/** Bytes of a secretbox key. */
export const KEY_BYTES = 32
/** Bytes of the nonce written in front of every box. */
export const NONCE_BYTES = 24
/** Bytes of the Poly1305 tag. */
export const TAG_BYTES = 16

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
const utf8 = new TextEncoder()
/** UTF-8 bytes of a payload: Buffer's encoder where there is one (measured twice as fast). */
const encodeUtf8: (text: string) => Uint8Array =
  NodeBuffer !== undefined ? (text) => NodeBuffer.from(text, 'utf8') : (text) => utf8.encode(text)
/** Uninitialized bytes where Buffer exists (every byte is written before use), else zeroed. */
const allocate: (length: number) => Uint8Array =
  NodeBuffer !== undefined
    ? (length) => NodeBuffer.allocUnsafe(length)
    : (length) => new Uint8Array(length)
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

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
  let sodium: Backends['sodium']
  try {
    const loaded = require('sodium-native') as Partial<Sodium> | undefined
    if (
      typeof loaded?.crypto_secretbox_easy !== 'function' ||
      typeof loaded.crypto_secretbox_open_easy !== 'function' ||
      typeof loaded.randombytes_buf !== 'function'
    ) {
      throw new Error('sodium-native lacks crypto_secretbox_easy, _open_easy or randombytes_buf')
    }
    sodium = sodiumBackend(loaded as Sodium)
  } catch (error) {
    sodium = { error }
  }
  let js: Backends['js']
  try {
    const loaded = require('@noble/ciphers/salsa.js') as
      | { xsalsa20poly1305?: XSalsa20Poly1305 }
      | undefined
    if (typeof loaded?.xsalsa20poly1305 !== 'function') {
      throw new Error('@noble/ciphers/salsa.js has no xsalsa20poly1305')
    }
    js = jsBackend(loaded.xsalsa20poly1305)
  } catch (error) {
    js = { error }
  }
  return { sodium, js }
}

let installed: Backends | undefined

/** The back ends of this runtime, loaded on first use (the first codec created). */
export function installedBackends(): Backends {
  installed ??= loadBackends()
  return installed
}

/** What {@link buildNaclCodec} reads from the public options (validated there). */
export interface NaclOptionsInput {
  readonly keys: ReadonlyArray<string | Uint8Array>
  readonly backend?: 'auto' | NaclBackendName | undefined
  readonly xsalsa20poly1305?: XSalsa20Poly1305 | undefined
}

/** The nacl codec: a cookie codec that also says which back end it runs on. */
export interface NaclCodec extends CookieCodec {
  /** The back end in use: `'sodium'` (libsodium via sodium-native) or `'js'` (@noble/ciphers). */
  readonly backend: NaclBackendName
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

/** A key as 64 hex digits. */
const HEX_KEY = /^[0-9A-Fa-f]{64}$/
/** A key as base64 of 32 bytes: 43 digits of either alphabet, then an optional `=`. */
const BASE64_KEY = /^[A-Za-z0-9+/_-]{43}=?$/
/**
 * Standard base64 digits and up to two `=` at the end; with a length that is a multiple of 4, the
 * padded base64 of Python's `base64.b64encode` (PyNaCl's `Base64Encoder`) and nothing else.
 */
const BOX_TEXT = /^[A-Za-z0-9+/]+={0,2}$/
/** The standard base64 alphabet, in digit order. */
const STANDARD_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'

/** Standard base64 with padding, through Buffer where there is one and btoa elsewhere. */
function toBase64(bytes: Uint8Array): string {
  if (NodeBuffer !== undefined) {
    return NodeBuffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')
  }
  let binary = ''
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i] as number)
  return btoa(binary)
}

/** Decodes text that {@link BOX_TEXT} accepted. */
function fromBase64(text: string): Uint8Array {
  if (NodeBuffer !== undefined) return NodeBuffer.from(text, 'base64')
  const binary = atob(text)
  const bytes = new Uint8Array(binary.length)
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i)
  return bytes
}

/**
 * True when the digit before the padding carries no stray bits, so every box has exactly one
 * text (Python's `b64encode` writes only such text; its lenient decoder would also take others).
 */
function canonicalPadding(text: string): boolean {
  if (!text.endsWith('=')) return true
  const double = text.endsWith('==')
  const last = STANDARD_DIGITS.indexOf(text.charAt(text.length - (double ? 3 : 2)))
  return (last & (double ? 0x0f : 0x03)) === 0
}

/** A short description of a wrong value for error messages (never the value of a key). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'string') return `a string of ${value.length} characters`
  if (value instanceof Uint8Array) return `a Uint8Array of ${value.byteLength} bytes`
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}

/** The 32 key bytes of one configured key, or a SessionConfigError naming what is wrong. */
function parseKey(key: unknown, name: string): Uint8Array {
  const expected =
    'must be 64 hex digits, base64 of 32 bytes (44 characters) or a Uint8Array of 32 bytes, ' +
    `as PyNaCl's SecretBox takes (generate one with python3 -c "import nacl.utils; ` +
    `print(nacl.utils.random(32).hex())")`
  if (key instanceof Uint8Array) {
    if (key.byteLength !== KEY_BYTES) {
      throw new SessionConfigError(`${name} is ${describe(key)}; a nacl key ${expected}`)
    }
    return Uint8Array.from(key)
  }
  if (typeof key === 'string') {
    if (HEX_KEY.test(key)) {
      return Uint8Array.from({ length: KEY_BYTES }, (_, i) =>
        Number.parseInt(key.slice(2 * i, 2 * i + 2), 16),
      )
    }
    if (BASE64_KEY.test(key)) {
      const standard = key.replace(/-/g, '+').replace(/_/g, '/').replace(/=?$/, '=')
      // 43 digits carry 32 bytes and 2 spare bits; a last digit with spare bits set is a typo.
      if (!canonicalPadding(standard)) {
        throw new SessionConfigError(
          `${name} is not canonical base64 of 32 bytes; a nacl key ${expected}`,
        )
      }
      return Uint8Array.from(fromBase64(standard))
    }
    throw new SessionConfigError(`${name} is ${describe(key)}; a nacl key ${expected}`)
  }
  throw new SessionConfigError(`${name} ${expected}, got ${describe(key)}`)
}

/** Validates `keys` and returns their bytes, the writing key first. */
function parseKeys(keys: unknown): Uint8Array[] {
  const where = 'nacl codec: options.keys'
  if (!Array.isArray(keys)) {
    throw new SessionConfigError(
      `${where} must be an array of keys (the first writes, all read), got ${describe(keys)}`,
    )
  }
  if (keys.length === 0) {
    throw new SessionConfigError(`${where} is empty; give at least one 32-byte key`)
  }
  const parsed: Uint8Array[] = []
  for (let index = 0; index < keys.length; index++) {
    const name = `${where}[${index}]`
    const bytes = parseKey(keys[index], name)
    const twin = parsed.findIndex((other) => other.every((byte, i) => byte === bytes[i]))
    if (twin !== -1) {
      throw new SessionConfigError(
        `${where}[${twin}] and ${name} are the same key; every key must be different`,
      )
    }
    parsed.push(bytes)
  }
  return parsed
}

/** Picks the back end the options ask for, or explains what to install. */
function chooseBackend(options: NaclOptionsInput, backends: Backends): SecretboxBackend {
  const wanted = options.backend ?? 'auto'
  if (wanted !== 'auto' && wanted !== 'sodium' && wanted !== 'js') {
    throw new SessionConfigError(
      `nacl codec: options.backend must be 'auto', 'sodium' or 'js', got ${describe(wanted)}`,
    )
  }
  const given = options.xsalsa20poly1305
  if (given !== undefined && typeof given !== 'function') {
    throw new SessionConfigError(
      `nacl codec: options.xsalsa20poly1305 must be the xsalsa20poly1305 function of ` +
        `@noble/ciphers/salsa.js, got ${describe(given)}`,
    )
  }
  const js = given !== undefined ? jsBackend(given) : backends.js
  const { sodium } = backends
  if (wanted === 'sodium' || (wanted === 'auto' && 'name' in sodium)) {
    if ('name' in sodium) return sodium
    throw new SessionConfigError(
      "nacl codec: options.backend is 'sodium' but the sodium-native package could not be " +
        `loaded (${reason(sodium.error)}); install it with \`npm install sodium-native\`, or use ` +
        "backend 'auto' or 'js'",
      { cause: sodium.error },
    )
  }
  if ('name' in js) return js
  throw new SessionConfigError(
    wanted === 'js'
      ? "nacl codec: options.backend is 'js' but the @noble/ciphers package could not be loaded " +
          `(${reason(js.error)}); install it with \`npm install @noble/ciphers\`, or pass its ` +
          'xsalsa20poly1305 function as options.xsalsa20poly1305'
      : 'nacl codec needs sodium-native (libsodium, Node and Bun) or @noble/ciphers (pure JS, ' +
          'every runtime), and neither could be loaded; install one: `npm install sodium-native` ' +
          'or `npm install @noble/ciphers` (where require() is missing, such as Cloudflare ' +
          'Workers, pass xsalsa20poly1305 from @noble/ciphers/salsa.js as ' +
          `options.xsalsa20poly1305). sodium-native: ${'error' in sodium ? reason(sodium.error) : 'loaded'}; ` +
          `@noble/ciphers: ${reason(js.error)}`,
    { cause: js.error },
  )
}

/** The first line of a load error, for messages. */
function reason(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error)
  return text.split('\n', 1)[0] ?? text
}

/**
 * Builds the nacl codec. `nonce` gives the 24-byte nonce of each new box (default: a pool of the
 * back end's CSPRNG bytes); `backends` are the loaded back ends (default: this runtime's).
 */
export function buildNaclCodec(
  options: NaclOptionsInput,
  seams: { readonly nonce?: NonceSource; readonly backends?: Backends } = {},
): NaclCodec {
  if (options === null || typeof options !== 'object') {
    throw new SessionConfigError(`nacl codec: options must be an object, got ${describe(options)}`)
  }
  const keys = parseKeys(options.keys)
  const box = chooseBackend(options, seams.backends ?? installedBackends())
  const writer = keys[0] as Uint8Array
  const nextNonce = seams.nonce ?? pooledNonces(box)

  return Object.freeze({
    name: 'nacl',
    backend: box.name,

    encode(payload: string): string {
      const message = encodeUtf8(payload)
      const sealed = allocate(NONCE_BYTES + TAG_BYTES + message.length)
      box.seal(sealed, nextNonce(), message, writer)
      return toBase64(sealed)
    },

    decode(value: string): DecodedCookie {
      if (typeof value !== 'string') throw malformed(`expected a string, got ${typeof value}`)
      if (value.length === 0) throw malformed('empty value')
      if (value.length > MAX_TOKEN_LENGTH) {
        throw malformed(`${value.length} characters, over the ${MAX_TOKEN_LENGTH}-character limit`)
      }
      if (value.length % 4 !== 0 || !BOX_TEXT.test(value) || !canonicalPadding(value)) {
        throw malformed('not canonical standard base64 with padding')
      }
      const sealed = fromBase64(value)
      if (sealed.length < NONCE_BYTES + TAG_BYTES) {
        throw malformed(`${sealed.length} bytes, shorter than a nonce and a tag`)
      }
      for (let index = 0; index < keys.length; index++) {
        const message = box.open(sealed, keys[index] as Uint8Array)
        if (message === null) continue
        let payload: string
        try {
          payload = strictUtf8.decode(message)
        } catch {
          throw malformed('the opened payload is not UTF-8')
        }
        return { payload, rotated: index !== 0 }
      }
      throw new SessionDecodeError('tampered')
    },
  })
}
