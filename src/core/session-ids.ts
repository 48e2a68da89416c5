/**
 * Session ids of server storage and their handles: the format every id must have, the default
 * generator, the SHA-256 that makes an id the key a store keeps its record under, and a small
 * cache of that hash for the ids a process has just served. Internal.
 *
 * @module
 */
import * as crypto from 'node:crypto'
import { SlotCache, slotCount } from './slot-cache.ts'

/** What every session id looks like: 22 to 256 characters a cookie and a URL keep as they are. */
export const ID_FORMAT: RegExp = /^[A-Za-z0-9\-_.~]{22,256}$/

/** 24 random bytes (192 bits) from node:crypto, base64url (32 characters). */
export function defaultId(): string {
  return crypto.randomBytes(24).toString('base64url')
}

/** One-shot `crypto.hash` (Node 20.12+, Bun, Deno) allocates no Hash object per call: measured faster. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string, encoding: string) => string })
  .hash

/** The SHA-256 of an id, base64url: the key its record is kept under (`hashIds`). */
function hashId(id: string): string {
  if (oneShot) return oneShot('sha256', id, 'base64url')
  return crypto.createHash('sha256').update(id).digest('base64url')
}

/**
 * Turns ids into handles: the id itself, or its hash (`hashIds`), remembered for the ids this
 * process issued or found a record for. A remembered id skips the format check and the hash
 * (about 0.5 µs of node:crypto per request, most of it the call rather than SHA-256). Another id,
 * whatever a client sends, is checked and hashed each time and never remembered, so the cache
 * holds only ids of live sessions and nobody can fill it with their own.
 */
export class IdHandles {
  readonly #hashed: boolean
  readonly #cache: SlotCache<string> | undefined

  /** `size`: how many ids keep their hash (0: none); unused without `hashed`. */
  constructor(hashed: boolean, size: number) {
    slotCount(size, 'createServerStorage: idCacheSize')
    this.#hashed = hashed
    this.#cache = hashed && size > 0 ? new SlotCache<string>(size) : undefined
  }

  /** The handle of an id this process remembers; `undefined` for any other. */
  known(id: string): string | undefined {
    return this.#cache?.get(id)
  }

  /** The handle of an id from a request, worked out; `undefined` when it is not an id at all. */
  check(id: string): string | undefined {
    if (!ID_FORMAT.test(id)) return undefined
    return this.#hashed ? hashId(id) : id
  }

  /** The handle of an id just made, which is also remembered. */
  issued(id: string): string {
    if (!this.#hashed) return id
    const handle = hashId(id)
    this.#cache?.set(id, handle)
    return handle
  }

  /** Remembers the handle of an id whose record a store just gave. */
  found(id: string, handle: string): void {
    this.#cache?.set(id, handle)
  }
}
