/**
 * Helpers shared by the store conformance suite (`store-suite.ts`, `patch-suite.ts`) and the
 * store-specific tests in `test/stores/*.test.ts`: record builders and record assertions that
 * depend only on the store contract.
 *
 * Not part of the package.
 *
 * @module
 */

import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import type {
  PatchResult,
  SessionFields,
  SessionPatch,
  SessionRecord,
  SessionStore,
  WriteResult,
} from '../../src/core/types.ts'

export const MINUTE = 60_000
export const HOUR = 3_600_000

/** A live record with id `id`, active now and expiring in an hour, with `overrides` on top. */
export function record(id: string, overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id,
    fields: { 'd:id': JSON.stringify(id), m: '1800' },
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...overrides,
  }
}

/** A fresh random store key. */
export function newId(): string {
  return `test-${randomUUID()}`
}

/** A live version-1 record with a fresh random id, valid for an hour from now. */
export function newRecord(overrides: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return record(newId(), {
    fields: { 'd:n': JSON.stringify(randomUUID()), 'f:notice': '"hi"', m: '1800' },
    createdAt: now - 10_000,
    ...overrides,
  })
}

/** A patch that changes nothing but the times: a touch, to the given deadlines. */
export function touchPatch(overrides: Partial<SessionPatch> = {}): SessionPatch {
  const now = Date.now()
  return { set: {}, unset: [], lastActiveAt: now, expiresAt: now + HOUR, ...overrides }
}

/** Creates `record` and asserts that the store accepted it as version 1. */
export async function mustCreate(store: SessionStore, stored: SessionRecord): Promise<void> {
  assert.deepEqual(await store.create(stored), { ok: true, version: 1 })
}

/** Applies `patch` and asserts that it succeeded with version `version`. */
export async function mustPatch(
  store: SessionStore,
  id: string,
  patch: SessionPatch,
  version: number,
): Promise<void> {
  assert.deepEqual(await store.patch(id, patch), { ok: true, version })
}

/** The fields as sorted `[name, text]` pairs: independent of the object's prototype and order. */
export function fieldEntries(fields: SessionFields | undefined): Array<[string, string]> {
  if (fields === undefined) return []
  return Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
}

/**
 * Compares the contract's fields; an absent subject or `movedTo` and `undefined` are the same, and
 * fields compare as name/text pairs.
 */
export function assertSameRecord(actual: SessionRecord | null, expected: SessionRecord): void {
  assert.ok(actual, `expected record ${expected.id}, got null`)
  assert.deepEqual(contractView(actual), contractView(expected))
}

function contractView(stored: SessionRecord): Record<string, unknown> {
  return {
    id: stored.id,
    fields: fieldEntries(stored.fields),
    version: stored.version,
    createdAt: stored.createdAt,
    lastActiveAt: stored.lastActiveAt,
    expiresAt: stored.expiresAt,
    subject: stored.subject ?? null,
    movedTo: stored.movedTo ?? null,
  }
}

/** Asserts a `conflict` result and narrows it. */
export function assertConflict(
  result: WriteResult,
): asserts result is Extract<WriteResult, { reason: 'conflict' }> {
  assert.equal(result.ok, false, 'expected a conflict, got ok')
  assert.equal(result.ok === false && result.reason, 'conflict')
}

/** Asserts that a patch failed because the record is gone. */
export function assertGone(result: PatchResult): void {
  assert.deepEqual(result, { ok: false, reason: 'gone' })
}

/** Resolves once `check()` is (or resolves) true, or fails after `timeout` ms. */
export async function eventually(
  check: () => boolean | Promise<boolean>,
  timeout = 2000,
): Promise<void> {
  const deadline = Date.now() + timeout
  while (!(await check())) {
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
