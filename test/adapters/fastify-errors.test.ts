import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { SessionCookieTooLargeError, SessionStoreError } from '../../src/index.ts'
import { assertNoSetCookie, assertOk, sessionCookie, writes } from '../support/adapter-checks.ts'
import { type StartedFastify, startFastify } from '../support/fastify-start.ts'
import { Client, json } from '../support/http.ts'

/** What a custom error handler saw. */
interface Seen {
  error: unknown
  status: number
}

/** The Readable bodies `/stream` answered, in order. */
const streams: Readable[] = []

/**
 * Routes: `/get` reads, `/set?key&value` writes, `/throw` writes then throws, `/stream` writes then
 * answers a Readable (kept in {@link streams}).
 */
function routes(request: FastifyRequest, reply: FastifyReply) {
  return {
    '/get': async () => (await request.getSession()).toJSON(),
    '/set': async () => {
      const { key, value } = request.query as { key: string; value: string }
      const session = await request.getSession()
      session.set(key, value)
      return { ok: true }
    },
    '/throw': async () => {
      const session = await request.getSession()
      session.set('half', 'done')
      throw new Error('boom in route')
    },
    '/stream': async () => {
      const session = await request.getSession()
      session.set('streamed', 'yes')
      const body = Readable.from(['a', 'b'])
      streams.push(body)
      return reply.type('text/plain').send(body)
    },
  }
}

/** Starts the routes above, with a recording error handler unless `handler` is false. */
async function start(
  t: Parameters<typeof startFastify>[0],
  kind: 'cookie' | 'server',
  handler = true,
): Promise<StartedFastify & { seen: Seen[] }> {
  const seen: Seen[] = []
  const started = await startFastify(
    t,
    (app) => {
      if (handler) {
        app.setErrorHandler((error, _request, reply) => {
          seen.push({ error, status: reply.statusCode })
          reply.send({ error: (error as Error).message })
        })
      }
      app.get('/*', async (request, reply) => {
        const table: Record<string, () => Promise<unknown>> = routes(request, reply)
        const route = table[request.url.split('?')[0] ?? '']
        if (route === undefined) return reply.code(404).send()
        return route()
      })
    },
    { kind },
  )
  return { ...started, seen }
}

describe('Fastify adapter: errors reach setErrorHandler', () => {
  it('a store failure on load arrives as SessionStoreError (operation load), status 503', async (t) => {
    const { client, fixture, seen } = await start(t, 'server')
    assertOk(await client.get('/set?key=a&value=1'))
    fixture.store?.failing.add('get')
    const result = await client.get('/get')
    assert.equal(result.status, 503)
    assertNoSetCookie(result)
    assert.equal(seen.length, 1)
    assert.ok(seen[0]?.error instanceof SessionStoreError)
    assert.equal(seen[0].error.operation, 'load')
    assert.equal(seen[0].status, 503, 'the error handler starts with 503')
    fixture.store?.failing.clear()
    assert.deepEqual(json(await client.get('/get')), { a: '1' })
  })

  it('a store failure on commit arrives as SessionStoreError (operation update), nothing sent', async (t) => {
    const { client, fixture, seen } = await start(t, 'server')
    assertOk(await client.get('/set?key=a&value=1'))
    fixture.store?.failing.add('patch')
    const result = await client.get('/set?key=a&value=2')
    assert.equal(result.status, 503)
    assert.deepEqual(json(result), { error: 'session store failed to update: store down' })
    assertNoSetCookie(result)
    assert.ok(seen[0]?.error instanceof SessionStoreError)
    assert.equal(seen[0].error.operation, 'update')
    fixture.store?.failing.clear()
    assert.deepEqual(json(await client.get('/get')), { a: '1' })
  })

  it('a commit failure under a streamed body answers the error and destroys the stream', async (t) => {
    const { client, fixture, seen } = await start(t, 'server')
    assertOk(await client.get('/set?key=a&value=1'))
    fixture.store?.failing.add('patch')
    const result = await client.get('/stream')
    assert.equal(result.status, 503)
    assert.deepEqual(json(result), { error: 'session store failed to update: store down' })
    assert.equal(seen.length, 1)
    assert.equal(streams.at(-1)?.destroyed, true, 'the unsent body was released')
    fixture.store?.failing.clear()
    const streamed = await client.get('/stream')
    assert.equal(streamed.body, 'ab')
    assert.deepEqual(json(await client.get('/get')), { a: '1', streamed: 'yes' })
  })

  it('a cookie over 4096 bytes arrives as SessionCookieTooLargeError, status 500', async (t) => {
    const { client, seen } = await start(t, 'cookie')
    const result = await client.get(`/set?key=big&value=${'x'.repeat(5000)}`)
    assert.equal(result.status, 500)
    assertNoSetCookie(result)
    assert.ok(seen[0]?.error instanceof SessionCookieTooLargeError)
    assert.equal(seen[0].status, 500)
  })

  it("without setErrorHandler, Fastify's default handler answers 503 and 500 with the codes", async (t) => {
    const { client, fixture } = await start(t, 'server', false)
    assertOk(await client.get('/set?key=a&value=1'))
    fixture.store?.failing.add('get')
    const load = await client.get('/get')
    assert.equal(load.status, 503)
    assert.equal(json(load).code, 'ERR_SESSION_STORE')
    fixture.store?.failing.clear()
    fixture.store?.failing.add('patch')
    const commit = await client.get('/set?key=a&value=2')
    assert.equal(commit.status, 503)
    assert.equal(json(commit).code, 'ERR_SESSION_STORE')
    assertNoSetCookie(commit)
    const cookie = await start(t, 'cookie', false)
    const big = await cookie.client.get(`/set?key=big&value=${'x'.repeat(5000)}`)
    assert.equal(big.status, 500)
    assert.equal(json(big).code, 'ERR_SESSION_COOKIE_TOO_LARGE')
  })
})

describe('Fastify adapter: a failed request commits nothing', () => {
  for (const kind of ['cookie', 'server'] as const) {
    it(`a throwing route saves nothing, even when the error handler answers 200 (${kind})`, async (t) => {
      const { client, fixture, seen } = await start(t, kind)
      assertOk(await client.get('/set?key=a&value=1'))
      const before = writes(fixture)
      const result = await client.get('/throw')
      assert.equal(result.status, 200, 'the error handler chose 200')
      assert.deepEqual(json(result), { error: 'boom in route' })
      assertNoSetCookie(result)
      assert.equal(result.headers.vary, 'Cookie')
      assert.equal(writes(fixture), before)
      assert.equal((seen[0] as Seen).error instanceof Error, true)
      assert.equal(((seen[0] as Seen).error as Error).message, 'boom in route')
      assert.deepEqual(json(await client.get('/get')), { a: '1' })
    })
  }

  it('an error thrown by a preHandler hook after a write saves nothing', async (t) => {
    const { client, fixture } = await startFastify(
      t,
      (app) => {
        app.get('/guarded', {
          preHandler: async (request) => {
            const session = await request.getSession()
            session.set('guard', 'passed')
            throw Object.assign(new Error('forbidden'), { statusCode: 403 })
          },
          handler: async () => 'never',
        })
      },
      { kind: 'server' },
    )
    const result = await client.get('/guarded')
    assert.equal(result.status, 403)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), 0)
  })

  it('an error handler that throws falls back to the default answer and saves nothing', async (t) => {
    const { client, fixture } = await startFastify(
      t,
      (app) => {
        app.setErrorHandler(() => {
          throw new Error('the error handler broke too')
        })
        app.get('/throw', async (request) => {
          ;(await request.getSession()).set('x', 1)
          throw new Error('first')
        })
      },
      { kind: 'server' },
    )
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assertNoSetCookie(result)
    assert.equal(writes(fixture), 0)
  })

  it('a hijacked reply whose commit fails is answered 503 and logged', async (t) => {
    const lines: string[] = []
    const { client, fixture } = await startFastify(
      t,
      (app) => {
        app.get('/raw', async (request, reply) => {
          ;(await request.getSession()).set('raw', 1)
          reply.hijack()
          reply.raw.writeHead(200, { 'content-type': 'text/plain' })
          reply.raw.end('raw')
        })
      },
      {
        kind: 'server',
        fastify: {
          logger: { level: 'error', stream: { write: (line: string) => lines.push(line) } },
        },
      },
    )
    fixture.store?.failing.add('create')
    const result = await client.get('/raw')
    assert.equal(result.status, 503)
    assert.equal(result.body, '')
    assertNoSetCookie(result)
    const logged = lines.map((line) => JSON.parse(line) as { msg: string; err?: { code?: string } })
    assert.equal(logged.length, 1)
    assert.equal(logged[0]?.err?.code, 'ERR_SESSION_STORE')
  })
})

describe('Fastify adapter: concurrency and hostile cookies', () => {
  it('32 parallel requests on one session each keep their change (server storage)', async (t) => {
    const { client } = await start(t, 'server')
    assertOk(await client.get('/set?key=first&value=0'))
    const results = await Promise.all(
      Array.from({ length: 32 }, (_, i) => client.get(`/set?key=k${i}&value=${i}`)),
    )
    for (const result of results) assertOk(result)
    const data = json(await client.get('/get'))
    assert.equal(Object.keys(data).length, 33)
    for (let i = 0; i < 32; i++) assert.equal(data[`k${i}`], String(i))
  })

  for (const kind of ['cookie', 'server'] as const) {
    it(`garbage cookies get a fresh session, not a 500 (${kind})`, async (t) => {
      const { base, fixture } = await start(t, kind)
      const garbage = [
        'session=%%%garbage.not-a-token',
        `session=${'A'.repeat(8000)}`,
        'session="unterminated',
        'session=a.b.c.d; session=; session',
        'session=\u00e9t\u00e9',
        `session=${'0'.repeat(43)}`,
        '=; ;;session=%00',
      ]
      for (const cookie of garbage) {
        const read = await new Client(base).get('/get', { headers: { cookie } })
        assert.equal(read.status, 200, cookie.slice(0, 40))
        assert.deepEqual(json(read), {})
        const write = await new Client(base).get('/set?key=a&value=1', { headers: { cookie } })
        assert.equal(write.status, 200, cookie.slice(0, 40))
        assert.ok(sessionCookie(write)?.value, 'a fresh session is issued')
      }
      assert.equal(fixture.reasons.length, 2 * garbage.length, 'each request reported its cookie')
    })
  }
})
