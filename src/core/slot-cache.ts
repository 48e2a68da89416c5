/**
 * Internal to the storages: a small cache of values computed from request text, such as what a
 * cookie decoded to (cookie storage) or the store key of a session id (server storage), so that a
 * value seen again skips the work (a decryption, an HMAC check, a SHA-256).
 *
 * It is direct-mapped: a text has one slot, chosen from its length and its last characters, and a
 * newer text takes the slot of an older one. Cookie values end in a MAC, tag or signature (every
 * codec but the plain one) and session ids are random, so these characters are random and the
 * slots evenly used. A lookup reads a few characters and compares the text with the one in its
 * slot; it never hashes the whole text, which would cost more than the work it saves on a miss (a
 * `Map` keyed by 200-character cookie values: about 0.5 µs per lookup and 0.6 µs to insert and
 * evict).
 *
 * The comparison takes the same time wherever the texts differ: anyone can choose the slot their
 * text lands in, so an early-exit comparison would time how much of another user's cookie or
 * session id they have guessed.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/** How many characters from the end of a text choose its slot. */
const TAIL = 6

/** Whether `a` and `b` are the same text, in a time that depends on their length alone. */
function sameText(a: string, b: string): boolean {
  const length = a.length
  if (b.length !== length) return false
  let difference = 0
  for (let i = 0; i < length; i++) difference |= a.charCodeAt(i) ^ b.charCodeAt(i)
  return difference === 0
}

/** Values by the exact text they were computed from, at most `size` of them. */
export class SlotCache<V> {
  readonly #size: number
  readonly #texts: Array<string | undefined>
  readonly #values: Array<V | undefined>

  /** `size`: the number of slots, a positive safe integer. */
  constructor(size: number) {
    this.#size = size
    this.#texts = new Array<string | undefined>(size).fill(undefined)
    this.#values = new Array<V | undefined>(size).fill(undefined)
  }

  /** The slot of `text`. */
  #slot(text: string): number {
    const length = text.length
    let hash = length
    for (let i = length < TAIL ? length : TAIL; i > 0; i--) {
      hash = Math.imul(hash ^ text.charCodeAt(length - i), 0x01000193)
    }
    return (hash >>> 0) % this.#size
  }

  /** The value computed from `text`, when it is still cached. */
  get(text: string): V | undefined {
    const slot = this.#slot(text)
    const cached = this.#texts[slot]
    return cached !== undefined && sameText(cached, text) ? this.#values[slot] : undefined
  }

  /** Remembers the value computed from `text`, in place of the one that had its slot. */
  set(text: string, value: V): void {
    const slot = this.#slot(text)
    this.#texts[slot] = text
    this.#values[slot] = value
  }
}
