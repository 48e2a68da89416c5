/**
 * Internal: random IVs and nonces cut from a pool of CSPRNG bytes, shared by the codecs that seal
 * with a random IV per value (sealed, fernet, the AES-GCM layouts). Never exported from the
 * package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

import { randomBytes } from 'node:crypto'

/**
 * A source of fresh random `size`-byte values, cut from a pool refilled `count` values at a time:
 * each byte is handed out once, and a refill allocates a new buffer, so a value already handed out
 * never changes. Measured on a 2-core VM: a `randomBytes(12)` per seal cost about 16 µs, more than
 * the whole seal of a small value with a pooled IV.
 */
export function randomPool(size: number, count: number): () => Buffer {
  let pool: Buffer = Buffer.alloc(0)
  let offset = 0
  return () => {
    if (offset + size > pool.length) {
      pool = randomBytes(size * count)
      offset = 0
    }
    const value = pool.subarray(offset, offset + size)
    offset += size
    return value
  }
}
