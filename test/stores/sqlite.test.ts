import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.ts'
import { assertExitsByItself, eventually, HOUR, record } from '../support/store-helpers.ts'
import { runStoreSuite } from '../support/store-suite.ts'

const dir = mkdtempSync(join(tmpdir(), 'sessionware-sqlite-'))
after(() => rmSync(dir, { recursive: true, force: true }))

runStoreSuite('sqlite store (:memory:)', async (t) => {
  let offset = 0
  const store = createSqliteStore(':memory:', { clock: () => Date.now() + offset })
  t.after(() => store.close())
  return {
    store,
    advance: (ms) => {
      offset += ms
    },
  }
})

// One store on one file, shared by every test of the suite (the suite's ids are unique).
let fileOffset = 0
let fileStore: SqliteStore | undefined
after(() => fileStore?.close())
runStoreSuite('sqlite store (file, WAL)', async () => {
  fileStore ??= createSqliteStore(join(dir, 'suite.db'), {
    clock: () => Date.now() + fileOffset,
  })
  return {
    store: fileStore,
    advance: (ms) => {
      fileOffset += ms
    },
  }
})

function tableNames(db: Database.Database): string[] {
  const rows = db
    .prepare("SELECT name FROM sqlite_master WHERE type IN ('table', 'index') ORDER BY name")
    .all() as { name: string }[]
  return rows.map((row) => row.name).filter((name) => !name.startsWith('sqlite_'))
}

describe('sqlite store specifics', () => {
  it('keeps data after the file is closed and reopened', async () => {
    const path = join(dir, 'persist.db')
    const first = createSqliteStore(path)
    const stored = record('persisted', { subject: 'alice' })
    await first.create(stored)
    await first.update({ ...stored, data: '{"v":2}' }, 1)
    await first.close()

    const second = createSqliteStore(path)
    try {
      assert.deepEqual(await second.get('persisted'), { ...stored, data: '{"v":2}', version: 2 })
      assert.deepEqual(
        (await second.listBySubject('alice')).map((r) => r.id),
        ['persisted'],
      )
    } finally {
      await second.close()
    }
  })

  it('creates its schema on first use in an empty file, in WAL mode', async () => {
    const path = join(dir, 'empty.db')
    writeFileSync(path, '')
    const store = createSqliteStore(path)
    const inspector = new Database(path, { readonly: true })
    try {
      assert.deepEqual(tableNames(inspector), [], 'nothing is written before first use')
      assert.equal(await store.get('nothing'), null)
      assert.deepEqual(tableNames(inspector), [
        'sessionware_sessions',
        'sessionware_sessions_expires_at',
        'sessionware_sessions_subject',
      ])
      const columns = inspector.prepare('PRAGMA table_info(sessionware_sessions)').all() as {
        name: string
        type: string
        notnull: number
        pk: number
      }[]
      assert.deepEqual(
        columns.map((c) => [c.name, c.type, c.notnull, c.pk]),
        [
          ['id', 'TEXT', 0, 1],
          ['data', 'TEXT', 1, 0],
          ['version', 'INTEGER', 1, 0],
          ['created_at', 'INTEGER', 1, 0],
          ['last_active_at', 'INTEGER', 1, 0],
          ['expires_at', 'INTEGER', 1, 0],
          ['subject', 'TEXT', 0, 0],
        ],
      )
      assert.equal(inspector.pragma('journal_mode', { simple: true }), 'wal')
    } finally {
      inspector.close()
      await store.close()
    }
  })

  it('uses the table named in options', async (t) => {
    const db = new Database(':memory:')
    t.after(() => db.close())
    const store = createSqliteStore(db, { table: 'my_sessions', pruneInterval: 0 })
    await store.create(record('named'))
    assert.deepEqual(tableNames(db), [
      'my_sessions',
      'my_sessions_expires_at',
      'my_sessions_subject',
    ])
    assert.equal((db.prepare('SELECT count(*) AS n FROM my_sessions').get() as { n: number }).n, 1)
  })

  it('does not close a Database it was given', async () => {
    const db = new Database(':memory:')
    const store = createSqliteStore(db)
    await store.create(record('mine'))
    await store.close()
    assert.equal(db.open, true)
    assert.equal(
      (db.prepare('SELECT count(*) AS n FROM sessionware_sessions').get() as { n: number }).n,
      1,
    )
    db.close()
  })

  it('closes a database it opened itself', async () => {
    const store = createSqliteStore(':memory:')
    await store.create(record('x'))
    await store.close()
    await assert.rejects(store.get('x'), /not open/)
    await store.close() // idempotent
  })

  it('lets better-sqlite3 errors through as they are', async () => {
    const db = new Database(':memory:')
    const store = createSqliteStore(db)
    db.close()
    await assert.rejects(store.get('x'), (error: unknown) => {
      assert.ok(error instanceof TypeError)
      assert.equal((error as { code?: unknown }).code, undefined)
      return true
    })
    await store.close()
  })

  it('prunes expired rows on its timer', async (t) => {
    const db = new Database(':memory:')
    t.after(() => db.close())
    let now = Date.now()
    const store = createSqliteStore(db, { pruneInterval: 0.02, clock: () => now })
    t.after(() => store.close())
    await store.create(record('short', { expiresAt: now + 1000 }))
    await store.create(record('long', { expiresAt: now + HOUR }))
    const count = (): number =>
      (db.prepare('SELECT count(*) AS n FROM sessionware_sessions').get() as { n: number }).n
    await new Promise((resolve) => setTimeout(resolve, 60))
    assert.equal(count(), 2)
    now += 2000
    await eventually(() => count() === 1)
    assert.ok(await store.get('long'))
  })

  it('reports a failed automatic prune to onPruneError and keeps running', async (t) => {
    const db = new Database(':memory:')
    t.after(() => db.close())
    const errors: unknown[] = []
    let failing = true
    const store = createSqliteStore(db, {
      pruneInterval: 0.01,
      clock: () => {
        if (failing) throw new Error('clock broke')
        return Date.now()
      },
      onPruneError: (error) => errors.push(error),
    })
    t.after(() => store.close())
    await eventually(() => errors.length > 0)
    assert.match(String(errors[0]), /clock broke/)
    failing = false
    await store.create(record('fine'))
    assert.ok(await store.get('fine'))
  })

  it('disables automatic pruning with pruneInterval 0 and says so in capabilities', async (t) => {
    const store = createSqliteStore(':memory:', { pruneInterval: 0 })
    t.after(() => store.close())
    assert.deepEqual(store.capabilities, { atomic: true, ttl: false, subjectIndex: true })
    const pruning = createSqliteStore(':memory:')
    t.after(() => pruning.close())
    assert.deepEqual(pruning.capabilities, { atomic: true, ttl: true, subjectIndex: true })
  })

  it('does not keep the process alive', async () => {
    const script = fileURLToPath(new URL('../fixtures/idle-store.ts', import.meta.url))
    await assertExitsByItself(['--import', 'tsx', script, 'sqlite'])
  })

  it('rejects an invalid table name with ERR_SESSION_CONFIG', () => {
    for (const table of [
      '',
      'bad name',
      'x;DROP TABLE y',
      '1abc',
      'a"b',
      'sqlite_x',
      'a'.repeat(65),
    ]) {
      assert.throws(() => createSqliteStore(':memory:', { table }), {
        name: 'SessionConfigError',
        code: 'ERR_SESSION_CONFIG',
      })
    }
  })

  it('rejects other invalid options with ERR_SESSION_CONFIG', () => {
    const invalid: unknown[] = [
      { pruneInterval: -1 },
      { pruneInterval: Number.NaN },
      { pruneInterval: 3_000_000 },
      { clock: 'now' },
      { onPruneError: true },
    ]
    for (const options of invalid) {
      assert.throws(
        () => createSqliteStore(':memory:', options as Parameters<typeof createSqliteStore>[1]),
        { name: 'SessionConfigError', code: 'ERR_SESSION_CONFIG' },
        JSON.stringify(options),
      )
    }
    assert.throws(() => createSqliteStore(42 as unknown as string), {
      code: 'ERR_SESSION_CONFIG',
    })
  })
})
