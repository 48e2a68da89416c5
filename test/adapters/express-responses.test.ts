import assert from 'node:assert/strict'
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it, type TestContext } from 'node:test'
import { asyncHandler, cookieOf, EXPRESS_VERSIONS, startExpress } from '../support/express-app.ts'
import { json } from '../support/http.ts'

/** A temporary directory holding `name` with `content`, removed after the test. */
async function tempFile(t: TestContext, name: string, content: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sessionware-express-'))
  t.after(() => rm(dir, { recursive: true, force: true }))
  const path = join(dir, name)
  await writeFile(path, content)
  return path
}

/** 256 KB of numbered lines: more than one socket write, so backpressure is exercised. */
const LARGE = Array.from({ length: 16_384 }, (_, i) => `line ${String(i).padStart(9, '0')}\n`).join(
  '',
)

for (const version of EXPRESS_VERSIONS) {
  describe(`${version.name} adapter: response paths carry the Set-Cookie (store write 20 ms)`, () => {
    /** An app on server storage whose creating write takes 20 ms: every response must wait. */
    const slowStart = (t: TestContext, build: Parameters<typeof startExpress>[2]) =>
      startExpress(t, version, build, { fixture: {} }).then((started) => {
        started.fixture.store?.delays.set('create', 20)
        return started
      })

    it('res.json', async (t) => {
      const { client } = await slowStart(t, (app) => {
        app.get(
          '/json',
          asyncHandler(version, async (req, res) => {
            const session = await req.getSession()
            session.set('n', 1)
            res.json({ n: session.get('n') })
          }),
        )
      })
      const result = await client.get('/json')
      assert.equal(result.status, 200)
      assert.deepEqual(json(result), { n: 1 })
      assert.ok(cookieOf(result))
      assert.equal(result.headers.vary, 'Cookie')
    })

    it('res.redirect', async (t) => {
      const { client } = await slowStart(t, (app) => {
        app.post(
          '/login',
          asyncHandler(version, async (req, res) => {
            const session = await req.newSession()
            session.set('user', 'ann')
            res.redirect(303, '/home')
          }),
        )
        app.get(
          '/home',
          asyncHandler(version, async (req, res) => {
            res.json({ user: (await req.getSession()).get('user') ?? null })
          }),
        )
      })
      const result = await client.request('/login', { method: 'POST' })
      assert.equal(result.status, 303)
      assert.equal(result.headers.location, '/home')
      assert.ok(cookieOf(result))
      assert.deepEqual(json(await client.get('/home')), { user: 'ann' })
    })

    it('res.sendFile, GET and HEAD', async (t) => {
      const path = await tempFile(t, 'large.txt', LARGE)
      const { client, fixture } = await slowStart(t, (app) => {
        app.get(
          '/file',
          asyncHandler(version, async (req, res) => {
            const session = await req.getSession()
            session.set('files', ((session.get('files') as number | undefined) ?? 0) + 1)
            res.sendFile(path)
          }),
        )
      })
      const result = await client.get('/file')
      assert.equal(result.status, 200)
      assert.equal(result.body, LARGE)
      assert.ok(cookieOf(result))
      fixture.store?.delays.set('patch', 20)
      const head = await client.request('/file', { method: 'HEAD' })
      assert.equal(head.status, 200)
      assert.equal(head.body, '')
      assert.equal(Number(head.headers['content-length']), LARGE.length)
      assert.equal(fixture.store?.calls.patch, 1, 'the HEAD request wrote its change')
    })

    it('a piped stream', async (t) => {
      const path = await tempFile(t, 'large.txt', LARGE)
      const { client } = await slowStart(t, (app) => {
        app.get(
          '/stream',
          asyncHandler(version, async (req, res) => {
            ;(await req.getSession()).set('n', 1)
            res.type('text/plain')
            createReadStream(path).pipe(res)
          }),
        )
      })
      const result = await client.get('/stream')
      assert.equal(result.status, 200)
      assert.equal(result.body, LARGE)
      assert.ok(cookieOf(result))
    })

    it('res.render', async (t) => {
      const view = await tempFile(t, 'page.txt', 'Hello, {user}!')
      const { client } = await slowStart(t, (app) => {
        app.engine('txt', (file, options, callback) => {
          import('node:fs/promises')
            .then(({ readFile }) => readFile(file, 'utf8'))
            .then(
              (text) =>
                callback(null, text.replace('{user}', String((options as { user?: string }).user))),
              callback,
            )
        })
        app.set('views', join(view, '..'))
        app.set('view engine', 'txt')
        app.get(
          '/page',
          asyncHandler(version, async (req, res) => {
            const session = await req.getSession()
            session.set('user', 'ann')
            res.render('page', { user: session.get('user') })
          }),
        )
      })
      const result = await client.get('/page')
      assert.equal(result.status, 200)
      assert.equal(result.body, 'Hello, ann!')
      assert.ok(cookieOf(result))
    })
  })
}
