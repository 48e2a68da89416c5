/**
 * Internal: the nacl codec's implementation. XSalsa20-Poly1305 secretbox boxes (nonce ‖ tag ‖
 * ciphertext) in padded standard base64, as aiohttp-session's `NaClCookieStorage` writes them, on
 * one of the back ends of `./secretbox-backends.ts`; keys are read by `./nacl-keys.ts`. The nonce
 * source and the installed back ends are parameters so the tests can pin the nonce (the FORMATS.md
 * vectors) and pretend a package is missing. The public factory, `createNaclCodec` in
 * `src/codecs/nacl.ts`, passes the real ones. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { describe, parseKeys } from './nacl-keys.ts'
import {
  allocate,
  type Backends,
  installedBackends,
  jsBackend,
  type NaclBackendName,
  NONCE_BYTES,
  type NonceSource,
  pooledNonces,
  type SecretboxBackend,
  TAG_BYTES,
  type XSalsa20Poly1305,
} from './secretbox-backends.ts'
import { canonicalPadding, fromBase64, toBase64 } from './standard-base64.ts'
import { MAX_TOKEN_LENGTH, malformed } from './token.ts'

export { KEY_BYTES } from './nacl-keys.ts'
export {
  type Backends,
  installedBackends,
  jsBackend,
  type NaclBackendName,
  NONCE_BYTES,
  type NonceSource,
  pooledNonces,
  type SecretboxBackend,
  sodiumBackend,
  TAG_BYTES,
  type XSalsa20Poly1305,
} from './secretbox-backends.ts'

const NodeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer
const utf8 = new TextEncoder()
/** UTF-8 bytes of a payload: Buffer's encoder where there is one (measured twice as fast). */
const encodeUtf8: (text: string) => Uint8Array =
  NodeBuffer !== undefined ? (text) => NodeBuffer.from(text, 'utf8') : (text) => utf8.encode(text)
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true })

/**
 * Standard base64 digits and up to two `=` at the end; with a length that is a multiple of 4, the
 * padded base64 of Python's `base64.b64encode` (PyNaCl's `Base64Encoder`) and nothing else.
 */
const BOX_TEXT = /^[A-Za-z0-9+/]+={0,2}$/

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
