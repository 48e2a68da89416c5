/**
 * The response hooks of `holdNodeResponse` that many responses share: put once on a prototype
 * (a top-level Express app's `app.response`), so the response itself gets no property, or as the
 * same four own properties of every response. A hooked call finds its response's hold through
 * the request (`res.req`, whose session state keeps it). Part of `sessionware/adapters/kit`
 * (internal).
 *
 * @module
 */
import { sharedHoldOf } from '../../core/request.ts'

/** A response method. */
export type Method = (...args: unknown[]) => unknown

/** What a shared hook passes a call to: the hold of the response it was called on. */
interface SharedHold {
  /** The methods under the prototype hooks it was made for (this copy of the library's). */
  readonly shared: Originals | null
  /** Its response has the shared own hooks ({@link OWN_HOOKS}). */
  readonly ownShared: boolean
  readonly res: object
  hold(index: number, args: unknown[]): unknown
}

/** The hooked methods, by the index node-response.ts gives them. */
const NAMES = ['writeHead', 'write', 'end', 'flushHeaders'] as const

/** On a prototype that has the hooks: the methods it had before (what the hold calls), by index. */
const ORIGINALS: unique symbol = Symbol('sessionware.hold.originals')

/** The four methods, by index. */
export type Originals = readonly [Method, Method, Method, Method]

/** A prototype with the hooks, or a response held through one. */
export type Shared = Record<PropertyKey, unknown> & { [ORIGINALS]?: Originals }

/** The hold that the request of `res` (`res.req`) keeps, if it keeps one. */
function requestHoldOf(res: Shared): Partial<SharedHold> | undefined {
  const req = res.req
  if (typeof req !== 'object' || req === null) return undefined
  return sharedHoldOf(req) as Partial<SharedHold> | undefined
}

/** The hold of `res` made for the hooks `originals` stand under, if its request has one. */
function holdOf(res: Shared, originals: Originals): SharedHold | undefined {
  const hold = requestHoldOf(res)
  // Another copy of the library on the same prototype hooks under (or over) these: its hold is
  // its own hooks' business.
  return hold?.shared === originals ? (hold as SharedHold) : undefined
}

/**
 * Puts the four hooks on `proto`, once: each passes the call to the hold of the response it is
 * called on (found through `res.req`), or straight to the method `proto` had when the response
 * has none. Returns those methods.
 */
export function hookPrototype(proto: Shared): Originals {
  const installed = Object.hasOwn(proto, ORIGINALS) ? proto[ORIGINALS] : undefined
  if (installed !== undefined) return installed
  const originals = NAMES.map((name) => proto[name] as Method) as unknown as Originals
  for (const [index, name] of NAMES.entries()) {
    const original = originals[index] as Method
    function hook(this: Shared, ...args: unknown[]): unknown {
      const hold = holdOf(this, originals)
      return hold === undefined ? original.apply(this, args) : hold.hold(index, args)
    }
    Object.defineProperty(proto, name, { value: hook, configurable: true, writable: true })
  }
  Object.defineProperty(proto, ORIGINALS, { value: originals })
  return originals
}

/** The hold of `res` whose own hooks are {@link OWN_HOOKS}, found through `res.req`. */
function ownHoldOf(res: Shared): SharedHold | undefined {
  const hold = requestHoldOf(res)
  return hold?.ownShared === true && hold.res === res ? (hold as SharedHold) : undefined
}

/** The own hook of method `index` that every response held this way shares. */
function ownHook(index: number, name: (typeof NAMES)[number]): Method {
  return function (this: Shared, ...args: unknown[]): unknown {
    const hold = ownHoldOf(this)
    if (hold !== undefined) return hold.hold(index, args)
    // Its `res.req` was replaced since: the method beneath, from the prototype.
    return (Object.getPrototypeOf(this)[name] as Method).apply(this, args)
  }
}

/**
 * The own hooks every response whose hold `res.req` leads to shares, by method index. A new
 * closure per response as an own property makes V8 tenure the allocation sites of the requests'
 * and responses' objects: 4–6 % of a request's CPU, measured (decisions/006, fifteenth session).
 */
export const OWN_HOOKS: readonly Method[] = NAMES.map((name, index) => ownHook(index, name))
