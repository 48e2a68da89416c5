/**
 * The API reference (`npm run docs`, TypeDoc) covers exactly the package's public subpaths: the
 * entry points in typedoc.json are the source files of every `exports` entry. Running TypeDoc
 * itself takes about 25 s, so it is not part of `npm test`.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const read = (file: string): unknown => JSON.parse(readFileSync(`${root}${file}`, 'utf8'))

describe('API reference configuration', () => {
  it('documents every exports subpath and nothing else, into the gitignored docs/api', () => {
    const pkg = read('package.json') as { exports: Record<string, unknown> }
    const config = read('typedoc.json') as { entryPoints: string[]; out: string }
    const sources = Object.keys(pkg.exports)
      .filter((subpath) => subpath !== './package.json')
      .map((subpath) => (subpath === '.' ? 'src/index.ts' : `src/${subpath.slice(2)}.ts`))
    assert.deepEqual([...config.entryPoints].sort(), sources.sort())
    assert.equal(config.out, 'docs/api')
    const ignored = readFileSync(`${root}.gitignore`, 'utf8').split('\n')
    assert.ok(ignored.includes('docs/api/'), 'docs/api/ is in .gitignore')
  })
})
