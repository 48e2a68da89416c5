/**
 * Internal to cookie and server storage: a small cache of values computed from request text (what
 * a cookie decoded to, the hash of a session id), so that a value seen again skips the work (a
 * decryption, an HMAC check, a SHA-256).
 *
 * It is direct-mapped: a text has one slot, chosen from its length and its last characters, and a
 * newer text takes the slot of an older one. Cookie values end in a MAC, tag or signature (every
 * codec but the plain one), so these characters are random and the slots evenly used. A lookup
 * reads a few characters and, only when their hash is the one its slot holds, compares the text
 * with the one in the slot; it never hashes the whole text, which would cost more than the work
 * it saves on a miss (a `Map` keyed by 200-character cookie values: about 0.5 µs per lookup and
 * 0.6 µs to insert and evict).
 *
 * Anyone can send a text of their choice, so the slots are chosen with a random seed of the
 * process: a sender cannot aim at the slot holding another user's cookie, and the
 * comparison that follows (an ordinary string comparison, whose time depends on where the texts
 * first differ, by fractions of a nanosecond) is with a value they cannot choose, as in a hash
 * table with a seeded hash. (A comparison in constant time instead cost 0.6 µs per request on
 * 200-character cookies, about 1.5% of a loaded server's request.)
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { SessionConfigError } from '../errors.ts'

/** The most slots a cache may have (they are allocated up front). */
const MAX_SLOTS = 1_048_576

/**
 * `value`, an option giving a cache's number of slots, once it is checked to be an integer from 0
 * to 1,048,576; `option` names it in the error (`'createCookieStorage: cacheSize'`).
 *
 * @throws {SessionConfigError} otherwise.
 */
export function slotCount(value: number, option: string): number {
  if (!Number.isSafeInteger(value) || value < 0 || value > MAX_SLOTS) {
    throw new SessionConfigError(
      `${option} must be an integer from 0 to ${MAX_SLOTS}. Received: ${String(value)}`,
    )
  }
  return value
}

/** How many characters from the end of a text choose its slot. */
const TAIL = 6

/** Values by the exact text they were computed from, at most `size` of them. */
export class SlotCache<V> {
  readonly #size: number
  readonly #seed = crypto.getRandomValues(new Int32Array(1))[0] as number
  readonly #texts: Array<string | undefined>
  readonly #values: Array<V | undefined>
  /**
   * The whole hash of each slot's text, of which the slot is only the remainder: a text that
   * lands on another's slot is told from it by this number, with no string comparison (which
   * cost about 500 instructions per miss on 400-character cookies that share their first
   * characters, the key id).
   */
  readonly #hashes: Int32Array

  /** `size`: the number of slots, a positive safe integer. */
  constructor(size: number) {
    this.#size = size
    this.#texts = new Array<string | undefined>(size).fill(undefined)
    this.#values = new Array<V | undefined>(size).fill(undefined)
    this.#hashes = new Int32Array(size)
  }

  /** The hash of `text`, from its length and its last characters. */
  #hash(text: string): number {
    const length = text.length
    let hash = this.#seed ^ length
    for (let i = length < TAIL ? length : TAIL; i > 0; i--) {
      hash = Math.imul(hash ^ text.charCodeAt(length - i), 0x01000193)
    }
    return hash
  }

  /** The value computed from `text`, when it is still cached. */
  get(text: string): V | undefined {
    const hash = this.#hash(text)
    const slot = (hash >>> 0) % this.#size
    if (this.#hashes[slot] !== hash) return undefined
    return this.#texts[slot] === text ? this.#values[slot] : undefined
  }

  /** Remembers the value computed from `text`, in place of the one that had its slot. */
  set(text: string, value: V): void {
    const hash = this.#hash(text)
    const slot = (hash >>> 0) % this.#size
    this.#texts[slot] = text
    this.#values[slot] = value
    this.#hashes[slot] = hash
  }
}
