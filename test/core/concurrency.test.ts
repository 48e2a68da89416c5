import { createMemoryStore } from '../../src/stores/memory.ts'
import { runConcurrencySuite } from '../support/concurrency-suite.ts'

runConcurrencySuite('memory store', async () => createMemoryStore())
