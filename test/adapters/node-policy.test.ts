import assert from 'node:assert/strict'
import { once } from 'node:events'
import type { IncomingMessage } from 'node:http'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { describe, it } from 'node:test'
import { getSession } from '../../src/index.ts'
import { appRoutes, nodeHandler } from '../support/adapter-suite.ts'
import { errorCode, setCookieOf } from '../support/http.ts'
import { captureConsoleError, start } from '../support/node-start.ts'

/** The errors among the arguments of captured console.error calls. */
function reported(calls: unknown[][]): unknown[] {
  return calls.flatMap((args) => args.filter((arg) => arg instanceof Error))
}

/** Writes `n = 1` to the request's session. */
async function write(req: IncomingMessage): Promise<void> {
  const session = await getSession(req)
  session.set('n', 1)
}

describe('node:http adapter: the default error handler reports', () => {
  it('reports a handler error once and answers 500', async (t) => {
    const calls = captureConsoleError(t)
    const { client } = await start(t, nodeHandler(appRoutes))
    const result = await client.get('/throw')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'Internal Server Error\n')
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(calls.length, 1)
    const errors = reported(calls)
    assert.equal(errors.length, 1)
    assert.equal((errors[0] as Error).message, 'boom in handler')
  })

  it('reports a store error once and answers 503', async (t) => {
    const calls = captureConsoleError(t)
    const { client, fixture } = await start(t, nodeHandler(appRoutes), { kind: 'server' })
    assert.equal((await client.get('/inc')).status, 200)
    fixture.store?.failing.add('get')
    const result = await client.get('/get')
    assert.equal(result.status, 503)
    assert.equal(calls.length, 1)
    assert.equal(errorCode(reported(calls)[0]), 'ERR_SESSION_STORE')
  })

  it('reports a commit error (cookie too large) once and answers 500', async (t) => {
    const calls = captureConsoleError(t)
    const { client } = await start(t, nodeHandler(appRoutes))
    const result = await client.get('/big')
    assert.equal(result.status, 500)
    assert.equal(calls.length, 1)
    assert.equal(errorCode(reported(calls)[0]), 'ERR_SESSION_COOKIE_TOO_LARGE')
  })

  it('reports an error after the headers were sent and cuts the connection', async (t) => {
    const calls = captureConsoleError(t)
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('partial')
      await new Promise((resolve) => setTimeout(resolve, 10))
      throw new Error('late failure')
    })
    await assert.rejects(client.get('/'))
    assert.equal(calls.length, 1)
    assert.equal((reported(calls)[0] as Error).message, 'late failure')
  })

  it('reports an error thrown after the response was complete, which stands', async (t) => {
    const calls = captureConsoleError(t)
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.end('done')
      throw new Error('after the end')
    })
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.equal(result.body, 'done')
    assert.ok(setCookieOf(result, 'session')?.value, 'the completed response was committed')
    assert.equal(calls.length, 1)
    assert.equal((reported(calls)[0] as Error).message, 'after the end')
  })
})

describe('node:http adapter: a failing handler', () => {
  it('discards the session of a handler that throws synchronously after asking for it', async (t) => {
    const calls = captureConsoleError(t)
    let outcome: Promise<string | undefined> | undefined
    const { client } = await start(t, (req) => {
      outcome = getSession(req)
        .then((session) => {
          session.set('n', 1)
          return 'written'
        })
        .catch((error: unknown) => errorCode(error))
      throw new Error('sync failure')
    })
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.deepEqual(result.rawSetCookies, [])
    assert.equal(result.headers.vary, 'Cookie')
    assert.equal((reported(calls)[0] as Error).message, 'sync failure')
    // The handler's own write, arriving after the discard, is refused.
    assert.equal(await outcome, 'ERR_SESSION_COMMITTED')
  })

  it('hands an error that arrives while the commit runs to onError once the headers are out', async (t) => {
    const seen: Array<{ message: string; headersSent: boolean }> = []
    const { client, fixture } = await start(
      t,
      async (req, res) => {
        await write(req)
        res.writeHead(200, { 'content-type': 'text/plain' })
        throw new Error('during the commit')
      },
      {
        kind: 'server',
        adapter: {
          onError: (error, _req, res) => {
            seen.push({ message: (error as Error).message, headersSent: res.headersSent })
            res.destroy()
          },
        },
      },
    )
    fixture.store?.delays.set('create', 50)
    await assert.rejects(client.get('/'))
    assert.deepEqual(seen, [{ message: 'during the commit', headersSent: true }])
  })
})

describe('node:http adapter: an invalid held call', () => {
  it('hands an invalid header given to a held writeHead to onError, as node would throw it', async (t) => {
    const seen: unknown[] = []
    const { client, fixture } = await start(
      t,
      async (req, res) => {
        await write(req)
        res.writeHead(200, { 'bad header': 'x' })
        res.end('never')
      },
      {
        kind: 'server',
        adapter: {
          onError: (error, _req, res) => {
            seen.push(error)
            res.statusCode = 500
            res.end('answered')
          },
        },
      },
    )
    fixture.store?.delays.set('create', 20)
    const result = await client.get('/')
    assert.equal(result.status, 500)
    assert.equal(result.body, 'answered')
    assert.equal(seen.length, 1)
    assert.equal(errorCode(seen[0]), 'ERR_INVALID_HTTP_TOKEN')
  })
})

describe('node:http adapter: Vary', () => {
  it('merges Cookie into a Vary set with setHeader', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await getSession(req)
      res.setHeader('Vary', 'Accept-Encoding')
      res.end('ok')
    })
    assert.equal((await client.get('/')).headers.vary, 'Accept-Encoding, Cookie')
  })

  it('merges Cookie into a Vary given to writeHead as a raw array', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await write(req)
      res.setHeader('Vary', 'Accept-Language')
      res.writeHead(200, ['Vary', 'Origin', 'Content-Type', 'text/plain'])
      res.end('ok')
    })
    const result = await client.get('/')
    assert.equal(result.headers.vary, 'Origin, Cookie')
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('keeps a Vary of * given to writeHead as an object', async (t) => {
    const { client } = await start(t, async (req, res) => {
      await getSession(req)
      res.writeHead(200, { Vary: '*' })
      res.end('ok')
    })
    assert.equal((await client.get('/')).headers.vary, '*')
  })
})

describe('node:http adapter: backpressure while the commit runs', () => {
  it('returns false from write and emits drain after the flush', async (t) => {
    const chunks = ['one;', 'two;', 'three;', 'four;', 'five']
    const log: Array<{ ok: boolean; headersSent: boolean }> = []
    const { client, fixture } = await start(
      t,
      async (req, res) => {
        await write(req)
        res.setHeader('content-type', 'text/plain')
        for (const chunk of chunks) {
          const ok = res.write(chunk)
          log.push({ ok, headersSent: res.headersSent })
          if (!ok) await once(res, 'drain')
        }
        res.end()
      },
      { kind: 'server' },
    )
    fixture.store?.delays.set('create', 100)
    const result = await client.get('/')
    assert.equal(result.status, 200)
    assert.equal(result.body, chunks.join(''))
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.deepEqual(log[0], { ok: false, headersSent: false }, 'held: false, and nothing sent')
    assert.equal(
      log.filter((entry) => !entry.headersSent).length,
      1,
      'one chunk buffered while the commit ran',
    )
    assert.ok(log.slice(1).every((entry) => entry.ok))
  })

  it('lets a piped stream through (it pauses on false and resumes on drain)', async (t) => {
    const chunks = Array.from({ length: 200 }, (_, i) => `${String(i).padStart(4, '0')};`)
    const { client, fixture } = await start(
      t,
      async (req, res) => {
        await write(req)
        await pipeline(Readable.from(chunks), res)
      },
      { kind: 'server' },
    )
    fixture.store?.delays.set('create', 50)
    const result = await client.get('/')
    assert.equal(result.body, chunks.join(''))
    assert.ok(setCookieOf(result, 'session')?.value)
  })

  it('still accepts writes of a handler that ignores the return value', async (t) => {
    const { client, fixture } = await start(
      t,
      async (req, res) => {
        await write(req)
        for (const chunk of ['a', 'b', 'c']) res.write(chunk)
        res.end('d')
      },
      { kind: 'server' },
    )
    fixture.store?.delays.set('create', 30)
    const result = await client.get('/')
    assert.equal(result.body, 'abcd')
  })
})

describe('node:http adapter: headers sent before the session was asked for', () => {
  it('makes the session read-only and sends no cookie', async (t) => {
    const { client } = await start(t, async (req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' })
      res.write('early;')
      const session = await getSession(req)
      let code: string | undefined
      try {
        session.set('n', 1)
      } catch (error) {
        code = errorCode(error)
      }
      res.end(code ?? 'written')
    })
    const result = await client.get('/')
    assert.equal(result.body, 'early;ERR_SESSION_COMMITTED')
    assert.deepEqual(result.rawSetCookies, [])
  })
})

describe('node:http adapter: a commit that needs no I/O', () => {
  it('lets the held calls through in the same tick, with write returning what node returns', async (t) => {
    const seen: Array<Record<string, boolean>> = []
    const { client } = await start(t, async (req, res) => {
      await write(req) // cookie storage: the commit encodes, no store I/O
      const wrote = res.write('a')
      const sent = res.headersSent
      res.end('b')
      seen.push({ wrote, sent, ended: res.writableEnded })
    })
    const result = await client.get('/')
    assert.equal(result.body, 'ab')
    assert.ok(setCookieOf(result, 'session')?.value)
    assert.deepEqual(seen, [{ wrote: true, sent: true, ended: true }])
  })
})
