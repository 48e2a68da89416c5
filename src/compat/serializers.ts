/**
 * The Python seeds' JSON, as serializers for cookie storage: `pythonJsonSerializer` (aiohttp-session,
 * starsessions, Starlette: `json.dumps` defaults) and `compactJsonSerializer` (asgi-sessions:
 * `","`/`":"` separators, raw UTF-8). Both read any JSON plus Python's `NaN`/`Infinity`, keep the
 * order of integer-like keys, and drop `__proto__` keys. Part of `sessionware/compat`.
 *
 * @module
 */
import type { Serializer } from '../core/types.ts'
import { pythonJsonStringify } from '../lib/python-json.ts'
import { pythonJsonParse } from '../lib/python-json-parse.ts'

/** JSON as Python's `json.dumps(value)` writes it, byte for byte. */
export const pythonJsonSerializer: Serializer = Object.freeze({
  stringify: (value: unknown): string => pythonJsonStringify(value),
  parse: pythonJsonParse,
})

/** JSON as asgi-sessions writes it: `json.dumps(value, ensure_ascii=False, separators=(",", ":"))`. */
export const compactJsonSerializer: Serializer = Object.freeze({
  stringify: (value: unknown): string => pythonJsonStringify(value, { pythonDefaults: false }),
  parse: pythonJsonParse,
})
