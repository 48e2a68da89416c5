import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { type IncomingMessage, ServerResponse } from 'node:http'
import { describe, it } from 'node:test'
import { promisify } from 'node:util'
import { WebSocketServer } from 'ws'
import { withSessions, withUpgradeSessions } from '../../src/adapters/node.ts'
import { getSession } from '../../src/index.ts'
import {
  appRoutes,
  type Mount,
  nodeHandler,
  runAdapterSuite,
  WS_PATH,
  wsGreeting,
} from '../support/adapter-suite.ts'
import { errorCode, type HttpResult, serve, setCookieOf } from '../support/http.ts'
import { start } from '../support/node-start.ts'

const mountNode: Mount = async (t, sessions, routes, { onError }) => {
  const wss = new WebSocketServer({ noServer: true })
  t.after(() => wss.close())
  return serve(
    t,
    withSessions(sessions, nodeHandler(routes), {
      onError: (error, _req, res) => {
        const status = onError(error)
        if (res.headersSent) {
          res.destroy()
          return
        }
        res.statusCode = status
        const code = errorCode(error)
        if (code !== undefined) res.setHeader('x-error-code', code)
        res.end()
      },
    }),
    withUpgradeSessions(sessions, (req, socket, head) => {
      if (req.url !== WS_PATH) {
        socket.destroy()
        return
      }
      wss.handleUpgrade(req, socket, head, async (ws) => ws.send(await wsGreeting(req)))
    }),
  )
}

runAdapterSuite('node:http adapter', mountNode, { upgrade: true })

/** Writes `n = 1` to the request's session. */
async function write(req: IncomingMessage): Promise<void> {
  const session = await getSession(req)
  session.set('n', 1)
}

const run = promisify(execFile)

function cookieNames(result: HttpResult): string[] {
  return result.setCookies.map((cookie) => cookie.name)
}

describe('node:http adapter: the default error path', () => {
  it('answers 500 when the handler throws', async (t) => {
    const { client } = await start(t, nodeHandler(appRoutes))
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'Internal Server Error\n')
  })

  it('answers 503 when the store fails to load', async (t) => {
    const { client, fixture } = await start(t, nodeHandler(appRoutes), { kind: 'server' })
    assert.equal((await client.get('/inc')).status, 200)
    fixture.store?.failing.add('get')
    const result = await client.get('/get')
    assert.equal(result.status, 503)
    assert.equal(result.body, 'Service Unavailable\n')
    assert.deepEqual(result.rawSetCookies, [])
  })

  it('answers 503 when the store fails to save', async (t) => {
    const { client, fixture } = await start(t, nodeHandler(appRoutes), { kind: 'server' })
    assert.equal((await client.get('/inc')).status, 200)
    fixture.store?.failing.add('patch')
    const result = await client.get('/inc')
    assert.equal(result.status, 503)
    assert.deepEqual(result.rawSetCookies, [])
  })

  it('answers 500 for a session cookie over 4096 bytes', async (t) => {
    const { client } = await start(t, nodeHandler(appRoutes))
    const result = await client.get('/big')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
  })

  it('honours a custom onError', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(t, nodeHandler(appRoutes), {
      adapter: {
        onError: (error, _req, res) => {
          seen.push(error)
          res.statusCode = 418
          res.end('custom')
        },
      },
    })
    const result = await client.get('/throw')
    assert.equal(result.status, 418)
    assert.equal(result.body, 'custom')
    assert.equal((seen[0] as Error).message, 'boom in handler')
  })

  it('gives a custom onError the commit error before anything was sent', async (t) => {
    const seen: unknown[] = []
    const { client } = await start(t, nodeHandler(appRoutes), {
      adapter: {
        onError: (error, _req, res) => {
          seen.push(error)
          assert.equal(res.headersSent, false)
          res.statusCode = 413
          res.end(errorCode(error))
        },
      },
    })
    const result = await client.get('/big')
    assert.equal(result.status, 413)
    assert.equal(result.body, 'ERR_SESSION_COOKIE_TOO_LARGE')
    assert.equal(errorCode(seen[0]), 'ERR_SESSION_COOKIE_TOO_LARGE')
  })
})

describe('node:http adapter: response styles', () => {
  it('keeps both cookies when writeHead gets a headers object holding Set-Cookie', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Set-Cookie': 'app=1; Path=/' })
      res.end('ok')
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.deepEqual(cookieNames(result).sort(), ['app', 'session'])
    assert.equal(setCookieOf(result, 'app')?.value, '1')
  })

  it('keeps both cookies when writeHead gets a status message and a Set-Cookie list', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.writeHead(201, 'Made', { 'set-cookie': ['app=1', 'other=2'] })
      res.end()
    })
    const result = await client.get('/')
    assert.equal(result.status, 201)
    assert.deepEqual(cookieNames(result).sort(), ['app', 'other', 'session'])
  })

  it('keeps a cookie set with setHeader next to the session cookie', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.setHeader('Set-Cookie', 'app=1')
      res.end('ok')
    })
    const result = await client.get('/')
    assert.deepEqual(cookieNames(result).sort(), ['app', 'session'])
  })

  it('keeps both cookies when writeHead gets a raw header array holding Set-Cookie', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.writeHead(200, ['Content-Type', 'text/plain', 'Set-Cookie', 'app=1'])
      res.end('ok')
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.deepEqual(cookieNames(result).sort(), ['app', 'session'])
  })

  it('keeps a setHeader cookie when writeHead then gets a raw header array without Set-Cookie', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.setHeader('Set-Cookie', 'app=1')
      res.writeHead(200, ['Content-Type', 'text/plain'])
      res.end('ok')
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    // Plain node:http keeps app=1 here (writeHead only replaces the headers its array names).
    assert.deepEqual(cookieNames(result).sort(), ['app', 'session'])
  })

  it('adds the Set-Cookie to writeHead(302, { Location }) followed by end()', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.writeHead(302, { Location: '/next' })
      res.end()
    })
    const result = await client.get('/')
    assert.equal(result.status, 302)
    assert.equal(result.headers.location, '/next')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('adds the Set-Cookie when the handler calls flushHeaders first', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.flushHeaders()
      res.write('a')
      res.end('b')
    })
    const result = await client.get('/')
    assert.equal(result.body, 'ab')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('never touches the response of a handler that never asks for its session', async (t) => {
    let patchedDuring: boolean | undefined
    let after: { own: string[]; writeHead: boolean; end: boolean } | undefined
    const { client } = await start(t, (_req, res) => {
      patchedDuring = Object.hasOwn(res, 'end')
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.end('plain')
      after = {
        own: ['writeHead', 'write', 'end', 'flushHeaders'].filter((name) =>
          Object.hasOwn(res, name),
        ),
        writeHead: res.writeHead === ServerResponse.prototype.writeHead,
        end: res.end === ServerResponse.prototype.end,
      }
    })
    const result = await client.get('/')
    assert.equal(result.body, 'plain')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(patchedDuring, false, 'nothing is hooked before the session is asked for')
    assert.deepEqual(after, { own: [], writeHead: true, end: true })
  })

  it('answers once when a commit fails at writeHead and the handler still calls end', async (t) => {
    const { client } = await start(t, async (req, res) => {
      const session = await getSession(req)
      session.set('big', 'x'.repeat(5000)) // too large for a cookie: the commit throws
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial')
      res.end('done')
    })
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.doesNotMatch(result.body, /partial|done/)
    const again = await client.get('/')
    assert.equal(again.status, 500, 'the server is still there')
  })

  it('keeps the response a fast-properties object after committing the session', async () => {
    // Deleting the hooks again would put every response into V8's slow dictionary mode; this runs
    // a server in a child process that can ask V8 directly.
    const script = `
      import http from 'node:http'
      import { withSessions } from './src/adapters/node.ts'
      import { createServerStorage, createSessions, getSession } from './src/index.ts'
      import { createMemoryStore } from './src/stores/memory.ts'
      const fast = new Function('o', 'return %HasFastProperties(o)')
      const sessions = createSessions({ storage: createServerStorage({ store: createMemoryStore() }) })
      const server = http.createServer(withSessions(sessions, async (req, res) => {
        ;(await getSession(req)).set('n', 1)
        res.on('finish', () => { console.log(JSON.stringify({ fast: fast(res) })); server.close() })
        res.end('ok')
      }))
      server.listen(0, '127.0.0.1', () => fetch('http://127.0.0.1:' + server.address().port + '/'))
    `
    const { stdout } = await run(process.execPath, [
      '--allow-natives-syntax',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ])
    assert.deepEqual(JSON.parse(stdout.trim()), { fast: true })
  })
})
