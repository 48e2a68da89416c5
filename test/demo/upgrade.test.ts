/**
 * The demo on a SQLite file that an earlier sessionware (store contract v1) wrote: its table is
 * replaced with a warning on start, instead of every request answering 503.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { Client, cleanups, type SessionAnswer, startDemo, TEST_KEY, tempDir } from './helpers.ts'

async function answer(response: Response): Promise<SessionAnswer> {
  assert.equal(response.status, 200)
  return (await response.json()) as SessionAnswer
}

test('a demo database from an earlier sessionware is replaced with a warning, not a 503', async (t) => {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const path = join(dir, 'sessions.db')
  const old = new Database(path)
  old.exec(
    'CREATE TABLE sessionware_sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL, ' +
      'created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, subject TEXT)',
  )
  old.close()
  const env = { SESSION_STORE: 'sqlite', SQLITE_PATH: path, SESSION_KEYS: TEST_KEY }
  const first = await startDemo(env)
  defer(() => first.app.close())
  assert.ok(
    first.logs.some((line) => /earlier sessionware; replaced it/.test(line)),
    first.logs.join('\n'),
  )
  const client = new Client(first.url)
  const written = await answer(await client.json('/api/session', 'PATCH', { n: 1 }))
  assert.deepEqual(written.data, { n: 1 })
  await first.app.close()
  const second = await startDemo(env)
  defer(() => second.app.close())
  assert.deepEqual(second.logs, [], 'the new table is kept')
  const again = new Client(second.url, client.jar)
  assert.deepEqual((await answer(await again.fetch('/api/session'))).data, { n: 1 })
})
