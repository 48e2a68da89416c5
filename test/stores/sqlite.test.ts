import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import Database from 'better-sqlite3'
import { createSqliteStore, type SqliteStore } from '../../src/stores/sqlite.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'
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

runConcurrencySuite('SQLite store', async (t) => {
  const store = createSqliteStore(':memory:')
  t.after(() => store.close())
  return store
})

// One store on one file, shared by every test of the suite (the suite's ids are unique).
let fileOffset = 0
let fileStore: SqliteStore | undefined
after(() => fileStore?.close())
runStoreSuite('sqlite store (file, WAL)', async () => {
  fileOffset = 0 // each test starts on wall-clock time
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
    const { lastActiveAt, expiresAt } = stored
    await first.patch('persisted', { set: { 'd:v': '2' }, unset: [], lastActiveAt, expiresAt })
    await first.close()

    const second = createSqliteStore(path)
    try {
      assert.deepEqual(await second.get('persisted'), {
        ...stored,
        fields: { ...stored.fields, 'd:v': '2' },
        version: 2,
      })
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
          ['fields', 'TEXT', 1, 0],
          ['version', 'INTEGER', 1, 0],
          ['created_at', 'INTEGER', 1, 0],
          ['last_active_at', 'INTEGER', 1, 0],
          ['expires_at', 'INTEGER', 1, 0],
          ['subject', 'TEXT', 0, 0],
          ['moved_to', 'TEXT', 0, 0],
        ],
      )
      assert.equal(inspector.pragma('journal_mode', { simple: true }), 'wal')
    } finally {
      inspector.close()
      await store.close()
    }
  })

  it('stores the fields as one JSON object of strings, hostile names included', async (t) => {
    const db = new Database(':memory:')
    t.after(() => db.close())
    const store = createSqliteStore(db, { pruneInterval: 0 })
    const names = ['d:"', "d:'", 'd:\\', 'd:$.a', '__proto__', 'd:{}', 'd:🎉']
    const set = Object.fromEntries(names.map((name) => [name, JSON.stringify(name)]))
    await store.create(record('json', { fields: { m: '60', 'f:x': '1' } }))
    const now = Date.now()
    const patch = { set, unset: ['m'], clearPrefix: 'f:', lastActiveAt: now, expiresAt: now + HOUR }
    assert.deepEqual(await store.patch('json', patch), { ok: true, version: 2 })
    const rows = db
      .prepare(
        "SELECT key, type, value FROM sessionware_sessions AS s, json_each(s.fields) WHERE s.id = 'json'",
      )
      .all() as { key: string; type: string; value: string }[]
    assert.deepEqual(
      rows.map((row) => [row.key, row.type, row.value]).sort(),
      names.map((name) => [name, 'text', JSON.stringify(name)]).sort(),
    )
  })

  it('refuses a table of the earlier layout with a SessionConfigError that says what to do', async (t) => {
    const db = new Database(':memory:')
    t.after(() => db.close())
    db.exec(
      'CREATE TABLE old_sessions (id TEXT PRIMARY KEY, data TEXT NOT NULL, version INTEGER NOT NULL, ' +
        'created_at INTEGER NOT NULL, last_active_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, subject TEXT)',
    )
    const store = createSqliteStore(db, { table: 'old_sessions', pruneInterval: 0 })
    await assert.rejects(store.get('x'), (error: unknown) => {
      assert.equal((error as { code?: unknown }).code, 'ERR_SESSION_CONFIG')
      assert.match(String(error), /old_sessions.*earlier sessionware layout/)
      assert.match(String(error), /DROP TABLE "old_sessions"/)
      return true
    })
    // Once the table is gone, the same store creates the new one and works.
    db.exec('DROP TABLE old_sessions')
    assert.deepEqual(await store.create(record('fresh')), { ok: true, version: 1 })
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
    assert.deepEqual(store.capabilities, { patch: 'server', ttl: false, subjectIndex: true })
    const pruning = createSqliteStore(':memory:')
    t.after(() => pruning.close())
    assert.deepEqual(pruning.capabilities, { patch: 'server', ttl: true, subjectIndex: true })
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
