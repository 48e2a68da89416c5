/**
 * The package as users get it: the built dist packed by `npm pack`, installed from the tarball in a
 * fresh project (with its one dependency, cookie, from the npm cache or the registry, and none of
 * the optional peers), then every subpath of `exports` loaded with `import` and with `require`
 * (Node 20.19+ loads ES modules with require), `npx sessionware keygen` run, and the tarball
 * linted by publint (`--strict`) and @arethetypeswrong/cli.
 *
 * attw runs with the `esm-only` profile: sessionware is ESM-only by decision (DESIGN §8.7), so the
 * two CommonJS views attw would otherwise grade, `node10` (no `exports` support at all) and
 * `node16-cjs` (where TypeScript's bundled version still calls `require` of an ES module an error),
 * are not targets; `require` itself is proved here, at run time, on Node 20.
 *
 * When the registry cannot be reached and cookie is not in the npm cache, the install tests skip
 * loudly; with SESSIONWARE_REQUIRE_SERVICES=1 (CI) they fail.
 */
import assert from 'node:assert/strict'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ChildResult, childEnv, runChild } from '../support/run-child.ts'
import { servicesRequired } from '../support/services.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  name: string
  exports: Record<string, unknown>
  peerDependencies: Record<string, string>
}
const specifiers = Object.keys(pkg.exports).map((subpath) =>
  subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`,
)

/**
 * Subpaths that import an optional peer when loaded, and that peer: without it they fail with
 * ERR_MODULE_NOT_FOUND naming it, and with it they load.
 */
const PEER_AT_IMPORT: Readonly<Record<string, string>> = {
  'sessionware/stores/sqlite': 'better-sqlite3',
}

/** What npm prints when it needed the network and had none. */
const OFFLINE =
  /\b(?:ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|ENOTCACHED)\b/

const dir = mkdtempSync(join(tmpdir(), 'sessionware-install-'))
const project = join(dir, 'project')
after(() => rmSync(dir, { recursive: true, force: true }))

/** Runs a command for these tests (npm, npx, node, the linters), bounded in time. */
function run(command: string, args: string[], cwd: string, timeoutMs = 120_000) {
  return runChild(command, args, { cwd, env: childEnv(), timeoutMs })
}

function ok(result: ChildResult, what: string): void {
  assert.equal(result.timedOut, false, `${what} timed out`)
  assert.equal(result.code, 0, `${what} exited ${result.code}:\n${result.output.slice(-4000)}`)
}

let tarball = ''
/** Why the project could not be installed for want of the network, if so. */
let offline: string | null = null

/** Skips loudly when the install needed the network and had none (fails when CI requires it). */
function installed(t: TestContext): boolean {
  if (offline === null) return true
  const reason = `npm could not install the tarball's dependencies offline: ${offline}`
  if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
  process.stderr.write(`\n  SKIPPED: ${reason}\n`)
  t.skip(reason)
  return false
}

/** A script run in the project that loads every specifier and prints what each gave. */
function loader(kind: 'import' | 'require'): string {
  const load =
    kind === 'import'
      ? `(specifier) => specifier.endsWith('/package.json') ? import(specifier, { with: { type: 'json' } }) : import(specifier)`
      : `async (specifier) => require(specifier)`
  return `${kind === 'require' ? "const require = (await import('node:module')).createRequire(import.meta.url)\n" : ''}const load = ${load}
const out = {}
for (const specifier of ${JSON.stringify(specifiers)}) {
  try {
    const module = await load(specifier)
    out[specifier] = Object.keys(module).sort()
  } catch (error) {
    out[specifier] = { code: error.code, message: String(error.message).split('\\n')[0] }
  }
}
console.log(JSON.stringify(out))
`
}

describe('the packed package, installed in a fresh project', { concurrency: true }, () => {
  before(async () => {
    assert.ok(existsSync(`${root}dist/index.js`), 'dist is built (npm run build)')
    const packed = await run(
      'npm',
      ['pack', '--json', '--ignore-scripts', '--pack-destination', dir],
      root,
    )
    ok(packed, 'npm pack')
    const [info] = JSON.parse(packed.output.slice(packed.output.indexOf('['))) as {
      filename: string
    }[]
    tarball = join(dir, (info as { filename: string }).filename)
    mkdirSync(project)
    writeFileSync(
      join(project, 'package.json'),
      JSON.stringify({ name: 'sessionware-install-check', private: true, type: 'module' }),
    )
    const install = await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', tarball],
      project,
    )
    if (install.code !== 0 && OFFLINE.test(install.output)) {
      offline = OFFLINE.exec(install.output)?.[0] ?? 'network error'
      return
    }
    ok(install, 'npm install of the tarball')
  })

  it('installs the package and cookie, and no optional peer', (t) => {
    if (!installed(t)) return
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, unknown>
    }
    const names = Object.keys(lock.packages)
      .filter((path) => path !== '')
      .map((path) => path.replace(/^node_modules\//, ''))
      .sort()
    assert.deepEqual(names, ['cookie', 'sessionware'])
  })

  it('imports every subpath of exports', async (t) => {
    if (!installed(t)) return
    writeFileSync(join(project, 'import.mjs'), loader('import'))
    const result = await run(process.execPath, ['import.mjs'], project)
    ok(result, 'the import script')
    assertLoaded(JSON.parse(result.output.trim().split('\n').at(-1) as string))
  })

  it('requires every subpath of exports (require of ES modules, Node 20.19+)', async (t) => {
    if (!installed(t)) return
    writeFileSync(join(project, 'require.mjs'), loader('require'))
    const result = await run(process.execPath, ['--no-warnings', 'require.mjs'], project)
    ok(result, 'the require script')
    assertLoaded(JSON.parse(result.output.trim().split('\n').at(-1) as string))
  })

  it('loads a subpath that needs an optional peer once the peer is installed', async (t) => {
    if (!installed(t)) return
    // A copy of the project (the other tests run at the same time, without the peers), with the
    // repository's own copy of each peer linked in (its native build is for the Node running this).
    const copy = join(dir, 'with-peers')
    cpSync(project, copy, { recursive: true })
    for (const peer of Object.values(PEER_AT_IMPORT)) {
      symlinkSync(join(root, 'node_modules', peer), join(copy, 'node_modules', peer), 'dir')
    }
    const script = `for (const specifier of ${JSON.stringify(Object.keys(PEER_AT_IMPORT))}) {
  const module = await import(specifier)
  console.log(specifier, Object.keys(module).length)
}`
    writeFileSync(join(copy, 'peers.mjs'), script)
    const result = await run(process.execPath, ['peers.mjs'], copy)
    ok(result, 'the peer import script')
    for (const specifier of Object.keys(PEER_AT_IMPORT)) {
      assert.match(result.output, new RegExp(`^${specifier} [1-9]`, 'm'))
    }
  })

  it('runs npx sessionware keygen', async (t) => {
    if (!installed(t)) return
    const result = await run('npx', ['--no', 'sessionware', 'keygen'], project)
    ok(result, 'npx sessionware keygen')
    assert.match(result.output, /^[A-Za-z0-9_-]{43}\n$/)
  })

  it('passes publint --strict', async () => {
    const result = await run(`${root}node_modules/.bin/publint`, ['run', tarball, '--strict'], dir)
    ok(result, 'publint')
    assert.match(result.output, /All good!/)
  })

  it('passes @arethetypeswrong/cli (esm-only profile)', async () => {
    const result = await run(
      `${root}node_modules/.bin/attw`,
      [tarball, '--profile', 'esm-only', '--format', 'json'],
      dir,
    )
    const report = JSON.parse(result.output.slice(result.output.indexOf('{'))) as {
      problems?: Record<string, { resolutionKind?: string; entrypoint?: string }[]>
    }
    const counted = Object.values(report.problems ?? {})
      .flat()
      .filter((problem) => !['node10', 'node16-cjs'].includes(problem.resolutionKind ?? ''))
    assert.deepEqual(counted, [], 'problems outside the two CommonJS views esm-only leaves out')
    ok(result, 'attw')
  })
})

/** Every subpath loaded with exports, except those waiting for their optional peer. */
function assertLoaded(out: Record<string, string[] | { code: string; message: string }>): void {
  assert.deepEqual(Object.keys(out), specifiers)
  for (const specifier of specifiers) {
    const got = out[specifier]
    const peer = PEER_AT_IMPORT[specifier]
    if (peer !== undefined) {
      assert.ok(!Array.isArray(got) && got !== undefined, `${specifier} needs ${peer}`)
      assert.equal(got.code, 'ERR_MODULE_NOT_FOUND', specifier)
      assert.ok(got.message.includes(`'${peer}'`), `${specifier}: ${got.message}`)
      assert.ok(peer in pkg.peerDependencies, `${peer} is a declared peer`)
    } else {
      assert.ok(Array.isArray(got), `${specifier}: ${JSON.stringify(got)}`)
      assert.ok(got.length > 0, `${specifier} exports something`)
    }
  }
}
