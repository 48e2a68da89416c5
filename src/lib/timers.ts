/**
 * Internal: the timer limits and the unref helper shared by the stores' background timers (sweep,
 * prune) and per-call timeouts. Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/** The largest timer delay, in milliseconds, that timers accept without clamping it to 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647

/** Lets the process exit while the timer is pending: Node and Bun have `unref()`, Deno a function. */
export function unrefTimer(timer: ReturnType<typeof setInterval>): void {
  if (typeof timer === 'object' && timer !== null && typeof timer.unref === 'function') {
    timer.unref()
    return
  }
  const deno = (globalThis as { Deno?: { unrefTimer?: (id: number) => void } }).Deno
  deno?.unrefTimer?.(timer as unknown as number)
}
