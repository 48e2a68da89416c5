/**
 * Helpers shared by the store-specific tests in `test/stores/*.test.ts` (the conformance
 * scenarios themselves live in `store-suite.ts`).
 *
 * Not part of the package.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import type { SessionRecord } from '../../src/core/types.ts'

export const HOUR = 3_600_000

/** A live record with id `id`, active now and expiring in an hour, with `fields` on top. */
export function record(id: string, fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id,
    data: `{"id":"${id}"}`,
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...fields,
  }
}

/** Resolves once `check()` is true, or fails after `timeout` ms. */
export async function eventually(check: () => boolean, timeout = 2000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`condition not met within ${timeout} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

/**
 * Runs `node <args>` and asserts that it exits with code 0 by itself: a store's timers must not
 * keep the process alive. The child is killed after 5 s, which fails the assertion.
 */
export async function assertExitsByItself(args: string[]): Promise<void> {
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const timeout = setTimeout(() => child.kill(), 5000)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timeout)
  assert.equal(code, 0, `child did not exit by itself (code ${code}): ${stderr}`)
}
