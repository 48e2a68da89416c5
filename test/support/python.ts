/**
 * Running the real Python seed libraries (Debian's packages, under Debian's /usr/bin/python3) as
 * peers in tests: a script gets JSON on stdin and prints JSON on stdout. A test whose interpreter
 * or module is missing skips loudly; with SESSIONWARE_REQUIRE_SERVICES=1 (CI) it fails instead.
 *
 * Not part of the package.
 *
 * @module
 */
import { spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import type { TestContext } from 'node:test'
import { servicesRequired } from './services.ts'

/**
 * Debian's interpreter: the python3-* packages install for it alone (another python3 earlier on
 * PATH, such as a pyenv one, would not see them).
 */
export const PYTHON = '/usr/bin/python3'

/** The Debian package that provides each module the tests import. */
const PACKAGES: Readonly<Record<string, string>> = {
  cryptography: 'python3-cryptography',
  itsdangerous: 'python3-itsdangerous',
  jwt: 'python3-jwt',
  nacl: 'python3-nacl',
  aiohttp: 'python3-aiohttp',
  aiohttp_session: 'python3-aiohttp-session',
  starlette: 'python3-starlette',
  httpx: 'python3-httpx',
  redis: 'python3-redis',
  pymemcache: 'python3-pymemcache',
}

const found = new Map<string, boolean>()

function importable(module: string): boolean {
  let ok = found.get(module)
  if (ok === undefined) {
    ok =
      existsSync(PYTHON) &&
      spawnSync(PYTHON, ['-c', `import ${module}`], { encoding: 'utf8', timeout: 20_000 })
        .status === 0
    found.set(module, ok)
  }
  return ok
}

/**
 * True when every module imports under {@link PYTHON}; otherwise skips the test loudly and returns
 * false (or throws when services are required).
 */
export function requirePython(t: TestContext, ...modules: string[]): boolean {
  const missing = modules.filter((module) => !importable(module))
  if (missing.length === 0) return true
  const install = missing.map((module) => PACKAGES[module] ?? `python3-${module}`).join(' ')
  const reason = `${PYTHON} cannot import ${missing.join(', ')} (install: apt-get install ${install})`
  if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
  process.stderr.write(`\n  SKIPPED: ${reason}\n`)
  t.skip(reason)
  return false
}

/**
 * Runs `script` under {@link PYTHON} with `input` as JSON on stdin and returns what it printed on
 * stdout, parsed as JSON. The script reads `sys.stdin` and prints one JSON document. Bounded: 20 s.
 *
 * @throws with the script's stderr when it exits non-zero.
 */
export function runPython<T = unknown>(script: string, input: unknown = null): T {
  const run = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    timeout: 20_000,
  })
  if (run.status !== 0) {
    throw new Error(`python exited with ${run.status}: ${run.stderr || run.error?.message}`)
  }
  return JSON.parse(run.stdout) as T
}
