/**
 * Responses held by more than one layer: two session managers around one handler (each holds the
 * response when its session is first asked for), with another library's own `res.end` wrapper
 * before, between or after them. The first hold on a response uses the kit's shared hooks; any
 * later one wraps what it finds. Every layer must see each call once, in order.
 */
import assert from 'node:assert/strict'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createCookieStorage, createServerStorage, createSessions } from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { Client, json, serve } from '../support/http.ts'

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown

/** A library that wraps `res.end` (as compression or on-headers do) and stamps a header. */
function stamping(name: string, handler: Handler): Handler {
  return (req, res) => {
    const end = res.end
    res.end = function (this: ServerResponse, ...args: unknown[]) {
      if (!this.headersSent) this.setHeader(`x-${name}`, 'yes')
      return (end as (...a: unknown[]) => ServerResponse).apply(this, args)
    } as ServerResponse['end']
    return handler(req, res)
  }
}

const managers = () => ({
  // An asynchronous commit (a store write) outside, a synchronous one (a cookie) inside.
  outer: createSessions<{ n: number }>({
    storage: createServerStorage({ store: createMemoryStore() }),
    cookie: { name: 'outer', secure: false },
  }),
  inner: createSessions<{ n: number }>({
    storage: createCookieStorage({ codec: createPlainCodec() }),
    cookie: { name: 'inner', secure: false },
  }),
})

describe('node:http responses held by several layers', () => {
  for (const where of ['none', 'before', 'between', 'after'] as const) {
    it(`two managers, a library wrapping res.end ${where === 'none' ? 'nowhere' : where}`, async (t) => {
      const { outer, inner } = managers()
      const route: Handler = async (req, res) => {
        // The order of first use decides which layer holds the response first.
        const a = await outer.getSession(req)
        if (where === 'after') stamping('lib', () => {})(req, res)
        const b = await inner.getSession(req)
        a.set('n', (a.get('n') ?? 0) + 1)
        b.set('n', (b.get('n') ?? 0) + 10)
        res.setHeader('content-type', 'application/json')
        res.end(JSON.stringify({ a: a.get('n'), b: b.get('n') }))
      }
      let handler: Handler = withSessions(
        inner,
        where === 'between' ? stamping('lib', route) : route,
      ) as Handler
      handler = withSessions(outer, handler) as Handler
      if (where === 'before') handler = stamping('lib', handler)
      const client = new Client(await serve(t, handler as never))
      for (let round = 1; round <= 3; round++) {
        const answer = await client.get('/')
        assert.equal(answer.status, 200)
        assert.deepEqual(json(answer), { a: round, b: round * 10 })
        assert.deepEqual(answer.setCookies.map((c) => c.name).sort(), ['inner', 'outer'])
        assert.equal(answer.headers.vary, 'Cookie')
        if (where !== 'none') assert.equal(answer.headers['x-lib'], 'yes')
      }
    })
  }

  it('32 parallel clients through two layers each keep their own sessions', async (t) => {
    const { outer, inner } = managers()
    const handler = withSessions(
      outer,
      withSessions(inner, async (req, res) => {
        const [a, b] = await Promise.all([outer.getSession(req), inner.getSession(req)])
        a.set('n', (a.get('n') ?? 0) + 1)
        b.set('n', (b.get('n') ?? 0) + 1)
        res.end(JSON.stringify({ a: a.get('n'), b: b.get('n') }))
      }),
    )
    const base = await serve(t, handler as never)
    const clients = Array.from({ length: 32 }, () => new Client(base))
    for (let round = 1; round <= 3; round++) {
      const answers = await Promise.all(clients.map((client) => client.get('/')))
      for (const answer of answers) assert.deepEqual(json(answer), { a: round, b: round })
    }
  })
})
