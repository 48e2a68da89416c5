/*
 * The Redis store's timeout with many calls in flight: each call rejects at its own deadline
 * (counted from when it started, not from the first call's or the last one's), calls answered in
 * time resolve whatever happened to the others, and once nothing is in flight the store holds no
 * timer, so an idle process can exit by itself.
 */
import assert from 'node:assert/strict'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { createRedisStore } from '../../src/stores/redis.ts'
import { nodeRedis } from '../support/redis-clients.ts'
import { redisCli, startRedis } from '../support/redis-server.ts'
import { assertExitsByItself, newRecord, touchPatch } from '../support/store-helpers.ts'

/** Milliseconds from `start` until `promise` settles, and its error if it rejected. */
async function settled(start: number, promise: Promise<unknown>) {
  try {
    await promise
    return { ms: Date.now() - start, error: undefined as unknown }
  } catch (error) {
    return { ms: Date.now() - start, error }
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

describe('redis store timeout, many calls in flight', () => {
  it('rejects each stalled call at its own deadline, and resolves the calls answered in time', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const client = await nodeRedis(server.url)
    t.after(() => client.destroy())
    const store = createRedisStore(client, { timeout: 1 })
    const stored = newRecord()
    await store.create(stored)

    // Redis answers nothing for 2.5 s: calls started at 0, 400 and 800 ms time out at about 1000,
    // 1400 and 1800 ms; one started at 2000 ms waits 0.5 s for the answer and gets it.
    await redisCli(server.port, 'client', 'pause', '2500', 'ALL')
    const start = Date.now()
    const first = settled(start, store.get(stored.id))
    await sleep(400)
    const second = settled(start, store.patch(stored.id, touchPatch()))
    await sleep(400)
    const third = settled(start, store.get(stored.id))
    await sleep(1200)
    const answered = settled(start, store.get(stored.id))
    const results = await Promise.all([first, second, third, answered])

    const expected = [
      [1000, /redis store: get timed out after 1 s/],
      [1400, /redis store: patch timed out after 1 s/],
      [1800, /redis store: get timed out after 1 s/],
    ] as const
    expected.forEach(([ms, message], i) => {
      const result = results[i] as Awaited<typeof first>
      assert.match(String(result.error), message)
      assert.ok(
        result.ms >= ms - 50 && result.ms < ms + 350,
        `call ${i + 1} failed after ${result.ms} ms, expected about ${ms}`,
      )
    })
    const last = results[3] as Awaited<typeof first>
    assert.equal(last.error, undefined, `the call answered in time failed: ${String(last.error)}`)
    assert.ok(last.ms >= 2300, `answered after ${last.ms} ms, before Redis resumed`)
  })

  it('holds no timer once its calls have settled (the process exits by itself)', async (t) => {
    const server = await startRedis(t)
    if (server === null) return
    const script = join(tmpdir(), `redis-timeout-exit-${process.pid}.mts`)
    t.after(() => rmSync(script, { force: true }))
    const support = fileURLToPath(new URL('../support/redis-clients.ts', import.meta.url))
    const source = fileURLToPath(new URL('../../src/stores/redis.ts', import.meta.url))
    writeFileSync(
      script,
      `import { nodeRedis } from ${JSON.stringify(support)}
import { createRedisStore } from ${JSON.stringify(source)}
const client = await nodeRedis(${JSON.stringify(server.url)})
const store = createRedisStore(client, { timeout: 60 })
await Promise.all(Array.from({ length: 64 }, (_, i) => store.get('exit-' + i)))
// Only the client's socket is left: unref it, so any timer of the store would keep us alive.
client.unref()
`,
    )
    await assertExitsByItself(['--import', 'tsx', script])
  })
})
