/**
 * The `clientInfo` option over real loopback HTTP, through the node:http and Fetch adapters on a
 * memory store: what the record keeps (User-Agent, last address), when it is written (only along
 * with a write the session gets anyway, only when it differs), how hostile values are cleaned, and
 * what `listSessions` returns. Two client addresses come from binding the client to 127.0.0.1 and
 * 127.0.0.2.
 */
import assert from 'node:assert/strict'
import { request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http'
import { describe, it, type TestContext } from 'node:test'
import fc from 'fast-check'
import { withSessions as withFetchSessions } from '../../src/adapters/fetch.ts'
import { withSessions } from '../../src/adapters/node.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { cleanAddress, cleanText, MAX_USER_AGENT } from '../../src/core/client.ts'
import {
  createCookieStorage,
  createServerStorage,
  createSessions,
  getSession,
  newSession,
  type SessionOptions,
  type SessionPatch,
  type SessionRecord,
  type SessionStore,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { serve, serveFetch } from '../support/http.ts'

const T0 = Date.UTC(2030, 0, 1)
const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36'

/** A memory store on a movable clock that records every patch it is sent. */
function recordingStore(clock: () => number) {
  const inner = createMemoryStore({ clock, sweepInterval: 0 })
  const patches: SessionPatch[] = []
  const store: SessionStore = {
    contractVersion: 2,
    capabilities: inner.capabilities,
    get: (id) => inner.get(id),
    create: (record) => inner.create(record),
    replace: (record, version) => inner.replace(record, version),
    patch: (id, patch) => {
      patches.push(patch)
      return inner.patch(id, patch)
    },
    delete: (id) => inner.delete(id),
    listBySubject: (subject) => inner.listBySubject(subject),
    deleteBySubject: (subject, options) => inner.deleteBySubject(subject, options),
    deleteIfSubject: (id, subject) => inner.deleteIfSubject(id, subject),
  }
  return { inner, store, patches }
}

type Options = Partial<Omit<SessionOptions, 'storage' | 'clock'>>

/**
 * A node:http app: `/login` starts a session of subject `ada`, `/read` reads it, `/write` sets a
 * key, `/regenerate` regenerates it; each answers `{ handle }`.
 */
async function app(t: TestContext, options: Options = { clientInfo: true }) {
  let now = T0
  const clock = () => now
  const { inner, store, patches } = recordingStore(clock)
  t.after(() => inner.close())
  const sessions = createSessions({
    storage: createServerStorage({ store }),
    clock,
    touchAfter: 60,
    ...options,
  })
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const session = req.url === '/login' ? await newSession(req) : await getSession(req)
    if (req.url === '/login') session.setSubject('ada')
    if (req.url === '/write') session.set('n', (Number(session.get('n')) || 0) + 1)
    if (req.url === '/regenerate') session.regenerate()
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ handle: session.handle }))
  }
  const base = await serve(t, withSessions(sessions, handler))
  let cookie: string | undefined
  /** One request with the kept cookie, from `from` (a loopback address) with `userAgent`. */
  const call = async (
    path: string,
    userAgent: string | undefined,
    from = '127.0.0.1',
    headers: Record<string, string> = {},
  ): Promise<string> => {
    const sent: Record<string, string> = { ...headers }
    if (userAgent !== undefined) sent['user-agent'] = userAgent
    if (cookie !== undefined) sent.cookie = cookie
    const { setCookie, body } = await send(`${base}${path}`, sent, from)
    const pair = setCookie[0]?.split(';')[0]
    if (pair !== undefined) cookie = pair
    return (JSON.parse(body) as { handle: string }).handle
  }
  const record = async (handle: string): Promise<SessionRecord> => {
    const found = await inner.get(handle)
    assert.ok(found, 'the session is stored')
    return found
  }
  return {
    sessions,
    patches,
    call,
    record,
    advance: (seconds: number) => {
      now += seconds * 1000
    },
  }
}

/** A GET from the local address `from`; node's client adds no User-Agent of its own. */
function send(
  url: string,
  headers: Record<string, string>,
  from: string,
): Promise<{ setCookie: string[]; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, localAddress: from, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (chunk: Buffer) => chunks.push(chunk))
      res.on('error', reject)
      res.on('end', () => {
        if (res.statusCode !== 200) reject(new Error(`status ${res.statusCode}`))
        const body = Buffer.concat(chunks).toString('utf8')
        resolve({ setCookie: res.headers['set-cookie'] ?? [], body })
      })
    })
    req.setTimeout(5000, () => req.destroy(new Error(`no response from ${url}`)))
    req.on('error', reject)
    req.end()
  })
}

describe('clientInfo: what the record keeps', () => {
  it('keeps the User-Agent and the address with a new session, and listSessions returns them', async (t) => {
    const { call, record, sessions } = await app(t)
    const handle = await call('/login', FIREFOX)
    const stored = await record(handle)
    assert.equal(stored.fields.u, FIREFOX)
    assert.equal(stored.fields.a, '127.0.0.1')
    const [info, ...rest] = await sessions.listSessions('ada')
    assert.equal(rest.length, 0)
    assert.equal(info?.handle, handle)
    assert.equal(info?.userAgent, FIREFOX)
    assert.equal(info?.address, '127.0.0.1')
  })

  it('records nothing with clientInfo off (the default)', async (t) => {
    const { call, record, sessions, advance } = await app(t, {})
    const handle = await call('/login', FIREFOX)
    advance(120)
    await call('/write', CHROME, '127.0.0.2')
    const stored = await record(handle)
    assert.deepEqual(Object.keys(stored.fields).sort(), ['d:n'])
    const [info] = await sessions.listSessions('ada')
    assert.ok(info)
    assert.equal('userAgent' in info, false)
    assert.equal('address' in info, false)
  })

  it('a write keeps the record as it was when the client is the same (no client fields sent)', async (t) => {
    const { call, record, patches } = await app(t)
    const handle = await call('/login', FIREFOX)
    await call('/write', FIREFOX)
    assert.equal(patches.length, 1)
    assert.deepEqual(Object.keys(patches[0]?.set ?? {}), ['d:n'])
    assert.equal((await record(handle)).fields.u, FIREFOX)
  })

  it('a write from another address and browser updates both, in that same write', async (t) => {
    const { call, record, patches } = await app(t)
    const handle = await call('/login', FIREFOX)
    const before = (await record(handle)).version
    await call('/write', CHROME, '127.0.0.2')
    assert.equal(patches.length, 1)
    assert.deepEqual(patches[0]?.set, { u: CHROME, a: '127.0.0.2', 'd:n': '1' })
    const after = await record(handle)
    assert.equal(after.version, before + 1)
    assert.equal(after.fields.u, CHROME)
    assert.equal(after.fields.a, '127.0.0.2')
  })

  it('a read inside the touch window writes nothing, whoever sends it', async (t) => {
    const { call, record, patches, advance } = await app(t)
    const handle = await call('/login', FIREFOX)
    const before = await record(handle)
    advance(30) // touchAfter is 60 s
    await call('/read', CHROME, '127.0.0.2')
    assert.equal(patches.length, 0)
    assert.deepEqual(await record(handle), before)
  })

  it('a due touch records a changed address, and only what changed', async (t) => {
    const { call, record, patches, advance } = await app(t)
    const handle = await call('/login', FIREFOX)
    advance(61)
    await call('/read', FIREFOX, '127.0.0.2')
    assert.equal(patches.length, 1, 'the touch is the one write')
    assert.deepEqual(patches[0]?.set, { a: '127.0.0.2' })
    const stored = await record(handle)
    assert.equal(stored.fields.a, '127.0.0.2')
    assert.equal(stored.fields.u, FIREFOX)
    advance(61)
    await call('/read', FIREFOX, '127.0.0.2')
    assert.equal(patches.length, 2)
    assert.deepEqual(patches[1]?.set, {}, 'a touch from the same client carries only the times')
  })

  it('a request without a User-Agent keeps the stored one', async (t) => {
    const { call, record, advance } = await app(t)
    const handle = await call('/login', FIREFOX)
    advance(61)
    await call('/write', undefined, '127.0.0.2')
    const stored = await record(handle)
    assert.equal(stored.fields.u, FIREFOX)
    assert.equal(stored.fields.a, '127.0.0.2')
  })

  it('regenerate and renewal carry the client to the new record', async (t) => {
    const { call, record, advance } = await app(t, {
      clientInfo: true,
      renewalInterval: 3600,
    })
    await call('/login', FIREFOX)
    const regenerated = await call('/regenerate', CHROME, '127.0.0.2')
    assert.equal((await record(regenerated)).fields.u, CHROME)
    advance(3601)
    await call('/read', FIREFOX, '127.0.0.1') // renews: the new id comes with this answer
    const renewed = await call('/read', FIREFOX, '127.0.0.1')
    assert.notEqual(renewed, regenerated)
    const stored = await record(renewed)
    assert.equal(stored.fields.u, FIREFOX)
    assert.equal(stored.fields.a, '127.0.0.1')
  })
})

describe('clientInfo: hostile and unusual values', () => {
  it('cuts a 10 KB User-Agent to 512 characters', async (t) => {
    const { call, record, sessions } = await app(t)
    const handle = await call('/login', `Mozilla/5.0 ${'A'.repeat(10 * 1024)}`)
    const stored = (await record(handle)).fields.u ?? ''
    assert.equal(stored.length, MAX_USER_AGENT)
    assert.ok(stored.startsWith('Mozilla/5.0 AAA'))
    assert.equal((await sessions.listSessions('ada'))[0]?.userAgent, stored)
  })

  it('removes control characters a User-Agent header can carry (tab, C1 controls)', async (t) => {
    const { call, record } = await app(t)
    // HTTP allows HTAB and obs-text in a header value; \x9b is the C1 "CSI" terminal escape.
    const handle = await call('/login', 'Evil\t/1.0 \x9b31m\x85(X11)\t')
    assert.equal((await record(handle)).fields.u, 'Evil/1.0 31m(X11)')
  })

  it('clientAddress reads the address from a trusted proxy header; its value is cleaned', async (t) => {
    const { call, record } = await app(t, {
      clientInfo: true,
      // The proxy appends the address it saw: the last entry is the one it vouches for.
      clientAddress: (request) => {
        const req = request as IncomingMessage
        if (req.socket.remoteAddress !== '127.0.0.1') return undefined
        const forwarded = req.headers['x-forwarded-for']
        return typeof forwarded === 'string' ? forwarded.split(',').at(-1) : undefined
      },
    })
    const handle = await call('/login', FIREFOX, '127.0.0.1', {
      'x-forwarded-for': '10.9.9.9, 203.0.113.7',
    })
    assert.equal((await record(handle)).fields.a, '203.0.113.7')
  })

  it('an IPv4-mapped IPv6 address is stored as IPv4', () => {
    assert.equal(cleanAddress('::ffff:203.0.113.7'), '203.0.113.7')
    assert.equal(cleanAddress('::FFFF:127.0.0.1'), '127.0.0.1')
    assert.equal(cleanAddress('2001:db8::1'), '2001:db8::1')
    assert.equal(cleanAddress('fe80::1%eth0'), 'fe80::1%eth0')
    assert.equal(cleanAddress(' \u0000 '), undefined)
    assert.equal(cleanAddress(42), undefined)
  })

  it('cleaned text is never longer than asked, never empty, and holds no control, format or lone surrogate character', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 700 }), fc.nat(600), (text, max) => {
        const clean = cleanText(text, max + 1)
        if (clean === undefined) return
        assert.ok(clean.length > 0 && clean.length <= max + 1)
        assert.doesNotMatch(clean, /[\p{Cc}\p{Cf}\p{Cs}]/u)
        assert.equal(clean, clean.trim())
      }),
      { numRuns: 500 },
    )
  })
})

describe('clientInfo: other storages and adapters', () => {
  it('cookie storage adds nothing to the cookie', async (t) => {
    const cookieOf = async (clientInfo: boolean): Promise<string> => {
      const sessions = createSessions({
        storage: createCookieStorage({ codec: createPlainCodec() }),
        clock: () => T0,
        clientInfo,
      })
      const base = await serve(
        t,
        withSessions(sessions, async (req, res) => {
          ;(await getSession(req)).set('n', 1)
          res.end('ok')
        }),
      )
      const { setCookie } = await send(`${base}/`, { 'user-agent': FIREFOX }, '127.0.0.1')
      return setCookie[0] ?? ''
    }
    const plain = await cookieOf(false)
    assert.match(plain, /^session=/)
    assert.equal(await cookieOf(true), plain)
  })

  it('the Fetch adapter records the User-Agent; the address only through clientAddress', async (t) => {
    const store = createMemoryStore({ sweepInterval: 0 })
    t.after(() => store.close())
    const handles: string[] = []
    const serveWith = (options: Options) => {
      const sessions = createSessions({
        storage: createServerStorage({ store }),
        clock: () => T0,
        ...options,
      })
      return serveFetch(
        t,
        withFetchSessions(sessions, async (request) => {
          const session = await newSession(request)
          session.setSubject('fetch-user')
          handles.push(session.handle as string)
          return new Response('ok')
        }),
      )
    }
    const plain = await serveWith({ clientInfo: true })
    await send(`${plain}/`, { 'user-agent': CHROME }, '127.0.0.1')
    const told = await serveWith({
      clientInfo: true,
      clientAddress: (request) => (request as Request).headers.get('x-real-ip'),
    })
    await send(`${told}/`, { 'user-agent': FIREFOX, 'x-real-ip': '198.51.100.4' }, '127.0.0.1')
    const [first, second] = await Promise.all(handles.map((handle) => store.get(handle)))
    assert.deepEqual({ ...first?.fields }, { u: CHROME })
    assert.deepEqual({ ...second?.fields }, { u: FIREFOX, a: '198.51.100.4' })
  })
})

describe('clientInfo: options', () => {
  const storage = () => createServerStorage({ store: createMemoryStore({ sweepInterval: 0 }) })

  it('refuses a clientInfo that is not a boolean, and clientAddress without clientInfo', () => {
    assert.throws(() => createSessions({ storage: storage(), clientInfo: 'yes' as never }), {
      code: 'ERR_SESSION_CONFIG',
      message: /clientInfo must be a boolean/,
    })
    assert.throws(() => createSessions({ storage: storage(), clientAddress: () => '10.0.0.1' }), {
      code: 'ERR_SESSION_CONFIG',
      message: /clientAddress needs clientInfo: true/,
    })
    assert.throws(
      () => createSessions({ storage: storage(), clientInfo: true, clientAddress: 'x' as never }),
      { code: 'ERR_SESSION_CONFIG', message: /clientAddress must be a function/ },
    )
  })

  it('resolves to clientInfo false by default', () => {
    const sessions = createSessions({ storage: storage() })
    assert.equal(sessions.options.clientInfo, false)
    assert.equal(sessions.options.clientAddress, undefined)
  })
})
