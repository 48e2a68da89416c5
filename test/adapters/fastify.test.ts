import assert from 'node:assert/strict'
import { Readable } from 'node:stream'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import fastifyWebsocket from '@fastify/websocket'
import Fastify, { type FastifyRequest } from 'fastify'
import { type FastifySessionsOptions, fastifySessions } from '../../src/adapters/fastify.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createCookieStorage, createSessions, getSession } from '../../src/index.ts'
import { assertOk, sessionCookie } from '../support/adapter-checks.ts'
import {
  createFixture,
  KEY_B,
  type Mount,
  type RouteResult,
  runAdapterSuite,
  WS_PATH,
  wsGreeting,
} from '../support/adapter-suite.ts'
import { listen, startFastify } from '../support/fastify-start.ts'
import { Client, errorCode, json } from '../support/http.ts'

/** A streamed body: the chunks one per tick, as a node Readable. */
function stream(chunks: readonly string[]): Readable {
  return Readable.from(
    (async function* () {
      for (const chunk of chunks) {
        await sleep(2)
        yield chunk
      }
    })(),
  )
}

const mountFastify: Mount = async (t, sessions, routes, { onError }) => {
  const app = Fastify()
  await app.register(fastifyWebsocket)
  await app.register(fastifySessions, { sessions })
  app.setErrorHandler((error, _request, reply) => {
    const code = errorCode(error)
    if (code !== undefined) reply.header('x-error-code', code)
    reply.code(onError(error)).send()
  })
  app.get(WS_PATH, { websocket: true }, async (socket, request) => {
    socket.send(await wsGreeting(request))
  })
  app.get('/*', async (request, reply) => {
    const url = new URL(request.url, 'http://app.invalid')
    const route = routes[url.pathname]
    if (route === undefined) return reply.code(404).send()
    const result: RouteResult = await route({ request, url })
    const status = result.status ?? 200
    const location = result.headers?.location
    if (location !== undefined) return reply.redirect(location, status)
    reply.code(status)
    if (result.headers !== undefined) reply.headers(result.headers)
    const body = result.body
    if (body === undefined) return reply.send()
    return reply.send(typeof body === 'string' ? body : stream(body))
  })
  return listen(t, app)
}

runAdapterSuite('Fastify adapter', mountFastify, { upgrade: true })

describe('Fastify adapter: encapsulation', () => {
  it('serves the session in a child plugin and in a prefixed sub-app, registered once at the root', async (t) => {
    const { client } = await startFastify(t, (app) => {
      app.register((child, _options, done) => {
        child.get('/child/set', async (request) => {
          const session = await request.getSession()
          session.set('from', 'child')
          return { ok: true }
        })
        done()
      })
      app.register(
        (api, _options, done) => {
          api.register((nested, _nestedOptions, nestedDone) => {
            nested.get('/nested', async (request) => (await getSession(request)).toJSON())
            nestedDone()
          })
          api.get('/read', async (request) => (await request.getSession()).toJSON())
          done()
        },
        { prefix: '/v1' },
      )
    })
    const set = await client.get('/child/set')
    assertOk(set)
    assert.ok(sessionCookie(set)?.value, 'the child plugin set the cookie')
    assert.equal(set.headers.vary, 'Cookie')
    const read = await client.get('/v1/read')
    assertOk(read)
    assert.deepEqual(json(read), { from: 'child' })
    assert.equal(read.headers.vary, 'Cookie')
    assert.deepEqual(json(await client.get('/v1/nested')), { from: 'child' })
  })

  it('runs its hooks for a child plugin registered before routes of its own', async (t) => {
    const { client } = await startFastify(t, (app) => {
      app.register((child, _options, done) => {
        child.addHook('preHandler', async (request) => {
          const session = await request.getSession()
          session.set('seen', ((session.get('seen') as number | undefined) ?? 0) + 1)
        })
        child.get('/hooked', async () => 'hooked')
        done()
      })
    })
    assertOk(await client.get('/hooked'))
    const second = await client.get('/hooked')
    assert.equal(second.body, 'hooked')
    assert.ok(sessionCookie(second)?.value)
    assert.equal(second.headers.vary, 'Cookie')
  })

  it('gives request.getSession(), getSession(request) and getSession(request.raw) one session', async (t) => {
    const { client } = await startFastify(t, (app) => {
      app.get('/same', async (request) => {
        const [a, b, c] = await Promise.all([
          request.getSession(),
          getSession(request),
          getSession(request.raw),
        ])
        return { same: a === b && b === c }
      })
      app.get('/login', async (request) => {
        const session = await request.newSession()
        session.set('user', 'ann')
        return { same: session === (await getSession(request)) }
      })
    })
    assert.deepEqual(json(await client.get('/same')), { same: true })
    const login = await client.get('/login')
    assert.deepEqual(json(login), { same: true })
    assert.ok(sessionCookie(login)?.value)
  })

  it('serves a second session manager registered beside the first, each with its own cookie', async (t) => {
    const admin = createSessions({
      storage: createCookieStorage({ codec: createSealedCodec({ keys: [KEY_B] }) }),
      cookie: { name: 'admin' },
    })
    const { client, fixture } = await startFastify(
      t,
      async (app, sessions) => {
        await app.register(fastifySessions, { sessions: admin })
        app.get('/both', async (request) => {
          ;(await sessions.getSession(request)).set('user', 'ann')
          ;(await admin.getSession(request)).set('role', 'root')
          if (request.url.endsWith('?fail')) throw new Error('fails after both writes')
          return 'both'
        })
        app.get('/read', async (request) => ({
          user: (await sessions.getSession(request)).toJSON(),
          admin: (await admin.getSession(request)).toJSON(),
          decorator: (await request.getSession()).toJSON(),
        }))
      },
      { kind: 'server' },
    )
    const failed = await client.get('/both?fail')
    assert.equal(failed.status, 500)
    assert.deepEqual(failed.rawSetCookies, [], 'neither manager saved anything')
    assert.equal(fixture.store?.calls.create, 0)
    const both = await client.get('/both')
    assertOk(both)
    assert.deepEqual(both.setCookies.map((cookie) => cookie.name).sort(), ['admin', 'session'])
    assert.deepEqual(json(await client.get('/read')), {
      user: { user: 'ann' },
      admin: { role: 'root' },
      decorator: { role: 'root' },
    })
  })

  it('registers as the named, non-encapsulated plugin "sessionware"', async (t) => {
    let inChild: boolean | undefined
    const { app } = await startFastify(t, (app) => {
      app.register((child, _options, done) => {
        inChild = child.hasRequestDecorator('getSession')
        done()
      })
    })
    assert.equal(inChild, true)
    assert.equal(app.hasPlugin('sessionware'), true)
    assert.equal(app.hasRequestDecorator('getSession'), true)
    assert.equal(app.hasRequestDecorator('newSession'), true)
    assert.match(app.printPlugins(), /sessionware/)
  })

  it('reaches a child plugin registered before it (Fastify passes root hooks down)', async (t) => {
    const app = Fastify()
    app.register((early, _options, done) => {
      early.get('/early', async (request) => {
        ;(await request.getSession()).set('early', true)
        return 'attached'
      })
      done()
    })
    app.register(fastifySessions, { sessions: createFixture('cookie').sessions })
    const result = await new Client(await listen(t, app)).get('/early')
    assertOk(result)
    assert.equal(result.body, 'attached')
    assert.ok(sessionCookie(result)?.value)
  })

  it('rejects getSession with ERR_SESSION_NOT_ATTACHED in an onRequest hook that runs before its own', async (t) => {
    const app = Fastify()
    const seen: unknown[] = []
    app.addHook('onRequest', async (request) => {
      await request.getSession().catch((error: unknown) => seen.push(errorCode(error)))
    })
    app.register(fastifySessions, { sessions: createFixture('cookie').sessions })
    app.get('/', async () => 'ok')
    assertOk(await new Client(await listen(t, app)).get('/'))
    assert.deepEqual(seen, ['ERR_SESSION_NOT_ATTACHED'])
  })

  it('refuses to register without a session manager', async () => {
    const app = Fastify()
    await assert.rejects(
      async () => {
        await app.register(fastifySessions, {} as unknown as FastifySessionsOptions)
      },
      { code: 'ERR_SESSION_CONFIG' },
    )
  })
})

/** Writes `n = 1` to the request's session. */
async function write(request: FastifyRequest): Promise<void> {
  const session = await request.getSession()
  session.set('n', 1)
}

describe('Fastify adapter: every kind of reply carries the cookie', () => {
  it('a serialized object, with and without a response schema', async (t) => {
    const { client } = await startFastify(t, (app) => {
      app.get('/plain', async (request) => {
        await write(request)
        return { ok: true, list: [1, 2] }
      })
      const schema = {
        response: { 200: { type: 'object', properties: { n: { type: 'number' } } } },
      }
      app.get('/schema', { schema }, async (request, reply) => {
        await write(request)
        reply.send({ n: 1, hidden: 'dropped by the schema' })
        return reply
      })
    })
    for (const path of ['/plain', '/schema']) {
      const result = await new Client(client.base).get(path)
      assertOk(result)
      assert.match(String(result.headers['content-type']), /^application\/json/)
      assert.ok(sessionCookie(result)?.value, `${path} sets the cookie`)
    }
    const schema = await client.get('/schema')
    assert.deepEqual(json(schema), { n: 1 })
  })

  it('reply.redirect()', async (t) => {
    const { client } = await startFastify(t, (app) => {
      app.post('/login', async (request, reply) => {
        const session = await request.newSession()
        session.set('user', 'ann')
        return reply.redirect('/home', 303)
      })
      app.get('/home', async (request) => (await request.getSession()).toJSON())
    })
    const result = await client.request('/login', { method: 'POST' })
    assert.equal(result.status, 303)
    assert.equal(result.headers.location, '/home')
    assert.ok(sessionCookie(result)?.value)
    assert.deepEqual(json(await client.get('/home')), { user: 'ann' })
  })

  it('a web ReadableStream, a Buffer and an empty reply', async (t) => {
    const encoder = new TextEncoder()
    const { client } = await startFastify(t, (app) => {
      app.get('/web', async (request, reply) => {
        await write(request)
        const body = new ReadableStream<Uint8Array>({
          start(controller) {
            controller.enqueue(encoder.encode('web;'))
            controller.enqueue(encoder.encode('stream'))
            controller.close()
          },
        })
        return reply.type('text/plain').send(body)
      })
      app.get('/buffer', async (request, reply) => {
        await write(request)
        return reply.type('application/octet-stream').send(Buffer.from('bytes'))
      })
      app.get('/empty', async (request, reply) => {
        await write(request)
        return reply.code(204).send()
      })
    })
    for (const [path, status, body] of [
      ['/web', 200, 'web;stream'],
      ['/buffer', 200, 'bytes'],
      ['/empty', 204, ''],
    ] as const) {
      const result = await new Client(client.base).get(path)
      assert.equal(result.status, status, path)
      assert.equal(result.body, body, path)
      assert.ok(sessionCookie(result)?.value, `${path} sets the cookie`)
      assert.equal(result.headers.vary, 'Cookie', path)
    }
  })

  it('a hijacked reply written with reply.raw, on server storage', async (t) => {
    const { client, fixture } = await startFastify(
      t,
      (app) => {
        app.get('/raw', async (request, reply) => {
          await write(request)
          reply.hijack()
          reply.raw.writeHead(200, { 'content-type': 'text/plain', vary: 'Accept' })
          reply.raw.end('raw')
        })
        app.get('/get', async (request) => (await request.getSession()).toJSON())
      },
      { kind: 'server' },
    )
    const result = await client.get('/raw')
    assertOk(result)
    assert.equal(result.body, 'raw')
    assert.ok(sessionCookie(result)?.value, 'the hijacked reply carries the cookie')
    assert.equal(result.headers.vary, 'Accept, Cookie')
    assert.equal(fixture.store?.calls.create, 1)
    assert.deepEqual(json(await client.get('/get')), { n: 1 })
  })
})
