/**
 * The core, codec and Fetch adapter tests, run again on the other runtimes sessionware supports:
 * Bun, Deno and Node 24 (`npm test` itself runs on Node 20). Each runtime runs the same node:test
 * files in a child process with its own test runner (`bun test` and `deno test` run node:test
 * files; Node 24 loads the `.ts` files with its built-in type stripping, no tsx), and this test
 * passes when every file ran and no test failed. A runtime that is missing skips loudly; with
 * SESSIONWARE_REQUIRE_SERVICES=1 (CI) it fails instead.
 *
 * Where the runtimes come from: Bun and Deno are dev dependencies (node_modules/.bin); Node 24 is
 * not (its bin is named `node` and would shadow Node 20 in npm scripts), so .ci/run installs it
 * under .cache/node24, and SESSIONWARE_NODE24 may name another Node 24 binary.
 *
 * Excluded: no file. Tests that need better-sqlite3 (a NAN addon: Bun cannot load it, Deno loads
 * Node-API addons only, and the build in node_modules is for Node 20's ABI) live in test/stores,
 * which is not run here. sodium-native is a Node-API addon and loads on every runtime here.
 *
 * Deno runs with `--no-check`: the types are checked once, by `npm run typecheck`, with the
 * project's TypeScript; Deno's bundled TypeScript and lib would check them a second time,
 * differently.
 */
import assert from 'node:assert/strict'
import { existsSync, readdirSync } from 'node:fs'
import { describe, it, type TestContext } from 'node:test'
import { fileURLToPath } from 'node:url'
import { type ChildResult, childEnv, runChild } from '../support/run-child.ts'
import { servicesRequired } from '../support/services.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))

/** The test files run on every runtime, relative to the root, in a stable order. */
const FILES: readonly string[] = [
  ...['test/core', 'test/codecs'].flatMap((dir) =>
    readdirSync(`${root}${dir}`)
      .filter((name) => name.endsWith('.test.ts'))
      .sort()
      .map((name) => `${dir}/${name}`),
  ),
  'test/adapters/fetch.test.ts',
  // node:http and Express on the runtime's own node:http: Bun and Deno keep the full hold.
  'test/adapters/light-hold.test.ts',
]

/** Bound on one runtime's whole run (the slowest takes about 30 s on two cores). */
const RUN_TIMEOUT_MS = 240_000

/** What a runtime's test runner reported. */
interface Outcome {
  readonly passed: number
  readonly failed: number
  /** The test files the runner says it ran, relative to the root (null: it does not say). */
  readonly files: readonly string[] | null
}

/** One runtime: where its binary is, how to run the files, how to read its summary. */
interface Runtime {
  readonly name: string
  /** The binary, or why it is missing (with how to install it). */
  locate(): { binary: string } | { missing: string }
  /** The version the binary must report (`--version`), as a pattern. */
  readonly version: RegExp
  args(files: readonly string[]): string[]
  parse(output: string): Outcome | null
}

const count = (output: string, pattern: RegExp): number | null => {
  const match = pattern.exec(output)
  return match ? Number(match[1]) : null
}

/** The binary at `path` (relative to the root unless absolute), or why it is missing. */
function at(path: string, install: string): { binary: string } | { missing: string } {
  const binary = path.startsWith('/') ? path : `${root}${path}`
  return existsSync(binary) ? { binary } : { missing: `${binary} not found (${install})` }
}

const BUN: Runtime = {
  name: 'Bun',
  locate: () => at('node_modules/.bin/bun', 'npm ci installs it as a dev dependency'),
  version: /^1\./,
  // Bun's default time limit per test is 5 s; the Python peer tests may take longer.
  args: (files) => ['test', '--timeout', '60000', ...files.map((file) => `./${file}`)],
  parse(output) {
    const passed = count(output, /^\s*(\d+) pass$/m)
    const failed = count(output, /^\s*(\d+) fail$/m)
    const across = count(output, /^Ran \d+ tests? across (\d+) files?\./m)
    if (passed === null || failed === null || across === null) return null
    const files = [...output.matchAll(/^(test\/\S+\.test\.ts):$/gm)].map((match) => match[1])
    return { passed, failed, files: files.length === across ? (files as string[]) : null }
  },
}

const DENO: Runtime = {
  name: 'Deno',
  locate: () => at('node_modules/.bin/deno', 'npm ci installs it as a dev dependency'),
  version: /^deno 2\./,
  args: (files) => ['test', '--allow-all', '--no-check', ...files.map((file) => `./${file}`)],
  parse(output) {
    const summary = /^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed/m.exec(
      output,
    )
    if (!summary) return null
    const files = [...output.matchAll(/^running \d+ tests? from \.\/(\S+)$/gm)].map(
      (match) => match[1] as string,
    )
    return { passed: Number(summary[1]), failed: Number(summary[2]), files }
  },
}

const NODE_24: Runtime = {
  name: 'Node 24',
  locate: () =>
    process.env.SESSIONWARE_NODE24
      ? at(process.env.SESSIONWARE_NODE24, 'SESSIONWARE_NODE24 names a missing file')
      : at(
          '.cache/node24/node_modules/.bin/node',
          'npm install --prefix .cache/node24 --no-save node@24, as .ci/run does, or set SESSIONWARE_NODE24',
        ),
  version: /^v24\./,
  // One process for all files (as Bun and Deno do): a process per file costs twice the time.
  args: (files) => ['--test', '--test-isolation=none', '--test-reporter=tap', ...files],
  parse(output) {
    const passed = count(output, /^# pass (\d+)$/m)
    const failed = count(output, /^# fail (\d+)$/m)
    if (passed === null || failed === null) return null
    return { passed, failed, files: null }
  },
}

/** The runtime's binary, or null after skipping loudly (or throwing when services are required). */
function locate(t: TestContext, runtime: Runtime): string | null {
  const found = runtime.locate()
  if ('binary' in found) return found.binary
  const reason = `${runtime.name}: ${found.missing}`
  if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
  process.stderr.write(`\n  SKIPPED: ${reason}\n`)
  t.skip(reason)
  return null
}

/** The lines of the output that say what failed, for the assertion message. */
function failures(output: string): string {
  const lines = output.split('\n')
  const marked = lines.filter((line) =>
    /^\s*(?:\(fail\)|not ok |.* \.\.\. FAILED|error:|AssertionError)/.test(line),
  )
  return `${marked.slice(0, 40).join('\n')}\n--- last lines ---\n${lines.slice(-40).join('\n')}`
}

async function runOn(t: TestContext, runtime: Runtime): Promise<void> {
  const binary = locate(t, runtime)
  if (binary === null) return
  const version = await runChild(binary, ['--version'], { timeoutMs: 30_000 })
  assert.match(version.output.trim(), runtime.version, `${binary} --version`)
  const result: ChildResult = await runChild(binary, runtime.args(FILES), {
    cwd: root,
    env: childEnv(),
    timeoutMs: RUN_TIMEOUT_MS,
  })
  t.diagnostic(
    `${runtime.name} (${version.output.trim().split('\n')[0]}): ${FILES.length} files in ${result.ms} ms`,
  )
  assert.equal(result.timedOut, false, `${runtime.name} ran over ${RUN_TIMEOUT_MS} ms`)
  const outcome = runtime.parse(result.output)
  assert.ok(outcome, `no test summary from ${runtime.name}:\n${failures(result.output)}`)
  assert.equal(outcome.failed, 0, `${runtime.name} failed tests:\n${failures(result.output)}`)
  assert.equal(result.code, 0, `${runtime.name} exited ${result.code}:\n${failures(result.output)}`)
  assert.ok(outcome.passed > FILES.length, `${runtime.name} passed ${outcome.passed} tests`)
  if (outcome.files !== null) assert.deepEqual([...outcome.files].sort(), [...FILES].sort())
}

// The three runs wait on timers, sockets and Python peers as much as on the CPU: side by side
// they take about as long as the slowest alone.
describe('the core, codec and Fetch adapter tests on other runtimes', { concurrency: true }, () => {
  const timeout = RUN_TIMEOUT_MS + 60_000
  it('pass on Bun', { timeout }, (t) => runOn(t, BUN))
  it('pass on Deno', { timeout }, (t) => runOn(t, DENO))
  it('pass on Node 24', { timeout }, (t) => runOn(t, NODE_24))
})
