/**
 * The demo's JSON API over real HTTP, on sqlite, memory and cookie storage (the sealed, signed and
 * plain codecs). Restarts and the generated secret: `persistence.test.ts`; store failures and
 * unknown routes: `errors.test.ts`; the HTML flow: `web.test.ts`. Redis, memcached and PostgreSQL:
 * `stores.test.ts` and `outage.test.ts`; configuration: `config.test.ts`.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import type { MemoryStore } from '../../src/stores/memory.ts'
import { answer, demo } from './demo-fixture.ts'
import { Client, parseSetCookie, type Running } from './helpers.ts'

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
