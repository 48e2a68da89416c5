/**
 * The server storage options a Python layout store needs (aiohttp-session's or starsessions'
 * Redis, aiohttp-session's memcached): ids as the Python libraries make them, stored as they are,
 * and values in Python's JSON. Re-exported by `sessionware/stores/aiohttp-redis`,
 * `sessionware/stores/aiohttp-memcached` and `sessionware/stores/starsessions-redis`.
 *
 * @module
 */

import { randomBytes } from 'node:crypto'
import { pythonJsonSerializer } from '../compat/serializers.ts'
import type { Serializer } from '../core/types.ts'

export { pythonJsonSerializer }

/**
 * A new session id as starsessions makes it (`secrets.token_hex(16)`): 32 lowercase hex digits of
 * 16 CSPRNG bytes. aiohttp-session's default `uuid4().hex` has the same form (with 122 random
 * bits); aiohttp-session takes any id, so both Python libraries read these.
 */
export function pythonSessionId(): string {
  return randomBytes(16).toString('hex')
}

/**
 * Spread into `createServerStorage` with a Python layout store: `hashIds: false` (the Python
 * library looks sessions up by the id in the cookie), `generateId: pythonSessionId` and
 * `serializer: pythonJsonSerializer` (each stored value as Python's `json.dumps` writes it, so the
 * session a layout store writes is byte for byte what the Python library writes for the same
 * data). `aiohttpCompat({ store })` and `starsessionsCompat({ store })` of `sessionware/compat`
 * apply it for you.
 *
 * @example
 * ```ts
 * const storage = createServerStorage({ store, ...pythonServerStorageOptions })
 * ```
 */
export const pythonServerStorageOptions: {
  readonly hashIds: false
  readonly generateId: () => string
  readonly serializer: Serializer
} = Object.freeze({
  hashIds: false,
  generateId: pythonSessionId,
  serializer: pythonJsonSerializer,
})
