import { createMemoryStore } from '../../src/stores/memory.ts'
import { createSqliteStore } from '../../src/stores/sqlite.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'

runConcurrencySuite('memory store', async () => createMemoryStore())
runConcurrencySuite('SQLite store', async () => createSqliteStore(':memory:'))
