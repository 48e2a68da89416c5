/**
 * Internal to the network stores: the per-call timeout of a store whose calls all share one
 * duration, with one timer for all of them instead of one per call. Calls that share a duration
 * reach their deadlines in the order they started, so the calls in flight form a queue, oldest
 * first, and a single timer armed for the oldest one's deadline is enough: a call that settles
 * leaves the queue at once (so nothing outlives its call), and the timer is cleared whenever the
 * queue empties (so an idle process can exit, as with a timer per call).
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/** One call in flight: a node of the queue. */
interface Call {
  readonly deadline: number
  readonly operation: string
  readonly reject: (error: Error) => void
  previous: Call | undefined
  next: Call | undefined
}

/** The calls in flight of one store, all bounded by the same timeout. */
export interface Deadlines {
  /**
   * Settles with `map` of what `work()` resolves to, or rejects like `work()` (a synchronous throw
   * included), or rejects with `onTimeout(operation)` once the timeout has passed without `work`
   * settling. The work itself is not cancelled: after a timeout it settles unobserved.
   */
  run<T, R>(operation: string, work: () => Promise<T>, map: (value: T) => R): Promise<R>
}

/**
 * The deadlines of calls bounded by `ms` milliseconds (a positive integer). The timer is not
 * unref'd: a pending call keeps the process alive until it settles or times out.
 */
export function createDeadlines(ms: number, onTimeout: (operation: string) => Error): Deadlines {
  let oldest: Call | undefined
  let newest: Call | undefined
  let timer: ReturnType<typeof setTimeout> | undefined

  /** Takes a call out of the queue; false when it already left it (it timed out). */
  const leave = (call: Call): boolean => {
    const { previous, next } = call
    if (previous === undefined && oldest !== call) return false
    if (previous === undefined) oldest = next
    else previous.next = next
    if (next === undefined) newest = previous
    else next.previous = previous
    call.previous = undefined
    call.next = undefined
    if (oldest === undefined && timer !== undefined) {
      clearTimeout(timer)
      timer = undefined
    }
    return true
  }

  /** Rejects every call past its deadline, then waits for the next one's. */
  const expire = (): void => {
    timer = undefined
    const now = performance.now()
    while (oldest !== undefined && oldest.deadline <= now) {
      const call = oldest
      leave(call)
      call.reject(onTimeout(call.operation))
    }
    if (oldest !== undefined) timer = setTimeout(expire, Math.ceil(oldest.deadline - now))
  }

  const enter = (operation: string, reject: (error: Error) => void): Call => {
    const call: Call = {
      deadline: performance.now() + ms,
      operation,
      reject,
      previous: newest,
      next: undefined,
    }
    if (newest === undefined) oldest = call
    else newest.next = call
    newest = call
    timer ??= setTimeout(expire, ms)
    return call
  }

  return {
    run<T, R>(operation: string, work: () => Promise<T>, map: (value: T) => R): Promise<R> {
      return new Promise<R>((resolve, reject) => {
        const call = enter(operation, reject)
        let pending: Promise<T>
        try {
          pending = work()
        } catch (error) {
          leave(call)
          reject(error)
          return
        }
        pending.then(
          (value) => {
            if (!leave(call)) return
            try {
              resolve(map(value))
            } catch (error) {
              reject(error)
            }
          },
          (error: unknown) => {
            if (leave(call)) reject(error)
          },
        )
      })
    },
  }
}
