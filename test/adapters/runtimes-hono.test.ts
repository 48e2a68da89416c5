/**
 * The Hono adapter and the Fetch adapter on Bun and Deno, over real HTTP: each runtime serves the
 * adapter conformance app (`test/fixtures/runtimes/`) with `Bun.serve` / `Deno.serve`, WebSocket
 * upgrades by Bun's `server.upgrade` (`hono/bun`) and `Deno.upgradeWebSocket` (`hono/deno`), on
 * cookie and on server storage, and this Node test drives it. The Fetch example runs on both
 * runtimes too, through `examples/import-map.json` on Deno. A missing runtime skips loudly; with
 * SESSIONWARE_REQUIRE_SERVICES=1 it fails instead.
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { describe, it, type TestContext } from 'node:test'
import type { SessionView } from '../support/adapter-app.ts'
import { firstMessage, WS_PATH, type WsGreeting } from '../support/adapter-suite-upgrade.ts'
import { Client, type HttpResult, json, send, setCookieOf } from '../support/http.ts'
import { BUN, DENO, locate, ROOT, type Runtime, startServer } from '../support/runtime-server.ts'

const cookieOf = (result: HttpResult) => setCookieOf(result, 'session')

function ok(result: HttpResult): void {
  assert.equal(result.status, 200, `status ${result.status}: ${result.body}`)
}

/** The scenarios, as subtests of `t`, against the app at `base` on `kind` storage. */
async function drive(t: TestContext, base: string, kind: 'cookie' | 'server'): Promise<void> {
  await t.test('a request that never asks gets no cookie and no Vary', async () => {
    const result = await new Client(base).get('/none')
    ok(result)
    assert.equal(result.body, 'none')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers.vary, undefined)
  })

  await t.test('a value round-trips in the cookie, with Vary: Cookie', async () => {
    const client = new Client(base)
    const first = await client.get('/inc')
    ok(first)
    const cookie = cookieOf(first)
    assert.ok(cookie?.value, 'a session cookie')
    assert.equal(cookie.httpOnly, true)
    assert.equal(cookie.sameSite, 'lax')
    assert.equal(cookie.secure, undefined, 'plain HTTP to 127.0.0.1')
    assert.equal(first.headers.vary, 'Cookie')
    ok(await client.get('/inc'))
    const read = await client.get('/get')
    assert.deepEqual(json<SessionView>(read).data, { n: 2 })
    assert.equal(json<SessionView>(read).isNew, false)
    assert.equal(read.headers.vary, 'Cookie')
    const merged = await client.get('/vary?value=Accept-Encoding')
    assert.equal(merged.headers.vary, 'Accept-Encoding, Cookie')
  })

  await t.test('a flash value shows once, on a later request', async () => {
    const client = new Client(base)
    assert.deepEqual(json(await client.get('/flash-set')), { notice: null })
    assert.deepEqual(json(await client.get('/flash-get')), { notice: 'saved' })
    assert.deepEqual(json(await client.get('/flash-get')), { notice: null })
  })

  await t.test('regenerate gives a new identity and keeps the data', async () => {
    const client = new Client(base)
    ok(await client.get('/inc'))
    const before = client.cookie('session')
    const result = await client.get('/regenerate')
    ok(result)
    assert.notEqual(cookieOf(result)?.value, before)
    if (kind === 'server') {
      assert.equal(json<SessionView>(result).id, cookieOf(result)?.value)
      const replay = await send(`${base}/get`, { headers: { cookie: `session=${before}` } })
      assert.equal(json<SessionView>(replay).isNew, true, 'the old id is gone')
    }
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  await t.test('invalidate expires the cookie; the next request starts fresh', async () => {
    const client = new Client(base)
    ok(await client.get('/inc'))
    const result = await client.get('/invalidate')
    ok(result)
    assert.equal(cookieOf(result)?.value, '')
    assert.equal(cookieOf(result)?.maxAge, 0)
    const after = await client.get('/get')
    assert.equal(json<SessionView>(after).isNew, true)
    assert.deepEqual(json<SessionView>(after).data, {})
  })

  await t.test('a redirect, a streamed body and HEAD carry the cookie', async () => {
    const redirect = await new Client(base).get('/redirect')
    assert.equal(redirect.status, 302)
    assert.equal(redirect.headers.location, '/get')
    assert.ok(cookieOf(redirect)?.value)
    const stream = await new Client(base).get('/stream')
    assert.equal(stream.body, 'alpha;beta;gamma;delta;end')
    assert.ok(cookieOf(stream)?.value)
    const head = await new Client(base).request('/inc', { method: 'HEAD' })
    ok(head)
    assert.equal(head.body, '')
    assert.ok(cookieOf(head)?.value)
  })

  await t.test('a handler that throws saves nothing', async () => {
    const client = new Client(base)
    ok(await client.get('/inc'))
    const cookie = client.cookie('session')
    const failed = await client.get('/throw')
    assert.equal(failed.status, 500)
    assert.deepEqual(failed.rawSetCookies, [])
    assert.equal(client.cookie('session'), cookie)
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
  })

  await t.test('a WebSocket upgrade reads the session and refuses writes', async () => {
    const client = new Client(base)
    ok(await client.get('/inc'))
    const greeting = JSON.parse(
      await firstMessage(base + WS_PATH, client.cookieHeader),
    ) as WsGreeting
    assert.equal(greeting.isNew, false)
    assert.deepEqual(greeting.data, { n: 1 })
    assert.equal(greeting.write, 'ERR_SESSION_READ_ONLY')
    assert.deepEqual(json<SessionView>(await client.get('/get')).data, { n: 1 })
    const anonymous = JSON.parse(
      await firstMessage(base + WS_PATH, 'session=%%%garbage'),
    ) as WsGreeting
    assert.equal(anonymous.isNew, true)
  })
}

/** The Fetch example's JSON API, as the example contract has it. */
async function driveExample(base: string): Promise<void> {
  const client = new Client(base)
  assert.deepEqual(json(await client.get('/api/none')), { ok: true })
  const patch = (body: string) => client.request('/api/session', { method: 'PATCH', body })
  const patched = await patch('{"user":"ann","visits":1}')
  ok(patched)
  assert.deepEqual(json(patched).data, { user: 'ann', visits: 1 })
  assert.deepEqual(json(await patch('{"visits":null}')).data, { user: 'ann' })
  assert.equal((await patch('not json')).status, 400)
  assert.equal((await patch('[1]')).status, 400)
  assert.equal((await patch('{"__proto__":1}')).status, 400)
  assert.equal((await patch(`{"big":"${'x'.repeat(70_000)}"}`)).status, 413)
  const read = await client.get('/api/session')
  assert.deepEqual(json(read).data, { user: 'ann' })
  assert.equal(read.headers.vary, 'Cookie')
  const id = json(read).id
  const regenerated = await client.request('/api/session/regenerate', { method: 'POST' })
  assert.notEqual(json(regenerated).id, id)
  assert.deepEqual(json(regenerated).data, { user: 'ann' })
  const deleted = await client.request('/api/session', { method: 'DELETE' })
  assert.deepEqual(json(deleted), { id: null, isNew: true, data: {} })
  assert.equal(cookieOf(deleted)?.maxAge, 0)
}

/** Where the fixtures are, relative to the root. */
const FIXTURES = 'test/fixtures/runtimes'
const IMPORT_MAP = 'examples/import-map.json'

for (const runtime of [BUN, DENO] as const satisfies readonly Runtime[]) {
  describe(`on ${runtime.name}`, () => {
    for (const app of ['hono', 'fetch'] as const) {
      for (const kind of ['cookie', 'server'] as const) {
        it(`the ${app === 'hono' ? 'Hono' : 'Fetch'} adapter, ${kind} storage`, async (t) => {
          const binary = locate(t, runtime)
          if (binary === null) return
          const script = `${FIXTURES}/${app}-app.ts`
          const base = await startServer(t, binary, runtime.args(script), { SESSION_KIND: kind })
          await drive(t, base, kind)
        })
      }
    }

    it('the Fetch example, SESSION_STORE=memory', async (t) => {
      const binary = locate(t, runtime)
      if (binary === null) return
      // As `npm run example fetch -- --runtime=deno` runs it, with the import map.
      const permissions = ['--allow-read', '--allow-write', '--allow-sys']
      const extra = runtime === DENO ? [...permissions, '--import-map', IMPORT_MAP] : []
      const base = await startServer(t, binary, runtime.args('examples/fetch/main.ts', extra), {
        HOST: '127.0.0.1',
        PORT: '0',
        SESSION_STORE: 'memory',
      })
      await driveExample(base)
    })
  })
}

describe('examples/import-map.json (Deno)', () => {
  it('maps every subpath of package.json to its source file', () => {
    const read = (path: string) => JSON.parse(readFileSync(`${ROOT}${path}`, 'utf8'))
    const exported = Object.keys(read('package.json').exports as Record<string, unknown>)
      .filter((key) => key !== './package.json')
      .map((key) => (key === '.' ? 'sessionware' : `sessionware/${key.slice(2)}`))
    const imports = read(IMPORT_MAP).imports as Record<string, string>
    assert.deepEqual(Object.keys(imports).sort(), exported.sort(), 'regenerate the map')
    for (const [name, target] of Object.entries(imports)) {
      const expected = name === 'sessionware' ? 'index' : name.slice('sessionware/'.length)
      assert.equal(target, `../src/${expected}.ts`)
      assert.doesNotThrow(() => readFileSync(new URL(target, `file://${ROOT}examples/`)), target)
    }
  })

  it('makes Deno resolve sessionware to src/, not to the package’s own dist/', (t) => {
    const binary = locate(t, DENO)
    if (binary === null) return
    const code = "console.log(import.meta.resolve('sessionware/adapters/hono'))"
    const run = spawnSync(binary, ['eval', '--import-map', IMPORT_MAP, code], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    })
    assert.equal(run.status, 0, run.stderr)
    assert.equal(run.stdout.trim(), `file://${ROOT}src/adapters/hono.ts`)
  })
})
