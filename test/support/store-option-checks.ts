/**
 * Option checks that the server stores' tests share: the `timeout` values every store with a
 * per-call timeout refuses, and the assertion that a store factory refuses each of a list of
 * options with a SessionConfigError.
 *
 * Not part of the package; used by `test/stores/*.test.ts`.
 *
 * @module
 */

import assert from 'node:assert/strict'

/**
 * `timeout` options (seconds) a store refuses: not a number above 0, or longer than the longest
 * timer delay (about 24.8 days).
 */
export const INVALID_TIMEOUTS: readonly unknown[] = [
  { timeout: 0 },
  { timeout: -1 },
  { timeout: Number.NaN },
  { timeout: Number.POSITIVE_INFINITY },
  { timeout: '5' },
  { timeout: 3_000_000 },
]

/**
 * Asserts that `create(options)` throws a SessionConfigError (code ERR_SESSION_CONFIG) for each of
 * `invalid`; a failure names the options, as JSON.
 */
export function assertOptionsRefused(
  create: (options: unknown) => unknown,
  invalid: readonly unknown[],
): void {
  for (const options of invalid) {
    assert.throws(
      () => create(options),
      { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
      JSON.stringify(options),
    )
  }
}
