/**
 * Helpers shared by the PostgreSQL store's own test files (the conformance suite has its own in
 * store-helpers.ts). Not part of the package.
 *
 * @module
 */
import { randomUUID } from 'node:crypto'
import type { TestContext } from 'node:test'
import type pg from 'pg'
import type { SessionRecord } from '../../src/core/types.ts'
import {
  createPostgresStore,
  type PostgresStore,
  type PostgresStoreOptions,
} from '../../src/stores/postgres.ts'
import { HOUR } from './store-helpers.ts'

/** A live version-1 record with a random id and one data field, valid for an hour. */
export function record(fields: Partial<SessionRecord> = {}): SessionRecord {
  const now = Date.now()
  return {
    id: `test-${randomUUID()}`,
    fields: { 'd:n': JSON.stringify(randomUUID()), m: '1800' },
    version: 1,
    createdAt: now,
    lastActiveAt: now,
    expiresAt: now + HOUR,
    ...fields,
  }
}

/** A table name no other test uses. */
export function uniqueName(prefix = 'sessions'): string {
  return `${prefix}_${randomUUID().replaceAll('-', '').slice(0, 16)}`
}

/** The store, closed after the test. */
export function storeOn(
  t: TestContext,
  client: pg.Pool | pg.Client,
  options?: PostgresStoreOptions,
): PostgresStore {
  const store = createPostgresStore(client, options)
  t.after(() => store.close())
  return store
}
