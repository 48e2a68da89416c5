/**
 * Internal: a synchronous `require()` for optional peer packages (native addons, pure-JS
 * fallbacks). No top-level await, so a module using it also loads through `require(esm)`; a
 * runtime without `require()` (Workers) gets an error to keep, not a failed import. Never
 * exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/**
 * A synchronous `require` relative to this file, where the runtime has one (Node, Bun, Deno).
 *
 * @throws when the runtime has no `process.getBuiltinModule('node:module').createRequire`.
 */
export function localRequire(): (specifier: string) => unknown {
  const getBuiltinModule = (
    globalThis as { process?: { getBuiltinModule?: (name: string) => unknown } }
  ).process?.getBuiltinModule
  const nodeModule =
    typeof getBuiltinModule === 'function'
      ? (getBuiltinModule('node:module') as
          | { createRequire?: (from: string) => (specifier: string) => unknown }
          | undefined)
      : undefined
  if (typeof nodeModule?.createRequire !== 'function') {
    throw new Error('this runtime has no require() (process.getBuiltinModule("node:module"))')
  }
  return nodeModule.createRequire(import.meta.url)
}

/**
 * Loads `specifier` (with `load`, a `require`) and builds a back end from it when it has a function under every name in
 * `needs`. Nothing here throws: a package that is missing, cannot load in this runtime, or lacks
 * a function leaves its error instead.
 */
export function loadOptional<M, B>(
  load: (specifier: string) => unknown,
  specifier: string,
  needs: readonly string[],
  build: (module: M) => B,
): B | { readonly error: unknown } {
  try {
    const loaded = load(specifier) as Record<string, unknown> | undefined
    const missing = needs.filter((name) => typeof loaded?.[name] !== 'function')
    if (missing.length > 0) throw new Error(`${specifier} lacks ${missing.join(', ')}`)
    return build(loaded as M)
  } catch (error) {
    return { error }
  }
}
