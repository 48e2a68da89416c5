/**
 * Internal: the Fernet codec's implementation, with the IV source as a parameter so the tests can
 * pin it and reproduce the Python libraries' vectors byte for byte. The public factory,
 * `createFernetCodec` in `src/codecs/fernet.ts`, always passes the CSPRNG source below. Never
 * exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { isUtf8 } from 'node:buffer'
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  createSecretKey,
  type Decipher,
  type KeyObject,
  timingSafeEqual,
} from 'node:crypto'
import type { CookieCodec, DecodedCookie } from '../core/types.ts'
import { SessionConfigError, SessionDecodeError } from '../errors.ts'
import { clockOption } from './options.ts'
import { randomPool } from './random-pool.ts'
import { decodeTokenPart, MAX_TOKEN_LENGTH, malformed } from './token.ts'

/** A Fernet key as users configure it: the 44-character url-safe base64 text, or the 32 raw bytes. */
export type FernetKey = string | Uint8Array

/** What {@link buildFernetCodec} reads from the public options (validated there). */
export interface FernetOptionsInput {
  readonly keys: ReadonlyArray<FernetKey>
  readonly ttl?: number | undefined
  readonly clock?: (() => number) | undefined
  /**
   * The longest token `decode` looks at, in characters: a cookie cannot hold more than 4096, a
   * value kept in a store (starsessions' Fernet encryptor) can.
   *
   * @default 4096
   */
  readonly maxTokenLength?: number | undefined
}

/** Returns a fresh 16-byte IV on every call. */
export type IvSource = () => Uint8Array

/** The version byte every Fernet token starts with. */
const VERSION = 0x80
/** Version byte + 64-bit timestamp. */
const HEADER_BYTES = 9
const IV_BYTES = 16
const BLOCK_BYTES = 16
const MAC_BYTES = 32
/** Header, IV, one block (the padding of an empty payload) and the MAC. */
const MIN_RAW_BYTES = HEADER_BYTES + IV_BYTES + BLOCK_BYTES + MAC_BYTES
/** The clock skew Fernet allows for a token dated in the future, in seconds (`_MAX_CLOCK_SKEW`). */
export const MAX_CLOCK_SKEW = 60
/** 2^32, to split and join the 64-bit timestamp. */
const TWO_32 = 0x1_0000_0000
/** A Fernet key string: 43 base64 digits (either alphabet, as Python's decoder takes) and `=`. */
const KEY_TEXT = /^[A-Za-z0-9_+/-]{43}=$/
/** A Fernet token: url-safe base64 with its `=` padding (Python's encoder writes nothing else). */
const TOKEN_TEXT = /^[A-Za-z0-9_-]+={0,2}$/
/** `=` padding for a raw length modulo 3. */
const PADDING = ['', '==', '=']

/** How many IVs one refill of the IV pool holds. */
const IV_POOL_SIZE = 512

/**
 * A fresh random IV from a pool of CSPRNG bytes ({@link randomPool}); CBC needs unpredictable IVs,
 * and pooled CSPRNG bytes are.
 */
export const randomIv: () => Buffer = randomPool(IV_BYTES, IV_POOL_SIZE)

/** One configured key, split as Fernet splits it. */
interface FernetRingKey {
  readonly index: number
  /** Bytes 0–15: the HMAC-SHA256 key. */
  readonly signing: KeyObject
  /** Bytes 16–31: the AES-128-CBC key. */
  readonly encryption: KeyObject
  /**
   * A long-lived AES-128-ECB decipher with the encryption key and no padding: CBC decryption is
   * ECB decryption of every block, each then XORed with the block before it (the IV for the
   * first). One reused decipher instead of a `createDecipheriv` per token: measured 3.5 µs
   * against 10.4 µs for a 250-byte payload. ECB keeps no state between calls when every input is
   * whole blocks, which a token that passed `tokenBytes` always is.
   */
  readonly blocks: Decipher
}

/** The 32 key bytes of one configured key, or throws a SessionConfigError naming it. */
function keyBytes(key: unknown, name: string): Buffer {
  if (typeof key === 'string') {
    if (!KEY_TEXT.test(key)) {
      throw new SessionConfigError(
        `${name} is not a Fernet key: expected 44 characters of url-safe base64 ending in '=' ` +
          `(the text of Python's Fernet.generate_key()), got a string of ${key.length} characters`,
      )
    }
    return Buffer.from(key, 'base64')
  }
  if (key instanceof Uint8Array) {
    if (key.byteLength !== 32) {
      throw new SessionConfigError(
        `${name} is a Uint8Array of ${key.byteLength} bytes; a raw Fernet key is exactly 32 bytes ` +
          '(pass the 44-character key text as a string)',
      )
    }
    return Buffer.from(key.buffer, key.byteOffset, key.byteLength)
  }
  throw new SessionConfigError(
    `${name} must be a string (a 44-character Fernet key) or a Uint8Array of 32 bytes, got ${describe(key)}`,
  )
}

/** Validates the key list and splits every key into its signing and encryption halves. */
function createRing(keys: unknown): FernetRingKey[] {
  const where = 'fernet codec: options.keys'
  if (!Array.isArray(keys)) {
    throw new SessionConfigError(
      `${where} must be an array of keys (the first writes, all read), got ${describe(keys)}`,
    )
  }
  if (keys.length === 0) {
    throw new SessionConfigError(
      `${where} is empty; give at least one Fernet key (Python: Fernet.generate_key())`,
    )
  }
  const seen: Buffer[] = []
  return keys.map((key: unknown, index) => {
    const name = `${where}[${index}]`
    const bytes = keyBytes(key, name)
    const twin = seen.findIndex((other) => other.equals(bytes))
    if (twin !== -1) {
      throw new SessionConfigError(
        `${where}[${twin}] and ${name} are the same key; every key must be different`,
      )
    }
    seen.push(bytes)
    const encryption = createSecretKey(Buffer.from(bytes.subarray(16, 32)))
    const blocks = createDecipheriv('aes-128-ecb', encryption, null)
    blocks.setAutoPadding(false)
    return {
      index,
      signing: createSecretKey(Buffer.from(bytes.subarray(0, 16))),
      encryption,
      blocks,
    }
  })
}

/** Validates `ttl`: undefined, or a positive whole number of seconds. */
function ttlOption(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined
  if (typeof ttl !== 'number' || !Number.isSafeInteger(ttl) || ttl <= 0) {
    throw new SessionConfigError(
      `fernet codec: options.ttl must be a positive whole number of seconds or undefined, got ${
        typeof ttl === 'number' ? ttl : describe(ttl)
      }`,
    )
  }
  return ttl
}

/** An `expired` decode error with a message for the CLI and debug hooks. */
function expired(message: string): SessionDecodeError {
  return new SessionDecodeError('expired', `session cookie rejected: expired (${message})`)
}

/**
 * The raw bytes of a Fernet token, or throws `malformed`: url-safe base64 with exactly the `=`
 * padding Python writes, canonical (no stray bits), at most `maxLength` characters, the right length
 * (57 + 16n bytes, n ≥ 1) and version byte 0x80.
 */
function tokenBytes(value: unknown, maxLength: number): Buffer {
  if (typeof value !== 'string') throw malformed(`expected a string, got ${typeof value}`)
  if (value.length === 0) throw malformed('empty value')
  if (value.length > maxLength) {
    throw malformed(`${value.length} characters, over the ${maxLength}-character limit`)
  }
  if (value.length % 4 !== 0 || !TOKEN_TEXT.test(value)) {
    throw malformed('not padded url-safe base64')
  }
  const pad = value.charCodeAt(value.length - 2) === 61 ? 2 : value.endsWith('=') ? 1 : 0
  const raw = decodeTokenPart(pad === 0 ? value : value.slice(0, -pad))
  if (raw === null) throw malformed('not canonical base64')
  if (raw.length < MIN_RAW_BYTES || (raw.length - MIN_RAW_BYTES) % BLOCK_BYTES !== 0) {
    throw malformed(`${raw.length} bytes is not the length of a Fernet token`)
  }
  if (raw[0] !== VERSION) throw malformed('not a Fernet token (version byte is not 0x80)')
  return raw
}

/**
 * Builds the Fernet codec. `options` are the public options of `createFernetCodec` (validated
 * here); `nextIv` gives the IV of every encode (the public factory passes {@link randomIv}).
 */
export function buildFernetCodec(options: FernetOptionsInput, nextIv: IvSource): CookieCodec {
  const ring = createRing(options?.keys)
  const writer = ring[0] as FernetRingKey
  const ttl = ttlOption(options.ttl)
  const clock = clockOption('fernet codec: options', options.clock ?? Date.now)
  const maxTokenLength = options.maxTokenLength ?? MAX_TOKEN_LENGTH

  /**
   * Decrypts the ciphertext of `raw` with `key` (AES-128-CBC, PKCS7), or returns null when the
   * padding is wrong. Only called after the MAC verified, so checking the padding in plain
   * JavaScript gives a padding oracle nothing: a forged token never gets this far.
   */
  function open(key: FernetRingKey, raw: Buffer): Buffer | null {
    const start = HEADER_BYTES + IV_BYTES
    const end = raw.length - MAC_BYTES
    const plain = key.blocks.update(raw.subarray(start, end))
    if (plain.length !== end - start) return null // unreachable: whole blocks in, whole blocks out
    // P[i] = D(C[i]) XOR C[i-1], with C[-1] = the IV (the 16 bytes before the ciphertext).
    for (let i = 0; i < plain.length; i++)
      plain[i] = (plain[i] as number) ^ (raw[HEADER_BYTES + i] as number)
    const pad = plain[plain.length - 1] as number
    if (pad < 1 || pad > BLOCK_BYTES) return null
    for (let i = plain.length - pad; i < plain.length - 1; i++) {
      if (plain[i] !== pad) return null
    }
    return plain.subarray(0, plain.length - pad)
  }

  return Object.freeze({
    name: 'fernet',
    // With a ttl, a token's validity changes with time: never cached by cookie storage.
    cacheable: ttl === undefined,

    encode(payload: string): string {
      const iv = nextIv()
      const seconds = Math.floor(clock() / 1000)
      const cipher = createCipheriv('aes-128-cbc', writer.encryption, iv)
      const body = cipher.update(payload, 'utf8')
      const rest = cipher.final()
      const macStart = HEADER_BYTES + IV_BYTES + body.length + rest.length
      const raw = Buffer.allocUnsafe(macStart + MAC_BYTES)
      raw[0] = VERSION
      raw.writeUInt32BE(Math.floor(seconds / TWO_32), 1)
      raw.writeUInt32BE(seconds % TWO_32, 5)
      raw.set(iv, HEADER_BYTES)
      body.copy(raw, HEADER_BYTES + IV_BYTES)
      rest.copy(raw, HEADER_BYTES + IV_BYTES + body.length)
      createHmac('sha256', writer.signing)
        .update(raw.subarray(0, macStart))
        .digest()
        .copy(raw, macStart)
      return raw.toString('base64url') + PADDING[raw.length % 3]
    },

    decode(value: string): DecodedCookie {
      const raw = tokenBytes(value, maxTokenLength)
      const macStart = raw.length - MAC_BYTES
      const signed = raw.subarray(0, macStart)
      const mac = raw.subarray(macStart)
      let checked = false
      for (const key of ring) {
        const expected = createHmac('sha256', key.signing).update(signed).digest()
        if (!timingSafeEqual(expected, mac)) continue
        if (!checked && ttl !== undefined) {
          // The timestamp is authentic now (Python checks it before the MAC; the outcome is the
          // same, but only an authentic timestamp is worth reporting as expired).
          checked = true
          const stamped = raw.readUInt32BE(1) * TWO_32 + raw.readUInt32BE(5)
          const now = Math.floor(clock() / 1000)
          if (stamped + ttl < now) throw expired(`written ${now - stamped} s ago, ttl ${ttl} s`)
          if (now + MAX_CLOCK_SKEW < stamped) {
            throw expired(
              `dated ${stamped - now} s in the future, over the ${MAX_CLOCK_SKEW} s clock skew`,
            )
          }
        }
        // Bad padding with a verified MAC: another key may share this signing half (MultiFernet
        // then goes on to the next key too).
        const plain = open(key, raw)
        if (plain === null) continue
        if (!isUtf8(plain)) throw malformed('the decrypted payload is not UTF-8 text')
        return { payload: plain.toString('utf8'), rotated: key.index !== 0 }
      }
      throw new SessionDecodeError('tampered')
    },
  })
}

/** A short description of a wrong value for error messages (never the value of a key). */
function describe(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'an array'
  return typeof value === 'object' ? (value.constructor?.name ?? 'an object') : typeof value
}
