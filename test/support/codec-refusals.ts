/**
 * Refusals that several codec test files check the same way, beside the shared suite of
 * `codec-suite.ts`: garbage and damaged tokens of a binary format given to `decode` (a property),
 * and the key lists a codec keyed by secrets of any length refuses.
 *
 * Not part of the package; used by `test/codecs/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'
import fc from 'fast-check'
import type { CookieCodec } from '../../src/core/types.ts'
import { decodeError } from './codec-suite.ts'

/** What {@link assertGarbageRefused} gives a codec besides random text. */
export interface Garbage {
  /** Values shaped like the codec's format, such as random bytes written as its text. */
  readonly shaped: readonly fc.Arbitrary<string>[]
  /** The bytes of one valid value: each run flips one of its bytes. */
  readonly valid: Buffer
  /** Writes bytes as the codec's text (as `valid` was written). */
  readonly encode: (bytes: Buffer) => string
}

/**
 * Property: random text (up to 400 characters), random binary strings (up to 200), the `shaped`
 * values and `valid` with one byte flipped all make `codec.decode` throw a SessionDecodeError
 * whose reason is `malformed` or `tampered`, never anything else.
 */
export function assertGarbageRefused(codec: CookieCodec, garbage: Garbage, numRuns: number): void {
  const { valid, encode } = garbage
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ maxLength: 400 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        ...garbage.shaped,
        fc.tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 })).map(([at, flip]) => {
          const bytes = Buffer.from(valid)
          bytes[at] = (bytes[at] ?? 0) ^ flip
          return encode(bytes)
        }),
      ),
      (value) => {
        const { reason } = decodeError(() => codec.decode(value))
        assert.ok(reason === 'malformed' || reason === 'tampered', reason)
      },
    ),
    { numRuns },
  )
}

/**
 * Key lists a codec keyed by secrets (itsdangerous, jwt) refuses: no array, an empty one, an empty
 * or non-text secret, the same secret twice.
 */
export const BAD_SECRET_LISTS: readonly unknown[] = [
  undefined,
  null,
  'secret',
  [],
  [''],
  [42],
  [new Uint8Array(0)],
  ['a', 'a'],
]

/**
 * Asserts that `create({ keys })` throws ERR_SESSION_CONFIG, with a message about
 * `<name> codec: options.keys`, for each of {@link BAD_SECRET_LISTS}.
 */
export function assertBadSecretListsRefused(
  name: string,
  create: (options: { keys: string[] }) => unknown,
): void {
  for (const keys of BAD_SECRET_LISTS) {
    assert.throws(
      () => create({ keys } as { keys: string[] }),
      { code: 'ERR_SESSION_CONFIG', message: new RegExp(`${name} codec: options\\.keys`) },
      String(keys),
    )
  }
}
