/**
 * The lighter hold of node:http responses: while a request's commit would write nothing, only
 * `writeHead` is hooked (node sends the headers of `write`, `end` and `flushHeaders` through it);
 * the full hold takes over as soon as the core says the commit may wait or fail. A write the hold
 * missed would reach the store after the response (or never), or fail as an internal error, so
 * every way of changing a session is tried with every way of answering, on a store whose writes
 * take a few milliseconds, over real HTTP.
 */
import assert from 'node:assert/strict'
import { createServer, type IncomingMessage, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Readable } from 'node:stream'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import { sessionMiddleware } from '../../src/adapters/express.ts'
import { withSessions } from '../../src/adapters/node.ts'
import { newSession, type Session, type SessionData } from '../../src/index.ts'
import { createFixture, type Fixture, type StorageKind } from '../support/adapter-fixture.ts'
import { EXPRESS_VERSIONS, serveExpress } from '../support/express-app.ts'
import { Client, json, serve } from '../support/http.ts'

/** One change a handler makes; `new` (only first) replaces the session with `newSession`. */
type Op =
  | { kind: 'set'; key: string; value: number }
  | { kind: 'delete'; key: string }
  | { kind: 'clear' | 'regenerate' | 'markChanged' | 'maxAge' | 'subject' | 'flash' | 'new' }
  | { kind: 'invalidate' }

/** The ways a handler answers. */
const STYLES = ['end', 'writeHead', 'write', 'flushHeaders', 'pipe'] as const
type Style = (typeof STYLES)[number]

const key = fc.constantFrom('a', 'b', 'c')
const middle: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), key, value: fc.integer({ min: 0, max: 99 }) }),
  fc.record({ kind: fc.constant('delete' as const), key }),
  fc.constantFrom<Op>(
    { kind: 'clear' },
    { kind: 'regenerate' },
    { kind: 'markChanged' },
    { kind: 'maxAge' },
    { kind: 'subject' },
    { kind: 'flash' },
  ),
)
/** 0 to 3 changes: `new` may only open them, `invalidate` only close them. */
const ops: fc.Arbitrary<Op[]> = fc
  .tuple(fc.boolean(), fc.array(middle, { maxLength: 3 }), fc.boolean())
  .map(([fresh, list, end]) => [
    ...(fresh ? [{ kind: 'new' } as Op] : []),
    ...list,
    ...(end ? [{ kind: 'invalidate' } as Op] : []),
  ])

/** Applies `list` to the request's session and returns the data it should then hold. */
async function apply(
  req: object,
  first: Session<SessionData, SessionData>,
  list: readonly Op[],
): Promise<Record<string, unknown>> {
  let session = first
  for (const op of list) {
    switch (op.kind) {
      case 'new':
        session = await newSession(req)
        break
      case 'set':
        session.set(op.key, op.value)
        break
      case 'delete':
        session.delete(op.key)
        break
      case 'clear':
        session.clear()
        break
      case 'regenerate':
        session.regenerate()
        break
      case 'markChanged':
        session.markChanged()
        break
      case 'maxAge':
        session.maxAge = 600
        break
      case 'subject':
        session.setSubject('user-1')
        break
      case 'flash':
        session.flash('notice', 'hello')
        break
      case 'invalidate':
        session.invalidate()
        break
    }
  }
  return session.toJSON()
}

/** Answers `body` in `style`. */
function answer(res: ServerResponse, style: Style, body: string): void {
  switch (style) {
    case 'end':
      res.end(body)
      return
    case 'writeHead':
      res.writeHead(200, { 'content-type': 'application/json' })
      res.end(body)
      return
    case 'write':
      res.write(body.slice(0, 1))
      res.end(body.slice(1))
      return
    case 'flushHeaders':
      res.flushHeaders()
      res.end(body)
      return
    case 'pipe':
      Readable.from([body]).pipe(res)
      return
  }
}

/** Bun and Deno keep the full hold from the start: the tests of the light hold are Node's. */
const NODE_ONLY = {
  skip:
    process.versions.bun !== undefined || process.versions.deno !== undefined
      ? 'Bun and Deno keep all four hooks'
      : false,
}

/** What the handler does next, set by the test before each request. */
interface Script {
  ops: Op[]
  style: Style
}

type Handler = (req: IncomingMessage, res: ServerResponse) => Promise<void>

/** The application: `GET /` applies the script, `GET /read` answers the session's data. */
function app(fixture: Fixture, script: Script): Handler {
  return async (req, res) => {
    const session = await fixture.sessions.getSession(req)
    if (req.url === '/read') {
      res.end(JSON.stringify(session.toJSON()))
      return
    }
    const data = await apply(req, session, script.ops)
    answer(res, script.style, JSON.stringify(data))
  }
}

/** Serves the application through `adapter` with a fresh fixture whose store writes are slow. */
async function start(
  t: TestContext,
  adapter: 'node' | 'express',
  kind: StorageKind,
  script: Script,
): Promise<{ client: Client; fixture: Fixture }> {
  const fixture = createFixture(kind, { cookie: { secure: false } })
  for (const method of ['create', 'patch', 'delete'] as const) fixture.store?.delays.set(method, 3)
  const handler = app(fixture, script)
  let base: string
  if (adapter === 'node') {
    base = await serve(t, withSessions(fixture.sessions, handler) as never)
  } else {
    const express = (EXPRESS_VERSIONS[0] as (typeof EXPRESS_VERSIONS)[number]).create()
    express.use(sessionMiddleware(fixture.sessions))
    express.use((req, res, next) => {
      handler(req, res).catch(next)
    })
    base = await serveExpress(t, express)
  }
  return { client: new Client(base), fixture }
}

describe('the lighter hold of node:http responses', () => {
  for (const adapter of ['node', 'express'] as const) {
    for (const kind of ['server', 'cookie'] as const) {
      it(`${adapter}, ${kind} storage: every change with every way of answering is saved before the response`, async (t) => {
        const script: Script = { ops: [], style: 'end' }
        const { client, fixture } = await start(t, adapter, kind, script)
        await fc.assert(
          fc.asyncProperty(
            fc.array(fc.tuple(ops, fc.constantFrom(...STYLES)), { minLength: 1, maxLength: 3 }),
            async (requests) => {
              client.jar.clear()
              let expected: Record<string, unknown> = {}
              for (const [list, style] of requests) {
                script.ops = list
                script.style = style
                const changed = await client.get('/')
                assert.equal(changed.status, 200, changed.body)
                expected = json(changed)
                // Read at once: the write must have reached the store before the response.
                const read = await client.get('/read')
                assert.equal(read.status, 200, read.body)
                assert.deepEqual(json(read), expected)
                assert.equal(read.setCookies.length, 0)
              }
              assert.equal(fixture.errors.length, 0, String(fixture.errors[0]))
            },
          ),
          { numRuns: 40 },
        )
      })
    }
  }

  it(
    'a response that starts while the load waits for the store goes out at once, read-only',
    NODE_ONLY,
    async (t) => {
      const fixture = createFixture('server', { cookie: { secure: false } })
      const store = fixture.store as NonNullable<Fixture['store']>
      let late: Promise<unknown> = Promise.resolve()
      const base = await serve(
        t,
        withSessions(fixture.sessions, async (req, res) => {
          if (req.url === '/login') {
            ;(await fixture.sessions.getSession(req)).set('user', 'ada')
            res.end('in')
            return
          }
          if (req.url === '/read') {
            res.end(JSON.stringify((await fixture.sessions.getSession(req)).toJSON()))
            return
          }
          const loading = fixture.sessions.getSession(req) // not awaited
          res.end('early')
          late = loading.then((session) => {
            assert.equal(session.get('user'), 'ada')
            assert.throws(() => session.set('user', 'eve'), { code: 'ERR_SESSION_COMMITTED' })
          })
        }) as never,
      )
      const client = new Client(base)
      await client.get('/login')
      store.delays.set('get', 200)
      const started = Date.now()
      const early = await client.get('/')
      assert.ok(Date.now() - started < 150, 'the response did not wait for the store')
      assert.equal(early.body, 'early')
      assert.equal(early.headers.vary, 'Cookie')
      assert.equal(early.setCookies.length, 0)
      await late
      store.delays.delete('get')
      assert.deepEqual(json(await client.get('/read')), { user: 'ada' })
    },
  )

  it(
    'hooks writeHead alone while the session is only read, all four once it is written',
    NODE_ONLY,
    async (t) => {
      const fixture = createFixture('cookie', { cookie: { secure: false } })
      const hooked = (res: ServerResponse) =>
        ['writeHead', 'write', 'end', 'flushHeaders'].filter((name) => Object.hasOwn(res, name))
      const base = await serve(
        t,
        withSessions(fixture.sessions, async (req, res) => {
          const session = await fixture.sessions.getSession(req)
          const read = hooked(res)
          if (req.url === '/write') session.set('n', 1)
          res.end(JSON.stringify({ read, after: hooked(res) }))
        }) as never,
      )
      const client = new Client(base)
      const all = ['writeHead', 'write', 'end', 'flushHeaders']
      assert.deepEqual(json(await client.get('/')), { read: ['writeHead'], after: ['writeHead'] })
      assert.deepEqual(json(await client.get('/write')), { read: ['writeHead'], after: all })
    },
  )

  it(
    'every held response shares the same hook functions; one whose res.req is another object gets its own',
    NODE_ONLY,
    async (t) => {
      // A new closure per response as its own property makes V8 tenure the allocation sites of
      // every request's objects (decisions/006): the hooks must be shared where they can be.
      const fixture = createFixture('server', { cookie: { secure: false } })
      const seen: Record<string, Array<Set<unknown>>> = { shared: [], own: [] }
      const base = await serve(
        t,
        withSessions(fixture.sessions, async (req, res) => {
          const route = req.url === '/own' ? 'own' : 'shared'
          if (route === 'own') (res as { req: unknown }).req = Object.create(req)
          const session = await fixture.sessions.getSession(req)
          session.set('n', Number(session.get('n') ?? 0) + 1)
          const record = res as unknown as Record<string, unknown>
          const names = ['writeHead', 'write', 'end', 'flushHeaders']
          seen[route]?.push(new Set(names.map((name) => record[name])))
          res.end(String(session.get('n')))
        }) as never,
      )
      const client = new Client(base)
      for (let n = 1; n <= 2; n++) assert.equal((await client.get('/')).body, String(n))
      for (let n = 3; n <= 4; n++) assert.equal((await client.get('/own')).body, String(n))
      const [first, second] = seen.shared as [Set<unknown>, Set<unknown>]
      assert.equal(first.size, 4, 'four distinct hooks')
      assert.deepEqual([...first], [...second], 'the same four functions on both responses')
      const [ownFirst, ownSecond] = seen.own as [Set<unknown>, Set<unknown>]
      assert.equal([...ownFirst].filter((hook) => ownSecond.has(hook)).length, 0)
      assert.equal([...ownFirst].filter((hook) => first.has(hook)).length, 0)
      assert.equal(fixture.errors.length, 0, String(fixture.errors[0]))
    },
  )

  it('a response class with its own _implicitHeader gets all four hooks from the start', async (t) => {
    const fixture = createFixture('cookie', { cookie: { secure: false } })
    class Response extends ServerResponse {
      _implicitHeader(): void {
        this.writeHead(this.statusCode)
      }
    }
    const server = createServer(
      { ServerResponse: Response as typeof ServerResponse },
      withSessions(fixture.sessions, async (req, res) => {
        await fixture.sessions.getSession(req)
        res.end(JSON.stringify({ write: Object.hasOwn(res, 'write') }))
      }) as never,
    )
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    t.after(() => new Promise<void>((resolve) => server.close(() => resolve())))
    const { port } = server.address() as AddressInfo
    const answer = await new Client(`http://127.0.0.1:${port}`).get('/')
    assert.deepEqual(json(answer), { write: true })
    assert.equal(answer.headers.vary, 'Cookie')
  })

  it('leaves a touch that falls due after the load to the next request', NODE_ONLY, async (t) => {
    const fixture = createFixture('server', { cookie: { secure: false }, touchAfter: 60 })
    const store = fixture.store as NonNullable<Fixture['store']>
    let wait = 0
    const base = await serve(
      t,
      withSessions(fixture.sessions, async (req, res) => {
        const session = await fixture.sessions.getSession(req)
        if (req.url === '/login') session.set('user', 'ada')
        fixture.advance(wait) // time passes while the handler works
        res.end(JSON.stringify(session.toJSON()))
      }) as never,
    )
    const client = new Client(base)
    await client.get('/login')
    const patches = store.calls.patch
    fixture.advance(30)
    wait = 40 // the touch falls due (60 s) between the load (30 s) and the response (70 s)
    assert.deepEqual(json(await client.get('/')), { user: 'ada' })
    assert.equal(store.calls.patch, patches, 'no touch: it was not due when the session loaded')
    wait = 0
    assert.deepEqual(json(await client.get('/')), { user: 'ada' })
    assert.equal(store.calls.patch, patches + 1, 'the next request touches')
  })
})
