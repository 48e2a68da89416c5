import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as {
  exports: Record<string, string | { types: string; default: string }>
}
const subpaths = Object.keys(pkg.exports).filter((key) => key !== './package.json')
const specifier = (subpath: string) =>
  subpath === '.' ? 'sessionware' : `sessionware/${subpath.slice(2)}`
const sourceOf = (subpath: string) =>
  subpath === '.' ? 'src/index.ts' : `src/${subpath.slice(2)}.ts`

describe('package', () => {
  it('maps every export to the dist file built from the same-path source file', () => {
    for (const subpath of subpaths) {
      const target = pkg.exports[subpath] as { types: string; default: string }
      const base = sourceOf(subpath)
        .replace(/^src\//, './dist/')
        .replace(/\.ts$/, '')
      assert.equal(target.default, `${base}.js`, subpath)
      assert.equal(target.types, `${base}.d.ts`, subpath)
      assert.ok(existsSync(`${root}${sourceOf(subpath)}`), `${sourceOf(subpath)} exists`)
      assert.ok(existsSync(`${root}${target.default.slice(2)}`), `${target.default} is built`)
      assert.ok(existsSync(`${root}${target.types.slice(2)}`), `${target.types} is built`)
    }
  })

  it('names the right subpath in every entry file and uses no top-level await', () => {
    for (const subpath of subpaths) {
      const text = readFileSync(`${root}${sourceOf(subpath)}`, 'utf8')
      assert.match(text, /@module/, `${sourceOf(subpath)} has a @module block`)
      if (subpath !== '.' && !subpath.startsWith('./cli')) {
        assert.ok(
          text.includes(`\`${specifier(subpath)}\``),
          `${sourceOf(subpath)} names its subpath`,
        )
      }
      assert.doesNotMatch(text, /^await /m, `${sourceOf(subpath)} has no top-level await`)
    }
  })

  it('imports every subpath by the package name from the built dist', async () => {
    for (const subpath of subpaths) {
      const module = await import(specifier(subpath))
      assert.ok(Object.keys(module).length > 0, `${specifier(subpath)} exports something`)
    }
    const core = await import('sessionware')
    for (const name of [
      'createSessions',
      'getSession',
      'newSession',
      'createCookieStorage',
      'createServerStorage',
    ]) {
      assert.equal(typeof (core as unknown as Record<string, unknown>)[name], 'function', name)
    }
    // The root keeps what applications use: factories are create…, nothing internal leaks.
    for (const name of Object.keys(core)) {
      assert.doesNotMatch(
        name,
        /^(?:cookieStorage|serverStorage|Manager|RequestState|resolve)/,
        name,
      )
    }
    assert.equal(core.errors.SessionStoreError.code, 'ERR_SESSION_STORE')
  })

  it('can be required from CommonJS (require(esm))', () => {
    const require = createRequire(`${root}package.json`)
    for (const subpath of subpaths) {
      const module = require(specifier(subpath))
      assert.ok(Object.keys(module).length > 0, `${specifier(subpath)} via require`)
    }
  })

  it('ships a CLI whose built entry starts with a node shebang', () => {
    const main = readFileSync(`${root}dist/cli/main.js`, 'utf8')
    assert.match(main, /^#!\/usr\/bin\/env node\n/)
    const out = execFileSync(process.execPath, [`${root}dist/cli/main.js`, '--help'], {
      encoding: 'utf8',
    })
    assert.match(out, /keygen/)
  })
})
