/**
 * For the demo tests over HTTP (api, errors, persistence, web): the demo started for one test on a
 * temporary SQLite file with a test key, and a JSON API answer checked and parsed.
 */
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import {
  cleanups,
  type Running,
  type SessionAnswer,
  startDemo,
  TEST_KEY,
  tempDir,
} from './helpers.ts'

/** Starts the demo for one test; stops it and removes its data when the test ends. */
export async function demo(t: TestContext, env: Record<string, string>): Promise<Running> {
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

/** Asserts a JSON answer with `status` and returns its body. */
export async function answer(response: Response, status = 200): Promise<SessionAnswer> {
  assert.equal(response.status, status)
  assert.match(response.headers.get('content-type') ?? '', /^application\/json/)
  return (await response.json()) as SessionAnswer
}
