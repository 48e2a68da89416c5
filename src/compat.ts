/**
 * Sharing sessions with the Python seeds: one-line presets for aiohttp-session, starsessions,
 * Starlette's `SessionMiddleware` (and FastAPI) and asgi-sessions, each returning the options of
 * `createSessions` (cookie name and attributes, cookie encoding, codec, envelope, serializer,
 * timeouts, store layout), and the parts they are made of for custom setups.
 *
 * Subpath: `sessionware/compat`.
 *
 * @example
 * ```ts
 * import { createSessions } from 'sessionware'
 * import { starletteCompat } from 'sessionware/compat'
 *
 * const sessions = createSessions(starletteCompat({ secret: process.env.SECRET_KEY! }))
 * ```
 *
 * @module
 */
export { type AiohttpCompatOptions, aiohttpCompat } from './compat/aiohttp.ts'
export { type AsgiSessionsCompatOptions, asgiSessionsCompat } from './compat/asgi-sessions.ts'
export {
  aiohttpEnvelope,
  plainEnvelope,
  type StarsessionsEnvelopeOptions,
  starsessionsEnvelope,
} from './compat/envelopes.ts'
export { asgiFernetKey, type KeyInput } from './compat/keys.ts'
export { compactJsonSerializer, pythonJsonSerializer } from './compat/serializers.ts'
export { type StarletteCompatOptions, starletteCompat } from './compat/starlette.ts'
export { type StarsessionsCompatOptions, starsessionsCompat } from './compat/starsessions.ts'
export { PythonFloat } from './lib/python-json.ts'
export { pythonServerStorageOptions, pythonSessionId } from './stores/python-storage-options.ts'
