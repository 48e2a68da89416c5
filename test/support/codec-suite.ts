/**
 * The codec conformance suite: the scenarios every `CookieCodec` must pass whatever its format
 * (round trips, cookie-octets, malformed and hostile input) and, for the keyed codecs, key
 * handling (unknown and dropped keys, key-list checks). Format-specific scenarios stay in the
 * codec's own test file, next to the call of {@link runCodecSuite}.
 *
 * Also holds the keys, payloads and helpers the codec and CLI tests share.
 *
 * Not part of the package; used by `test/codecs/*.test.ts` and `test/cli/inspect.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { it } from 'node:test'
import fc from 'fast-check'
import type { CookieCodec } from '../../src/core/types.ts'
import { SessionDecodeError } from '../../src/errors.ts'

export const KEY = 'sessionware-test-key-0123456789abcdef'
export const OLD_KEY = 'sessionware-old-key-0123456789abcdef'
export const OTHER_KEY = 'sessionware-other-key-0123456789abcd'
/** The key id of KEY: a golden value, the same in every process, codec and release. */
export const KEY_ID = '3erTQh'
export const PAYLOAD = '{"user":"ann","roles":["admin"],"visits":3}'
export const UNICODE = '{"name":"Zoë 山田 😀","note":"naïve café\\u0000ok","rtl":"שלום"}'
/** RFC 6265 cookie-octet: %x21 / %x23-2B / %x2D-3A / %x3C-5B / %x5D-7E. */
export const COOKIE_OCTETS = /^[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]+$/
/** The base64url alphabet, in digit order. */
export const DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'

/** Runs `run`, asserts that it throws a SessionDecodeError and returns that error. */
export function decodeError(run: () => unknown): SessionDecodeError {
  try {
    run()
  } catch (error) {
    assert.ok(error instanceof SessionDecodeError, `expected SessionDecodeError, got ${error}`)
    assert.equal(error.code, 'ERR_SESSION_DECODE')
    return error
  }
  assert.fail('expected decode to throw')
}

export /** The reasons a damaged value may be refused with, by default. */
const DAMAGED: readonly string[] = ['tampered', 'malformed']

/**
 * Refuses every single-character change of `value`: each character replaced by a neighbouring
 * digit of `digits` (the lowest bit flipped), a far one, and each of `extra`. A character outside
 * `digits` (a dot, padding) is replaced by the first and a middle digit. The reason must be one of
 * `allowed(position)`: tampered or malformed by default.
 */
export function assertEveryChangeRefused(
  codec: CookieCodec,
  value: string,
  options: {
    digits?: string
    extra: readonly string[]
    allowed?: (position: number) => readonly string[]
  },
): void {
  const digits = options.digits ?? DIGITS
  for (let i = 0; i < value.length; i++) {
    const char = value[i] ?? ''
    const index = digits.indexOf(char)
    const near =
      index === -1 ? [digits[0], digits[31]] : [digits[index ^ 1], digits[(index + 32) % 64]]
    for (const replacement of [...near, ...options.extra]) {
      if (replacement === undefined || replacement === char) continue
      const changed = value.slice(0, i) + replacement + value.slice(i + 1)
      const { reason } = decodeError(() => codec.decode(changed))
      const allowed = options.allowed?.(i) ?? DAMAGED
      assert.ok(allowed.includes(reason), `position ${i} -> ${replacement}: ${reason}`)
    }
  }
}

/** Refuses `value` cut short at every length, as malformed or tampered. */
export function assertEveryTruncationRefused(codec: CookieCodec, value: string): void {
  for (let length = 0; length < value.length; length++) {
    const { reason } = decodeError(() => codec.decode(value.slice(0, length)))
    assert.ok(DAMAGED.includes(reason), `length ${length}: ${reason}`)
  }
}

/** Hostile values every codec must reject with a SessionDecodeError, whatever its format. */
const HOSTILE: readonly unknown[] = ['.', '.'.repeat(1024 * 1024), '\u0000', 'é', ' ', null, 42, {}]

/** What a codec's test file gives the suite. */
export interface CodecSuiteOptions {
  /** Format-specific hostile values, tried along with the shared ones. */
  hostile: readonly unknown[]
  /**
   * For a keyed codec (sealed, signed): its factory, e.g. `createSealedCodec`. Enables the key
   * scenarios and the empty-payload round trip (the plain codec writes an empty payload as an
   * empty value, which no codec reads).
   */
  create?: (options: { keys: ReadonlyArray<string | Uint8Array> }) => CookieCodec
}

/**
 * Registers the shared codec scenarios in the current `describe` block. `codec` is the codec under
 * test (for a keyed one, made with the single key KEY); `name` is the name it must report.
 */
export function runCodecSuite(name: string, codec: CookieCodec, options: CodecSuiteOptions): void {
  const { create } = options

  it('round-trips an ASCII payload', () => {
    assert.deepEqual(codec.decode(codec.encode(PAYLOAD)), { payload: PAYLOAD, rotated: false })
  })

  it('round-trips a non-ASCII payload', () => {
    assert.deepEqual(codec.decode(codec.encode(UNICODE)), { payload: UNICODE, rotated: false })
  })

  it('writes only RFC 6265 cookie-octets', () => {
    assert.match(codec.encode(UNICODE), COOKIE_OCTETS)
    if (create) assert.match(codec.encode(''), COOKIE_OCTETS)
  })

  if (codec.uriSafe === true) {
    it('writes only what encodeURIComponent keeps, as its uriSafe says', () => {
      fc.assert(
        fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' })), (text) => {
          const value = codec.encode(`{"s":${JSON.stringify(text)}}`)
          assert.equal(encodeURIComponent(value), value)
        }),
        { numRuns: 200 },
      )
    })
  }

  it('rejects an empty value as malformed', () => {
    assert.equal(decodeError(() => codec.decode('')).reason, 'malformed')
  })

  it('throws nothing but SessionDecodeError on hostile input', () => {
    for (const value of [...HOSTILE, ...options.hostile]) {
      decodeError(() => codec.decode(value as string))
    }
  })

  if (!create) return

  it('round-trips an empty payload', () => {
    assert.deepEqual(codec.decode(codec.encode('')), { payload: '', rotated: false })
  })

  it('rejects a token of another key as unknown-key', () => {
    const other = create({ keys: [OTHER_KEY] })
    assert.equal(decodeError(() => codec.decode(other.encode(PAYLOAD))).reason, 'unknown-key')
  })

  it('rejects tokens of a dropped key as unknown-key', () => {
    const oldToken = create({ keys: [OLD_KEY] }).encode(PAYLOAD)
    assert.equal(decodeError(() => codec.decode(oldToken)).reason, 'unknown-key')
  })

  it('refuses a missing key list', () => {
    assert.throws(() => create({} as { keys: string[] }), {
      code: 'ERR_SESSION_CONFIG',
      message: new RegExp(`${name} codec: options\\.keys must be an array`),
    })
  })

  it('refuses an empty key list', () => {
    assert.throws(() => create({ keys: [] }), {
      code: 'ERR_SESSION_CONFIG',
      message: /options\.keys is empty/,
    })
  })

  it('reports its name', () => {
    assert.equal(codec.name, name)
  })
}
