import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import fc from 'fast-check'
import type Koa from 'koa'
import { SessionCookieTooLargeError, SessionStoreError } from '../../src/index.ts'
import { type SessionView, view } from '../support/adapter-suite.ts'
import { errorCode, json } from '../support/http.ts'

import { increment, orView, start, storedN } from '../support/koa-start.ts'

describe('Koa adapter: errors', () => {
  /** An error handler above the session middleware that records what it caught. */
  function recorder(caught: unknown[]): Koa.Middleware {
    return async (ctx, next) => {
      try {
        await next()
      } catch (error) {
        caught.push(error)
        const { status, code } = error as { status?: number; code?: string }
        ctx.status = status ?? 500
        ctx.body = { error: 'caught', code }
      }
    }
  }

  it('throws a store failure on save to the handler above as SessionStoreError with status 503', async (t) => {
    const caught: unknown[] = []
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server', upstream: recorder(caught) },
    )
    assert.equal((await client.get('/')).status, 200)
    fixture.store?.failing.add('patch')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.deepEqual(json(result), { error: 'caught', code: 'ERR_SESSION_STORE' })
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers.vary, 'Cookie', 'the session was read')
    assert.equal(caught.length, 1)
    const error = caught[0] as SessionStoreError & { status: number; expose?: boolean }
    assert.ok(error instanceof SessionStoreError)
    assert.equal(error.operation, 'update')
    assert.equal(error.status, 503)
    assert.equal(error.expose, undefined, 'the message stays private')
    assert.deepEqual(appErrors, [])
  })

  it('throws a session too large for a cookie to the handler above as SessionCookieTooLargeError', async (t) => {
    const caught: unknown[] = []
    const { client } = await start(
      t,
      async (ctx) => {
        ;(await ctx.getSession()).set('big', 'x'.repeat(5000))
        ctx.body = 'ok'
      },
      { upstream: recorder(caught) },
    )
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.ok(caught[0] instanceof SessionCookieTooLargeError)
    assert.equal((caught[0] as { status?: number }).status, undefined)
  })

  it("without an error handler, Koa's own answers a store failure 503 and emits it on app 'error'", async (t) => {
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server' },
    )
    fixture.store?.failing.add('create')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.equal(result.body, 'Service Unavailable')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(appErrors.length, 1)
    assert.ok(appErrors[0] instanceof SessionStoreError)
    assert.equal((appErrors[0] as SessionStoreError).operation, 'create')
  })

  it("without an error handler, a store failure on load is a 503 on app 'error' too", async (t) => {
    const { client, fixture, appErrors } = await start(
      t,
      async (ctx) => {
        await increment(ctx)
        ctx.body = 'ok'
      },
      { kind: 'server' },
    )
    assert.equal((await client.get('/')).status, 200)
    fixture.store?.failing.add('get')
    const result = await client.get('/')
    assert.equal(result.status, 503)
    assert.equal((appErrors[0] as SessionStoreError).operation, 'load')
  })

  it("without an error handler, Koa's own answers a session too large for a cookie 500", async (t) => {
    const { client, appErrors } = await start(t, async (ctx) => {
      ;(await ctx.getSession()).set('big', 'x'.repeat(5000))
      ctx.body = 'ok'
    })
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'Internal Server Error')
    assert.deepEqual(result.rawSetCookies, [])
    assert.ok(appErrors[0] instanceof SessionCookieTooLargeError)
  })

  it('commits nothing for a middleware that throws after a write (ctx.throw)', async (t) => {
    for (const kind of ['cookie', 'server'] as const) {
      const { client, fixture, appErrors } = await start(
        t,
        orView(async (ctx) => {
          await increment(ctx)
          if (ctx.path === '/throw') ctx.throw(400, 'bad input')
          ctx.body = 'ok'
        }),
        { kind },
      )
      assert.equal((await client.get('/inc')).status, 200)
      const before = fixture.store ? fixture.store.total() : fixture.codec?.calls.encode
      const result = await client.get('/throw')
      assert.equal(result.status, 400, kind)
      assert.equal(result.body, 'bad input')
      assert.deepEqual(result.rawSetCookies, [], kind)
      const after = fixture.store
        ? fixture.store.total() - 1 // the load
        : fixture.codec?.calls.encode
      assert.equal(after, before, `${kind}: nothing was written`)
      assert.equal(await storedN(client), 1, kind)
      assert.equal((appErrors[0] as { status: number }).status, 400)
    }
  })

  it('commits nothing for a middleware that throws, and lets the handler above read but not write', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(
      t,
      orView(async (ctx) => {
        await increment(ctx)
        throw new Error('half done')
      }),
      {
        upstream: async (ctx, next) => {
          try {
            await next()
          } catch (error) {
            const session = await ctx.getSession()
            seen.push((error as Error).message, session.get('n'))
            try {
              session.set('n', 99)
            } catch (writeError) {
              seen.push(errorCode(writeError))
            }
            ctx.status = 500
            ctx.body = 'handled'
          }
        },
      },
    )
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'handled')
    assert.deepEqual(result.rawSetCookies, [])
    assert.deepEqual(seen, ['half done', 1, 'ERR_SESSION_COMMITTED'])
    assert.equal(await storedN(client), undefined, 'the new visitor has no session yet')
  })
})

describe('Koa adapter: concurrency and hostile cookies', () => {
  it('keeps all 32 keys of 32 parallel requests on one session (server storage)', async (t) => {
    const { client } = await start(
      t,
      orView(async (ctx) => {
        const session = await ctx.getSession()
        await sleep(20) // every writer loads the same version before any writes
        session.set(ctx.path.slice(1), true)
        ctx.body = 'ok'
      }),
      { kind: 'server' },
    )
    assert.equal((await client.get('/start')).status, 200)
    const keys = Array.from({ length: 32 }, (_, i) => `k${i}`)
    const results = await Promise.all(keys.map((key) => client.get(`/${key}`)))
    assert.deepEqual(
      results.map((result) => result.status),
      keys.map(() => 200),
    )
    const data = json<SessionView>(await client.get('/')).data
    for (const key of ['start', ...keys]) assert.equal(data[key], true, `key ${key} lost`)
  })

  it('gives a fresh session, never an error, for garbage cookies', async (t) => {
    for (const kind of ['cookie', 'server'] as const) {
      const { client, fixture } = await start(
        t,
        async (ctx) => {
          ctx.body = view(await ctx.getSession())
        },
        { kind },
      )
      const fixed = [
        'session=',
        'session=%%%garbage',
        'session="unterminated',
        `session=${'A'.repeat(10_000)}`,
        'session=a.b.c.d; session=e',
        '=; ;;; session',
        'session=\u00ff\u00fe',
      ]
      const random = fc.sample(fc.stringMatching(/^[\x20-\x7e]{0,300}$/), { numRuns: 40, seed: 7 })
      for (const cookie of [...fixed, ...random.map((value) => `session=${value}`)]) {
        const result = await client.get('/', { headers: { cookie } })
        assert.equal(result.status, 200, `${kind}: ${cookie}`)
        assert.equal(json<SessionView>(result).isNew, true, `${kind}: ${cookie}`)
      }
      assert.ok(fixture.reasons.length > 0, `${kind}: invalid cookies were reported`)
    }
  })
})
