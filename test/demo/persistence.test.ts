/**
 * What the demo keeps on disk across restarts: sessions in the SQLite file, and the secret it
 * generates on the first run when SESSION_KEYS is not set.
 */
import assert from 'node:assert/strict'
import { readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from 'node:test'
import { answer } from './demo-fixture.ts'
import { Client, cleanups, startDemo, tempDir } from './helpers.ts'

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
