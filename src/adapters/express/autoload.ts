/**
 * Which requests the Express adapter loads the session for before the route runs (its `autoload`
 * option). Internal to `sessionware/adapters/express`.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import { SessionConfigError } from '../../errors.ts'

/**
 * A path and everything under it (a string starting with `/`, compared in any case, as Express
 * routes by default), or a RegExp tested against the path.
 */
export type AutoloadPattern = string | RegExp

/** The path of a request below its mount point: Express's `req.path`, else the URL's path. */
function pathOf(req: IncomingMessage): string {
  const path = (req as { path?: unknown }).path
  if (typeof path === 'string') return path
  const url = req.url ?? '/'
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/**
 * A test of whether a request's session is loaded eagerly, or undefined when none is.
 *
 * @throws {SessionConfigError} for a pattern that is neither a string starting with `/` nor a
 * RegExp.
 */
export function autoloadMatcher(
  autoload: boolean | AutoloadPattern | readonly AutoloadPattern[] | undefined,
): ((req: IncomingMessage) => boolean) | undefined {
  if (autoload === undefined || autoload === false) return undefined
  if (autoload === true) return () => true
  const prefixes: string[] = []
  const expressions: RegExp[] = []
  for (const pattern of Array.isArray(autoload) ? autoload : [autoload]) {
    if (pattern instanceof RegExp) {
      // Without the g and y flags, test() keeps no state between requests.
      expressions.push(new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')))
    } else if (typeof pattern === 'string' && pattern.startsWith('/')) {
      prefixes.push(pattern.toLowerCase().replace(/\/+$/, ''))
    } else {
      throw new SessionConfigError(
        `autoload patterns must be paths starting with "/" or RegExps. Received: ${String(pattern)}`,
      )
    }
  }
  return (req) => {
    const path = pathOf(req)
    const lower = path.toLowerCase()
    for (const prefix of prefixes) {
      if (
        lower.startsWith(prefix) &&
        (lower.length === prefix.length || lower[prefix.length] === '/')
      ) {
        return true
      }
    }
    return expressions.some((expression) => expression.test(path))
  }
}
