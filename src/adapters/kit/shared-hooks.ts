/**
 * The response hooks of `holdNodeResponse` put once on a prototype that many responses share (a
 * top-level Express app's `app.response`), with each response's hold in one symbol property.
 * Part of `sessionware/adapters/kit` (internal).
 *
 * @module
 */

/** A response method. */
export type Method = (...args: unknown[]) => unknown

/** What a shared hook passes a call to: the hold of the response it was called on. */
interface SharedHold {
  hold(index: number, args: unknown[]): unknown
}

/** The hooked methods, by the index node-response.ts gives them. */
const NAMES = ['writeHead', 'write', 'end', 'flushHeaders'] as const

/** On a prototype that has the hooks: the methods it had before (what the hold calls), by index. */
const ORIGINALS: unique symbol = Symbol('sessionware.hold.originals')
/** On a response held through its prototype: its hold. */
export const HELD: unique symbol = Symbol('sessionware.hold')

/** The four methods, by index. */
export type Originals = readonly [Method, Method, Method, Method]

/** A prototype with the hooks, or a response held through one. */
export type Shared = Record<PropertyKey, unknown> & { [ORIGINALS]?: Originals }

/**
 * Puts the four hooks on `proto`, once: each passes the call to the hold of the response it is
 * called on (`this[HELD]`), or straight to the method `proto` had when the response has none.
 * Returns those methods.
 */
export function hookPrototype(proto: Shared): Originals {
  const installed = Object.hasOwn(proto, ORIGINALS) ? proto[ORIGINALS] : undefined
  if (installed !== undefined) return installed
  const originals = NAMES.map((name) => proto[name] as Method) as unknown as Originals
  for (const [index, name] of NAMES.entries()) {
    const original = originals[index] as Method
    function hook(this: Shared, ...args: unknown[]): unknown {
      const hold = this[HELD] as SharedHold | undefined
      return hold === undefined ? original.apply(this, args) : hold.hold(index, args)
    }
    Object.defineProperty(proto, name, { value: hook, configurable: true, writable: true })
  }
  Object.defineProperty(proto, ORIGINALS, { value: originals })
  return originals
}
