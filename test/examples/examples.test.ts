/**
 * Every framework example (`npm run example <name>`) serves the demo's JSON API contract, over
 * real HTTP from a child process started the way a user starts it: `GET /api/none`,
 * `GET|PATCH|DELETE /api/session`, `POST /api/session/regenerate`, 400 and 413 for bad bodies,
 * 503 with `ERR_SESSION_STORE` when the store is down, and (all but fetch) `GET /api/ws`, whose
 * first message is the session in the shape of `GET /api/session`. The Fetch example also runs
 * under Bun and Deno.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { firstMessage } from '../support/adapter-suite-upgrade.ts'
import { EXAMPLES, startExample } from '../support/examples.ts'
import { Client, json, send } from '../support/http.ts'
import { servicesRequired } from '../support/services.ts'

const ROOT = join(import.meta.dirname, '..', '..')

interface SessionShape {
  id: string | null
  isNew: boolean
  data: Record<string, unknown>
}

const patch = (client: Client, body: string) =>
  client.request('/api/session', {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body,
  })

/** The JSON API contract, on memory storage. */
async function contract(base: string, websocket: boolean): Promise<void> {
  const client = new Client(base)
  const none = await client.get('/api/none')
  assert.equal(none.status, 200)
  assert.deepEqual(json(none), { ok: true })
  assert.deepEqual(none.rawSetCookies, [])

  const anonymous = await client.get('/api/session')
  assert.equal(anonymous.status, 200)
  const visitor = json<SessionShape>(anonymous)
  assert.equal(visitor.isNew, true)
  assert.deepEqual(visitor.data, {})
  assert.deepEqual(anonymous.rawSetCookies, [], 'reading sets no cookie')

  const written = await patch(client, '{"user":"ann","n":1,"note":"héllo ;,\\""}')
  assert.equal(written.status, 200, written.body)
  const data = { user: 'ann', n: 1, note: 'héllo ;,"' }
  assert.deepEqual(json<SessionShape>(written).data, data)
  assert.ok(client.cookie('session'), 'the write set the session cookie')

  const oldCookie = client.cookieHeader as string
  const read = json<SessionShape>(await client.get('/api/session'))
  assert.equal(read.isNew, false)
  assert.deepEqual(read.data, data)
  assert.equal(typeof read.id, 'string')

  const removed = await patch(client, '{"note":null}')
  assert.deepEqual(json<SessionShape>(removed).data, { user: 'ann', n: 1 })

  for (const bad of ['{not json', '[1,2]', '"text"', 'null', '{"__proto__":{"x":1}}']) {
    const result = await patch(client, bad)
    assert.equal(result.status, 400, `${bad}: ${result.body}`)
    assert.equal(typeof json<{ error: string }>(result).error, 'string')
  }
  const huge = await patch(client, JSON.stringify({ big: 'x'.repeat(70 * 1024) }))
  assert.equal(huge.status, 413)

  const renewed = await client.request('/api/session/regenerate', { method: 'POST' })
  assert.equal(renewed.status, 200, renewed.body)
  const after = json<SessionShape>(renewed)
  assert.notEqual(after.id, read.id, 'regenerate gives a new id')
  assert.deepEqual(after.data, { user: 'ann', n: 1 })

  if (websocket) {
    const greeting = JSON.parse(await firstMessage(`${base}/api/ws`, client.cookieHeader))
    assert.deepEqual(greeting, json(await client.get('/api/session')))
  }

  const ended = await client.request('/api/session', { method: 'DELETE' })
  assert.equal(ended.status, 200)
  assert.deepEqual(json(ended), { id: null, isNew: true, data: {} })
  const fresh = await send(`${base}/api/session`, { headers: { cookie: oldCookie } })
  assert.equal(json<SessionShape>(fresh).isNew, true)
}

/** With the store down, a request that needs a stored session gets 503 and the error code. */
async function storeDown(base: string): Promise<void> {
  const result = await send(`${base}/api/session`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json' },
    body: '{"n":1}',
  })
  assert.equal(result.status, 503, result.body)
  assert.equal(json<{ code?: string }>(result).code, 'ERR_SESSION_STORE')
}

describe('framework examples serve the demo JSON API', () => {
  for (const name of EXAMPLES) {
    describe(name, () => {
      it('serves the contract on memory storage', async (t) => {
        assert.ok(existsSync(join(ROOT, 'examples', name, 'main.ts')), `examples/${name}/main.ts`)
        const base = await startExample(t, name, { SESSION_STORE: 'memory' })
        await contract(base, name !== 'fetch')
      })

      it('answers 503 with ERR_SESSION_STORE when Redis cannot be reached', async (t) => {
        const base = await startExample(t, name, {
          SESSION_STORE: 'redis',
          REDIS_URL: 'redis://127.0.0.1:1',
          SESSION_STORE_TIMEOUT: '0.5',
        })
        await storeDown(base)
      })
    })
  }

  for (const runtime of ['bun', 'deno'] as const) {
    it(`runs the Fetch example under ${runtime} (npm run example fetch -- --runtime=${runtime})`, async (t) => {
      if (!existsSync(join(ROOT, 'node_modules', '.bin', runtime))) {
        const reason = `${runtime} is not installed (npm ci installs it)`
        if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
        t.skip(reason)
        return
      }
      const base = await startExample(t, 'fetch', { SESSION_STORE: 'memory' }, runtime)
      await contract(base, false)
    })
  }
})
