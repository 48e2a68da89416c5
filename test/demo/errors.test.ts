/**
 * The demo's error answers over real HTTP: 503 while the store fails (and recovery after it), 404
 * for unknown routes and 405 for wrong methods.
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { answer, demo } from './demo-fixture.ts'
import { Client, cleanups } from './helpers.ts'

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
