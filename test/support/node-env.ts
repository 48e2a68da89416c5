/**
 * Running code under a chosen `NODE_ENV`. Not part of the package.
 *
 * @module
 */

/** Runs `body` with `NODE_ENV` set to `value` (unset for undefined), restoring it after. */
export function withNodeEnv<T>(value: string | undefined, body: () => T): T {
  const previous = process.env.NODE_ENV
  if (value === undefined) delete process.env.NODE_ENV
  else process.env.NODE_ENV = value
  try {
    return body()
  } finally {
    if (previous === undefined) delete process.env.NODE_ENV
    else process.env.NODE_ENV = previous
  }
}
