/**
 * The demo over real HTTP: the JSON API contract on sqlite, memory and cookie storage, restarts,
 * the generated secret, store failures and the HTML flow. Redis, memcached and PostgreSQL:
 * `stores.test.ts` and `outage.test.ts`; configuration: `config.test.ts`.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { type TestContext, test } from 'node:test'
import Database from 'better-sqlite3'
import type { MemoryStore } from '../../src/stores/memory.ts'
import {
  Client,
  cleanups,
  parseSetCookie,
  type Running,
  type SessionAnswer,
  startDemo,
  TEST_KEY,
  tempDir,
} from './helpers.ts'

/** Starts the demo for one test; stops it and removes its data when the test ends. */
async function demo(t: TestContext, env: Record<string, string>): Promise<Running> {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const running = await startDemo({
    SQLITE_PATH: join(dir, 'sessions.db'),
    SESSION_KEYS: TEST_KEY,
    ...env,
  })
  defer(() => running.app.close())
  return running
}

/** Rows in the demo's SQLite table (0 before the table exists). */
function sqliteRows(path: string): number {
  const db = new Database(path)
  try {
    const table = db
      .prepare("SELECT count(*) AS n FROM sqlite_master WHERE name = 'sessionware_sessions'")
      .get() as { n: number }
    if (table.n === 0) return 0
    return (db.prepare('SELECT count(*) AS n FROM sessionware_sessions').get() as { n: number }).n
  } finally {
    db.close()
  }
}

async function answer(response: Response, status = 200): Promise<SessionAnswer> {
  assert.equal(response.status, status)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return (await response.json()) as SessionAnswer
}

/**
 * The JSON API contract. `records` counts stored sessions for server storage; for cookie storage
 * it is undefined, ids are null and a copied cookie stays usable (nothing is stored to delete).
 */
async function exerciseApi(running: Running, records?: () => number): Promise<void> {
  const server = records !== undefined
  const client = new Client(running.url)

  const none = await client.fetch('/api/none')
  assert.equal(none.status, 200)
  assert.deepEqual(await none.json(), { ok: true })
  assert.deepEqual(none.headers.getSetCookie(), [])

  // A fresh visitor: a new, unsaved session, no cookie, nothing stored.
  const fresh = await client.fetch('/api/session')
  const first = await answer(fresh)
  assert.equal(first.isNew, true)
  assert.deepEqual(first.data, {})
  assert.deepEqual(fresh.headers.getSetCookie(), [])
  assert.equal(records?.(), server ? 0 : undefined)

  const patched = await client.json('/api/session', 'PATCH', { a: 1, b: 'two', c: { n: [1] } })
  assert.deepEqual((await answer(patched)).data, { a: 1, b: 'two', c: { n: [1] } })
  assert.equal(patched.headers.getSetCookie().length, 1)
  assert.equal(records?.(), server ? 1 : undefined)

  const loaded = await answer(await client.fetch('/api/session'))
  assert.equal(loaded.isNew, false)
  assert.deepEqual(loaded.data, { a: 1, b: 'two', c: { n: [1] } })
  if (server) assert.match(String(loaded.id), /^[\w-]{22,}$/)
  else assert.equal(loaded.id, null)

  // null deletes a key; other keys merge.
  assert.deepEqual(
    (await answer(await client.json('/api/session', 'PATCH', { b: null, d: 4 }))).data,
    {
      a: 1,
      c: { n: [1] },
      d: 4,
    },
  )
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, {
    a: 1,
    c: { n: [1] },
    d: 4,
  })

  for (const bad of ['{"a":', '[1,2]', 'null', '"text"', '']) {
    const response = await client.json('/api/session', 'PATCH', bad)
    assert.equal(response.status, 400, `body ${JSON.stringify(bad)}`)
    assert.equal(typeof ((await response.json()) as { error: unknown }).error, 'string')
    assert.deepEqual(response.headers.getSetCookie(), [])
  }
  const big = await client.json('/api/session', 'PATCH', { big: 'x'.repeat(70 * 1024) })
  assert.equal(big.status, 413)
  await big.body?.cancel()

  // regenerate: a new id, the same data; the old cookie dies with server storage.
  const before = client.copy()
  const regenerating = await client.fetch('/api/session/regenerate', { method: 'POST' })
  const regenerated = await answer(regenerating)
  assert.deepEqual(regenerated.data, { a: 1, c: { n: [1] }, d: 4 })
  assert.equal(regenerating.headers.getSetCookie().length, 1, 'the cookie is re-issued')
  // (Deterministic codecs may re-issue the same value within one second: cookie storage has no id.)
  if (server) assert.notEqual(client.jar.get('session'), before.jar.get('session'))
  if (server) assert.notEqual(regenerated.id, loaded.id)
  else assert.equal(regenerated.id, null)
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, regenerated.data)
  const old = await answer(await before.fetch('/api/session'))
  if (server) {
    assert.deepEqual(old, { id: old.id, isNew: true, data: {} })
    assert.notEqual(old.id, loaded.id) // an unknown id is never adopted
    assert.equal(records?.(), 1)
  } else {
    assert.deepEqual(old.data, regenerated.data) // stateless: a copied cookie stays valid
  }

  // DELETE: the cookie is expired; with server storage the record is gone.
  const copy = client.copy()
  const deleted = await client.fetch('/api/session', { method: 'DELETE' })
  assert.deepEqual(await answer(deleted), { id: null, isNew: true, data: {} })
  const cleared = deleted.headers.getSetCookie().map(parseSetCookie)
  assert.equal(cleared.length, 1)
  assert.equal(cleared[0]?.name, 'session')
  assert.equal(cleared[0]?.expired, true)
  assert.equal(client.jar.size, 0)
  const dead = await answer(await copy.fetch('/api/session'))
  if (server) {
    assert.equal(dead.isNew, true)
    assert.deepEqual(dead.data, {})
    assert.equal(records?.(), 0)
  } else {
    assert.deepEqual(dead.data, regenerated.data)
  }
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, {})
}

test('sqlite storage: the JSON API contract', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const path = running.app.description.match(/\((.*)\)/)?.[1] ?? ''
  assert.match(path, /sessions\.db$/)
  await exerciseApi(running, () => sqliteRows(path))
})

test('memory storage: the JSON API contract', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'memory' })
  const store = running.app.sessions.options.storage.store as MemoryStore
  await exerciseApi(running, () => store.size)
})

/** Changes one character in the middle of a cookie value. */
function tamper(client: Client): void {
  const value = client.jar.get('session') ?? ''
  const i = Math.floor(value.length / 2)
  client.jar.set('session', value.slice(0, i) + (value[i] === 'A' ? 'B' : 'A') + value.slice(i + 1))
}

test('cookie storage, sealed codec: the JSON API contract; tampering is refused', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie', SESSION_CODEC: 'sealed' })
  assert.equal(running.app.description, 'cookie (sealed codec)')
  await exerciseApi(running)
  const client = new Client(running.url)
  await client.json('/api/session', 'PATCH', { secret: 'plum' })
  const value = client.jar.get('session') ?? ''
  assert.doesNotMatch(Buffer.from(value.split('.').pop() ?? '', 'base64url').toString(), /plum/)
  tamper(client)
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, {})

  // Over the 4096 bytes a browser keeps: 413 with the error's code, and no cookie.
  const large = await client.json('/api/session', 'PATCH', { big: 'x'.repeat(5000) })
  assert.equal(large.status, 413)
  assert.deepEqual(await large.json(), {
    error: 'session cookie too large',
    code: 'ERR_SESSION_COOKIE_TOO_LARGE',
  })
  assert.deepEqual(large.headers.getSetCookie(), [])
})

test('cookie storage, signed codec: the JSON API contract; tampering is refused', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie', SESSION_CODEC: 'signed' })
  assert.equal(running.app.description, 'cookie (signed codec)')
  await exerciseApi(running)
  const client = new Client(running.url)
  await client.json('/api/session', 'PATCH', { secret: 'plum' })
  tamper(client)
  assert.deepEqual((await answer(await client.fetch('/api/session'))).data, {})
})

test('cookie storage, plain codec: the JSON API contract', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie', SESSION_CODEC: 'plain' })
  assert.equal(running.app.description, 'cookie (plain codec)')
  await exerciseApi(running)
  const client = new Client(running.url)
  await client.json('/api/session', 'PATCH', { secret: 'plum' })
  const payload = Buffer.from(client.jar.get('session') ?? '', 'base64url').toString()
  assert.match(payload, /"secret":"plum"/) // readable by anyone: tests only
})

test('sqlite sessions survive a restart on the same database file', async (t) => {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const env = { SESSION_STORE: 'sqlite', SQLITE_PATH: join(dir, 'db', 'sessions.db') }
  const first = await startDemo(env)
  defer(() => first.app.close())
  const client = new Client(first.url)
  await client.json('/api/session', 'PATCH', { kept: 'across restarts' })
  await first.app.close()

  const second = await startDemo(env)
  defer(() => second.app.close())
  const again = new Client(second.url, client.jar)
  const loaded = await answer(await again.fetch('/api/session'))
  assert.equal(loaded.isNew, false)
  assert.deepEqual(loaded.data, { kept: 'across restarts' })
})

test('without SESSION_KEYS, cookie storage generates a 0600 secret once and reuses it', async (t) => {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const data = join(dir, 'data')
  const env = { SESSION_STORE: 'cookie', SQLITE_PATH: join(data, 'sessions.db') }
  const secretPath = join(data, 'secret')

  const first = await startDemo(env)
  defer(() => first.app.close())
  const client = new Client(first.url)
  await client.json('/api/session', 'PATCH', { n: 1 })
  await first.app.close()
  const info = await stat(secretPath)
  assert.equal(info.mode & 0o777, 0o600)
  const secret = await readFile(secretPath, 'utf8')
  assert.match(secret.trim(), /^[\w-]{43}$/) // 32 bytes, base64url
  assert.equal(first.logs.length, 1)
  assert.match(first.logs[0] ?? '', /generated/)
  assert.ok(first.logs[0]?.includes(secretPath), 'the warning says where the secret is')
  assert.match(first.logs[0] ?? '', /SESSION_KEYS/)

  const second = await startDemo(env)
  defer(() => second.app.close())
  assert.equal(await readFile(secretPath, 'utf8'), secret)
  assert.ok(second.logs[0]?.includes(secretPath))
  // The cookie sealed on the first run opens on the second: the same key.
  const again = new Client(second.url, client.jar)
  assert.deepEqual((await answer(await again.fetch('/api/session'))).data, { n: 1 })
})

test('the default sqlite storage also makes the secret on the first run, and says so', async (t) => {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const running = await startDemo({ SESSION_STORE: 'sqlite', SQLITE_PATH: join(dir, 's.db') })
  defer(() => running.app.close())
  const info = await stat(join(dir, 'secret'))
  assert.equal(info.mode & 0o777, 0o600)
  assert.equal(running.logs.length, 1)
  assert.match(running.logs[0] as string, /generated a secret/)
})

test('a failing store answers 503 JSON; /api/none still works; recovery', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const path = running.app.description.match(/\((.*)\)/)?.[1] ?? ''
  const client = new Client(running.url)
  await client.json('/api/session', 'PATCH', { kept: true })

  // Another connection hides the table under the running app: every statement then fails with
  // "no such table" (SQLite re-prepares cached statements when the schema changes).
  const other = new Database(path)
  cleanups(t)(() => other.close())
  other.exec('ALTER TABLE sessionware_sessions RENAME TO hidden')
  const unavailable = { error: 'session store unavailable', code: 'ERR_SESSION_STORE' }

  const load = await client.fetch('/api/session') // fails loading the session
  assert.equal(load.status, 503)
  assert.deepEqual(await load.json(), unavailable)
  assert.deepEqual(load.headers.getSetCookie(), [])

  const stranger = new Client(running.url)
  const save = await stranger.json('/api/session', 'PATCH', { x: 1 }) // fails at commit
  assert.equal(save.status, 503)
  assert.deepEqual(await save.json(), unavailable)
  assert.deepEqual(save.headers.getSetCookie(), [])

  const page = await client.fetch('/')
  assert.equal(page.status, 503)
  assert.match(await page.text(), /Sessions are unavailable/)

  const none = await client.fetch('/api/none')
  assert.equal(none.status, 200)
  assert.deepEqual(await none.json(), { ok: true })
  assert.ok(running.logs.some((line) => line.includes('no such table')))

  // The store comes back: the session was never replaced by an empty one.
  other.exec('ALTER TABLE hidden RENAME TO sessionware_sessions')
  const back = await answer(await client.fetch('/api/session'))
  assert.deepEqual(back, { id: back.id, isNew: false, data: { kept: true } })
})

function visits(html: string): number {
  return Number(html.match(/id="visits">(\d+)</)?.[1])
}

test('HTML: login with a flash shown once, a growing counter, logout', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const browser = new Client(running.url)

  const anonymous = await browser.fetch('/')
  const home = await anonymous.text()
  assert.equal(anonymous.status, 200)
  assert.match(anonymous.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(home, /You are not logged in/)
  assert.equal(visits(home), 1)
  const planted = browser.jar.get('session')

  assert.match(
    await (await browser.fetch('/login')).text(),
    /<form method="post" action="\/login">/,
  )
  const login = await browser.form('/login', { username: 'alice' })
  assert.equal(login.status, 303)
  assert.equal(login.headers.get('location'), '/')
  assert.notEqual(browser.jar.get('session'), planted, 'login starts a new session id')

  const welcome = await (await browser.fetch('/')).text()
  assert.match(welcome, /Welcome, alice/)
  assert.match(welcome, /logged in as <strong>alice<\/strong>/)
  assert.equal(visits(welcome), 1)
  const next = await (await browser.fetch('/')).text()
  assert.doesNotMatch(next, /Welcome, alice/)
  assert.equal(visits(next), 2)
  assert.equal(visits(await (await browser.fetch('/')).text()), 3)

  const logout = await browser.form('/logout', {})
  assert.equal(logout.status, 303)
  assert.equal(logout.headers.get('location'), '/')
  assert.equal(browser.jar.size, 0)
  const after = await (await browser.fetch('/')).text()
  assert.match(after, /You are not logged in/)
  assert.match(after, /href="\/login">Log in</)
})

test('HTML: names are validated and escaped', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'memory' })
  const browser = new Client(running.url)
  for (const username of ['', '   ', 'x'.repeat(65)]) {
    const response = await browser.form('/login', { username })
    assert.equal(response.status, 400)
    assert.match(await response.text(), /1 to 64 characters/)
  }
  assert.equal((await browser.form('/login', { username: 'é'.repeat(64) })).status, 303)
  const evil = '<script>alert("x")</script>'
  assert.equal((await browser.form('/login', { username: evil })).status, 303)
  const html = await (await browser.fetch('/')).text()
  assert.ok(!html.includes(evil))
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'))
})

test('HTML: cross-site POSTs are rejected with 403', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const browser = new Client(running.url)
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`]) {
    const response = await browser.form('/login', { username: 'mallory' }, origin)
    assert.equal(response.status, 403, origin)
    assert.deepEqual(response.headers.getSetCookie(), [])
  }
  const api = await browser.fetch('/api/session/regenerate', {
    method: 'POST',
    headers: { origin: 'http://evil.example' },
  })
  assert.equal(api.status, 403)
  // No Origin header (curl, old clients) or the same origin: accepted.
  assert.equal((await browser.form('/login', { username: 'alice' })).status, 303)
  const plain = await browser.fetch('/logout', { method: 'POST' })
  assert.equal(plain.status, 303)
})

test('HTML: your sessions, revoking one, signing out everywhere else', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const laptop = new Client(running.url)
  const phone = new Client(running.url)
  const tablet = new Client(running.url)
  const mallory = new Client(running.url)

  const gate = await laptop.fetch('/sessions')
  assert.equal(gate.status, 303)
  assert.equal(gate.headers.get('location'), '/login')

  for (const device of [laptop, phone, tablet]) await device.form('/login', { username: 'alice' })
  await mallory.form('/login', { username: 'mallory' })
  const page = await (await laptop.fetch('/sessions')).text()
  assert.equal(page.match(/<tr/g)?.length, 4) // a header row and three sessions
  assert.equal(page.match(/This session/g)?.length, 1)
  const handles = [...page.matchAll(/name="handle" value="([^"]+)"/g)].map((m) => m[1] ?? '')
  assert.equal(handles.length, 2)

  // Mallory cannot revoke Alice's sessions.
  await mallory.form('/sessions/revoke', { handle: handles[0] ?? '' })
  assert.match(await (await mallory.fetch('/sessions')).text(), /already signed out/)
  const alive = [await phone.fetch('/'), await tablet.fetch('/')]
  for (const response of alive) assert.match(await response.text(), /logged in as <strong>alice/)

  const revoke = await laptop.form('/sessions/revoke', { handle: handles[0] ?? '' })
  assert.equal(revoke.status, 303)
  assert.equal(revoke.headers.get('location'), '/sessions')
  const afterOne = await (await laptop.fetch('/sessions')).text()
  assert.match(afterOne, /Signed out that session/)
  assert.equal(afterOne.match(/<tr/g)?.length, 3)
  const states = await Promise.all(
    [phone, tablet].map(async (c) => /not logged in/.test(await (await c.fetch('/')).text())),
  )
  assert.equal(states.filter(Boolean).length, 1, 'exactly one other device was signed out')

  await laptop.form('/sessions/revoke-others', {})
  const afterAll = await (await laptop.fetch('/sessions')).text()
  assert.match(afterAll, /Signed out 1 other session\./)
  assert.match(afterAll, /not signed in anywhere else/)
  for (const c of [phone, tablet]) assert.match(await (await c.fetch('/')).text(), /not logged in/)
  assert.match(await (await mallory.fetch('/')).text(), /logged in as <strong>mallory/)
})

test('HTML: with cookie storage, "your sessions" explains that listing needs a server store', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie' })
  const browser = new Client(running.url)
  await browser.form('/login', { username: 'alice' })
  assert.match(await (await browser.fetch('/')).text(), /Welcome, alice/)
  const page = await browser.fetch('/sessions')
  assert.equal(page.status, 200)
  assert.match(await page.text(), /needs a server store/)
  const revoke = await browser.form('/sessions/revoke', { handle: 'x' })
  assert.equal(revoke.status, 400)
  assert.match(await revoke.text(), /needs a server store/)
})

test('unknown routes answer 404, wrong methods 405', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'memory' })
  const client = new Client(running.url)
  const api = await client.fetch('/api/nothing')
  assert.equal(api.status, 404)
  assert.equal(typeof ((await api.json()) as { error: unknown }).error, 'string')
  assert.equal((await client.fetch('/nothing')).status, 404)
  const put = await client.fetch('/api/session', { method: 'PUT' })
  assert.equal(put.status, 405)
  assert.equal(put.headers.get('allow'), 'GET, PATCH, DELETE')
  assert.deepEqual(put.headers.getSetCookie(), [])
})
