/**
 * Internal: the automatic prune of the SQL stores (SQLite, PostgreSQL), an unref'd interval timer
 * that reports failures instead of throwing, and its default failure report, a process warning.
 * Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { unrefTimer } from './timers.ts'

/** What the prune timer runs, and how it learns that the store's owner closed the connection. */
export interface PruneTask {
  /** True once the database or client was closed by its owner: the timer then stops for good. */
  closed: () => boolean
  /**
   * One prune of expired rows. It may return a promise: while that is pending, ticks are skipped
   * (the previous run is still waiting for the server).
   */
  prune: () => unknown
  /** Called with the error of a failed run, thrown or rejected; the next tick retries. */
  onError: (error: unknown) => void
}

/**
 * Runs `prune` every `seconds` (validated by the caller; 0 starts nothing). The timer never
 * keeps the process alive. Returns the function that stops it (idempotent).
 */
export function startPruneTimer(
  seconds: number,
  { closed, prune, onError }: PruneTask,
): () => void {
  let timer: ReturnType<typeof setInterval> | undefined
  let pending = false
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer)
    timer = undefined
  }
  if (seconds <= 0) return stop
  timer = setInterval(() => {
    if (closed()) return stop()
    if (pending) return // the previous run is still waiting for the server
    let result: unknown
    try {
      result = prune()
    } catch (error) {
      onError(error)
      return
    }
    if (!(result instanceof Promise)) return
    pending = true
    result
      .catch((error: unknown) => onError(error))
      .finally(() => {
        pending = false
      })
  }, seconds * 1000)
  unrefTimer(timer)
  return stop
}

/**
 * The default `onPruneError` of a store: a process warning with code `SESSIONWARE_PRUNE_FAILED`
 * (nothing where the runtime has no `process.emitWarning`).
 *
 * @param store - The store's name in the message (`sqlite`, `postgres`).
 */
export function pruneWarning(store: string): (error: unknown) => void {
  return (error) => {
    const detail = error instanceof Error ? error.message : String(error)
    globalThis.process?.emitWarning?.(
      `sessionware ${store} store: automatic prune failed: ${detail}`,
      { code: 'SESSIONWARE_PRUNE_FAILED' },
    )
  }
}
