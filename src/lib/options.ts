/**
 * Internal: validation of the option kinds several stores share (durations in seconds, the
 * injectable clock, callbacks). Each check throws a `SessionConfigError` that names the factory
 * and the option. The options themselves, their defaults and their documentation stay with each
 * store. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { SessionConfigError } from '../errors.ts'
import { MAX_TIMER_MS } from './timers.ts'

/** The longest duration a seconds option accepts: the longest timer delay, in seconds. */
const MAX_SECONDS = MAX_TIMER_MS / 1000

/** Whether `value` is a finite number of seconds from 0 to the longest timer delay. */
function isSeconds(value: unknown): value is number {
  return (
    typeof value === 'number' &&
    Number.isFinite(value) &&
    value >= 0 &&
    value * 1000 <= MAX_TIMER_MS
  )
}

/**
 * Validates the seconds between runs of a background timer (a sweep or prune interval): a number
 * from 0 (the timer is off) to the longest timer delay, fractions allowed.
 *
 * @param caller - The factory, first in the error message (`createSqliteStore`).
 * @param name - The option (`pruneInterval`).
 * @param value - The option's value, its default already applied.
 * @throws {SessionConfigError} when `value` is not such a number.
 */
export function intervalOption(caller: string, name: string, value: unknown): number {
  if (!isSeconds(value)) {
    throw new SessionConfigError(
      `${caller}: ${name} must be a number of seconds from 0 to ${MAX_SECONDS}, got ${String(value)}`,
    )
  }
  return value
}

/**
 * Validates the seconds a store call may take: a number above 0 and at most the longest timer
 * delay, fractions allowed.
 *
 * @param caller - The factory, first in the error message (`createRedisStore`).
 * @param name - The option (`timeout`).
 * @param value - The option's value, its default already applied.
 * @throws {SessionConfigError} when `value` is not such a number.
 */
export function timeoutOption(caller: string, name: string, value: unknown): number {
  if (!isSeconds(value) || value === 0) {
    throw new SessionConfigError(
      `${caller}: ${name} must be a number of seconds above 0 and at most ${MAX_SECONDS}, got ${String(value)}`,
    )
  }
  return value
}

/**
 * Validates the injectable clock (epoch milliseconds).
 *
 * @param caller - The factory, first in the error message.
 * @param value - The option's value, its default (`Date.now`) already applied.
 * @throws {SessionConfigError} when `value` is not a function.
 */
export function clockOption(caller: string, value: () => number): () => number {
  if (typeof value !== 'function') {
    throw new SessionConfigError(`${caller}: clock must be a function returning epoch ms`)
  }
  return value
}

/**
 * Validates a callback option (such as `onPruneError`).
 *
 * @param caller - The factory, first in the error message.
 * @param name - The option.
 * @param value - The option's value, its default already applied.
 * @throws {SessionConfigError} when `value` is not a function.
 */
export function callbackOption<F extends (...args: never[]) => unknown>(
  caller: string,
  name: string,
  value: F,
): F {
  if (typeof value !== 'function') {
    throw new SessionConfigError(`${caller}: ${name} must be a function`)
  }
  return value
}
