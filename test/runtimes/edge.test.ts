/**
 * What the Fetch path (`sessionware`, `sessionware/errors`, `sessionware/adapters/fetch` and the
 * cookie codecs plain, signed, sealed and nacl) needs from Node's API, read from the built dist:
 * the answer the README gives for Cloudflare Workers and Deno Deploy, kept true.
 *
 * - Node built-ins: `node:crypto` alone (sync HMAC, AES-GCM, HKDF, SHA-256 and random bytes; the
 *   codecs are synchronous, and Web Crypto is both asynchronous and measured several times
 *   slower). Workers provide it with Node.js compatibility (the `nodejs_compat` flag, or a
 *   compatibility date of 2026-08-04 or later); Deno and Deno Deploy provide it.
 * - Node globals used without a guard: `Buffer`, on the signed and sealed path only (Workers
 *   provide it as a global under `nodejs_compat` with a compatibility date of 2024-09-23 or later).
 * - Every `node:crypto` function used is one of {@link WORKERS_NODE_CRYPTO}: a new one must be
 *   checked against Workers' table of supported `node:crypto` APIs before it is added there.
 *
 * Then Deno runs the Fetch path from dist with read and env permissions only (no subprocess, no
 * file writes, no network, no FFI, so no native addon): as on Deno Deploy.
 */
import assert from 'node:assert/strict'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { builtinModules, createRequire } from 'node:module'
import { dirname, join, relative, resolve } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { runChild } from '../support/run-child.ts'
import { requireBinary } from '../support/services.ts'

const root = fileURLToPath(new URL('../../', import.meta.url))
const dist = `${root}dist/`

/**
 * The `node:crypto` functions the Fetch path may use: Workers document the whole `node:crypto` API
 * as available under Node.js compatibility since April 2025. `hash` is used only where it exists
 * (server storage falls back to `createHash`).
 */
const WORKERS_NODE_CRYPTO: readonly string[] = [
  'createCipheriv',
  'createDecipheriv',
  'createHash',
  'createHmac',
  'createSecretKey',
  'hash',
  'hkdfSync',
  'randomBytes',
  'timingSafeEqual',
]

/** The Fetch path's entries, as subpaths of the package. */
const ENTRIES = {
  sessionware: 'index.js',
  'sessionware/errors': 'errors.js',
  'sessionware/adapters/fetch': 'adapters/fetch.js',
  'sessionware/codecs/plain': 'codecs/plain.js',
  'sessionware/codecs/nacl': 'codecs/nacl.js',
  'sessionware/codecs/signed': 'codecs/signed.js',
  'sessionware/codecs/sealed': 'codecs/sealed.js',
} as const

type Entry = keyof typeof ENTRIES

/** What one entry reaches, through static and dynamic imports, in dist and in dependencies. */
interface Reach {
  /** The files, relative to the root. */
  readonly files: readonly string[]
  /** Node built-ins imported, as `node:name`. */
  readonly builtins: readonly string[]
  /** `node:crypto` functions used, by named import or through a namespace import. */
  readonly crypto: readonly string[]
  /** Node globals used bare (not as `globalThis.x`, which code may test for first). */
  readonly globals: readonly string[]
  /** Packages required at run time only, each inside `try` (optional peers). */
  readonly optional: readonly string[]
}

const BUILTINS = new Set(builtinModules)
const IMPORT =
  /(?:^|[\s;])(?:import|export)\s*(?:type\s)?[^'"`;]*?from\s*['"]([^'"]+)['"]|(?:^|[\s;])import\s*['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g

/** The code of a JavaScript file without its comments (strings are kept: specifiers live there). */
function code(file: string): string {
  return readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/^\s*\/\/.*$/gm, '')
    .replace(/\/\/# sourceMappingURL=.*$/gm, '')
}

/** Node globals that code uses bare: neither as `globalThis.x` nor declared in the file. */
function usedGlobals(text: string): string[] {
  const unquoted = text
    .replace(/'(?:[^'\\\n]|\\.)*'|"(?:[^"\\\n]|\\.)*"/g, "''")
    .replace(/`(?:[^`\\]|\\.)*`/g, "''")
  return ['Buffer', 'process', 'require', 'module', '__dirname', 'global', 'setImmediate'].filter(
    (name) =>
      new RegExp(`(?<![\\w$.])${name}\\b`).test(unquoted) &&
      !new RegExp(`\\b(?:let|const|var|function)\\s+${name}\\b`).test(unquoted),
  )
}

function reach(entry: Entry): Reach {
  const files = new Set<string>()
  const builtins = new Set<string>()
  const crypto = new Set<string>()
  const globals = new Set<string>()
  const optional = new Set<string>()
  const pending = [`${dist}${ENTRIES[entry]}`]
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (files.has(file)) continue
    files.add(file)
    const text = code(file)
    for (const match of text.matchAll(IMPORT)) {
      const specifier = (match[1] ?? match[2] ?? match[3] ?? match[4]) as string
      const bare = specifier.replace(/^node:/, '')
      if (specifier.startsWith('node:') || BUILTINS.has(bare)) {
        builtins.add(`node:${bare}`)
      } else if (specifier.startsWith('.')) {
        pending.push(resolve(dirname(file), specifier))
      } else if (match[4] !== undefined) {
        // A package required at run time (inside try, where there is a require()): optional.
        optional.add(specifier)
      } else {
        pending.push(createRequire(file).resolve(specifier))
      }
    }
    for (const match of text.matchAll(/import\s*\{([^}]*)\}\s*from\s*['"](?:node:)?crypto['"]/g)) {
      for (const name of (match[1] as string).split(',')) {
        const imported = name.trim().split(/\s+as\s+/)[0]
        if (imported) crypto.add(imported)
      }
    }
    const namespace = /import\s*\*\s*as\s+(\w+)\s+from\s*['"](?:node:)?crypto['"]/.exec(text)
    if (namespace) {
      for (const match of text.matchAll(new RegExp(`\\b${namespace[1]}\\.(\\w+)`, 'g'))) {
        crypto.add(match[1] as string)
      }
    }
    if (file.startsWith(dist)) {
      for (const name of usedGlobals(text)) globals.add(name)
    }
  }
  return {
    files: [...files].map((file) => relative(root, file)).sort(),
    builtins: [...builtins].sort(),
    crypto: [...crypto].sort(),
    globals: [...globals].sort(),
    optional: [...optional].sort(),
  }
}

describe('the Fetch path on Cloudflare Workers and Deno Deploy (built dist)', () => {
  const built = existsSync(`${dist}index.js`)

  it('is built (npm run build, which npm test runs first)', () => {
    assert.ok(built, `${dist}index.js is missing: run npm run build`)
  })

  it('imports no Node built-in but node:crypto, and only from the root and signed, sealed', {
    skip: !built,
  }, () => {
    const builtins = Object.fromEntries(
      Object.keys(ENTRIES).map((entry) => [entry, reach(entry as Entry).builtins]),
    )
    assert.deepEqual(builtins, {
      sessionware: ['node:crypto'],
      'sessionware/errors': [],
      'sessionware/adapters/fetch': [],
      'sessionware/codecs/plain': [],
      'sessionware/codecs/nacl': [],
      'sessionware/codecs/signed': ['node:crypto'],
      'sessionware/codecs/sealed': ['node:crypto'],
    })
  })

  it('uses no Node global bare but Buffer, and that only on the codec paths', {
    skip: !built,
  }, () => {
    const globals = Object.fromEntries(
      Object.keys(ENTRIES).map((entry) => [entry, reach(entry as Entry).globals]),
    )
    assert.deepEqual(globals, {
      sessionware: [],
      'sessionware/errors': [],
      'sessionware/adapters/fetch': [],
      'sessionware/codecs/plain': ['Buffer'],
      // In lib/token.js, whose decodeTokenPart the nacl codec does not call: nacl.test.ts runs the
      // nacl codec with Buffer deleted.
      'sessionware/codecs/nacl': ['Buffer'],
      'sessionware/codecs/signed': ['Buffer'],
      'sessionware/codecs/sealed': ['Buffer'],
    })
  })

  it('uses only node:crypto functions that Workers support', { skip: !built }, () => {
    const used = new Set(Object.keys(ENTRIES).flatMap((entry) => reach(entry as Entry).crypto))
    assert.ok(used.size > 0, 'found the node:crypto imports')
    const unchecked = [...used].filter((name) => !WORKERS_NODE_CRYPTO.includes(name))
    assert.deepEqual(unchecked, [], 'node:crypto functions not checked against Workers')
  })

  it('follows imports into dependencies (cookie) and loads no framework', { skip: !built }, () => {
    const files = reach('sessionware').files
    assert.ok(
      files.some((file) => file.startsWith('node_modules/cookie/')),
      'the cookie package is reached',
    )
    const all = new Set(Object.keys(ENTRIES).flatMap((entry) => reach(entry as Entry).files))
    const outside = [...all].filter(
      (file) => !file.startsWith('dist/') && !file.startsWith('node_modules/cookie/'),
    )
    assert.deepEqual(outside, [])
  })
})

describe('the Fetch path on Deno with read and env permissions only (as on Deno Deploy)', () => {
  it('serves, reads and rotates a sealed-cookie session through withSessions', async (t) => {
    const deno = requireBinary(t, 'deno', 'npm ci installs it as a dev dependency', [
      `${root}node_modules/.bin/deno`,
    ])
    if (deno === null) return
    assert.ok(existsSync(`${dist}index.js`), 'dist is built')
    const script = `
const { createSessions, createCookieStorage, getSession } = await import(${JSON.stringify(`${dist}index.js`)})
const { withSessions } = await import(${JSON.stringify(`${dist}adapters/fetch.js`)})
const { createSealedCodec } = await import(${JSON.stringify(`${dist}codecs/sealed.js`)})
const { createSignedCodec } = await import(${JSON.stringify(`${dist}codecs/signed.js`)})
const key = 'k'.repeat(32)
const out = {}
for (const [name, codec] of [['sealed', createSealedCodec({ keys: [key] })], ['signed', createSignedCodec({ keys: [key] })]]) {
  const sessions = createSessions({ storage: createCookieStorage({ codec }) })
  const handler = withSessions(sessions, async (request) => {
    const session = await getSession(request)
    session.set('visits', (session.get('visits') ?? 0) + 1)
    return Response.json(session.toJSON())
  })
  const first = await handler(new Request('https://example.test/'))
  const cookie = first.headers.get('set-cookie').split(';')[0]
  const second = await handler(new Request('https://example.test/', { headers: { cookie } }))
  out[name] = { first: await first.json(), second: await second.json(), vary: second.headers.get('vary') }
}
console.log(JSON.stringify(out))
`
    // Inside the project (in gitignored .cache/): Deno resolves the dist's bare imports (cookie)
    // through the project's package.json only for a main module within the project.
    mkdirSync(`${root}.cache`, { recursive: true })
    const dir = mkdtempSync(`${root}.cache/edge-`)
    t.after(() => rmSync(dir, { recursive: true, force: true }))
    writeFileSync(join(dir, 'main.mjs'), script)
    const result = await runChild(
      deno,
      [
        'run',
        '--no-check',
        '--no-prompt',
        `--allow-read=${root}`,
        '--allow-env',
        join(dir, 'main.mjs'),
      ],
      { cwd: root, timeoutMs: 60_000 },
    )
    assert.equal(result.code, 0, result.output)
    const expected = { first: { visits: 1 }, second: { visits: 2 }, vary: 'Cookie' }
    assert.deepEqual(JSON.parse(result.output.trim().split('\n').at(-1) as string), {
      sealed: expected,
      signed: expected,
    })
  })
})
