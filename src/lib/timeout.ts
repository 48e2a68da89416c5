/**
 * Internal: the per-call timeout of the network stores (Redis, memcached, PostgreSQL), a timer
 * racing the store call. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/**
 * Settles like `work`, or rejects with the error `onTimeout` returns once `ms` milliseconds have
 * passed without `work` settling. The work itself is not cancelled: after a timeout it settles
 * unobserved. The timer is cleared as soon as `work` settles; it is not unref'd, so a pending call
 * keeps the process alive until it settles or times out.
 */
export function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(onTimeout()), ms)
    work.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
