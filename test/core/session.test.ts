import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import {
  createCookieStorage,
  createServerStorage,
  createSessions,
  getSession,
  newSession,
  type Session,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

type Data = { user?: string; visits?: number; cart?: string[]; __proto__?: unknown }
type Flash = { message: string }

const transport = () => ({ encrypted: false, host: '127.0.0.1' })

function managers() {
  return {
    cookie: createSessions<Data, Flash>({
      storage: createCookieStorage({ codec: createPlainCodec() }),
    }),
    server: createSessions<Data, Flash>({
      storage: createServerStorage({ store: createMemoryStore() }),
    }),
  }
}

/** One request through the public adapter API: attach, run, commit; returns the cookie pair. */
async function request(
  sessions: ReturnType<typeof managers>['cookie'],
  cookie: string | undefined,
  run: (session: Session<Data, Flash>, request: object) => unknown,
): Promise<{ cookie: string | undefined; setCookie: string[] }> {
  const req = {}
  const rs = sessions.attach(req, cookie, transport)
  await run(await sessions.getSession(req), req)
  const setCookie = await rs.commit()
  const pair = setCookie[0]?.split(';')[0]
  return { cookie: pair && !pair.endsWith('=') ? pair : cookie, setCookie }
}

describe('Session', () => {
  it('behaves like a typed map: get, set, has, delete, clear, size, iteration and toJSON', async () => {
    const { server } = managers()
    await request(server, undefined, (s) => {
      assert.equal(s.get('visits'), undefined)
      s.set('visits', 1).set('user', 'ada')
      assert.equal(s.get('visits'), 1)
      assert.equal(s.has('user'), true)
      assert.equal(s.size, 2)
      assert.deepEqual([...s.keys()], ['visits', 'user'])
      assert.deepEqual([...s.values()], [1, 'ada'])
      assert.deepEqual(
        [...s],
        [
          ['visits', 1],
          ['user', 'ada'],
        ],
      )
      assert.deepEqual(s.toJSON(), { visits: 1, user: 'ada' })
      assert.equal(s.delete('user'), true)
      assert.equal(s.delete('user'), false)
      s.set('user', undefined)
      assert.equal(s.has('user'), false)
      s.clear()
      assert.equal(s.size, 0)
    })
  })

  it('keeps "__proto__" as an ordinary key without touching any prototype', async () => {
    const { server } = managers()
    const first = await request(server, undefined, (s) => {
      s.set('__proto__', { polluted: true })
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
    })
    await request(server, first.cookie, (s) => {
      // the serializer drops the key on the way back: it never reaches a prototype either
      assert.equal(({} as Record<string, unknown>).polluted, undefined)
      assert.equal(Object.getPrototypeOf(s.toJSON()), Object.prototype)
    })
  })

  it('inherits nothing: names of Object.prototype members are absent until set, then ordinary keys', async () => {
    type Loose = Session<Record<string, unknown>, Flash>
    const names = ['toString', 'constructor', 'hasOwnProperty', 'valueOf', '__proto__']
    const check = (s: Loose, present: readonly string[]) => {
      for (const name of names) {
        assert.equal(s.has(name), present.includes(name), name)
        if (!present.includes(name)) assert.equal(s.get(name), undefined, name)
      }
      assert.deepEqual([...s.keys()].sort(), [...present, 'n'].sort())
    }
    for (const sessions of Object.values(managers())) {
      const first = await request(sessions, undefined, (s) => {
        const loose = s as unknown as Loose
        loose.set('n', 1)
        check(loose, [])
        loose.set('toString', 'a')
        loose.set('constructor', 2)
        check(loose, ['toString', 'constructor'])
      })
      // Loaded from the cookie or the store: the same, and the values came back.
      await request(sessions, first.cookie, (s) => {
        const loose = s as unknown as Loose
        check(loose, ['toString', 'constructor'])
        assert.equal(loose.get('toString'), 'a')
        assert.equal(loose.get('constructor'), 2)
        assert.equal(loose.delete('toString'), true)
        check(loose, ['constructor'])
        assert.equal(loose.get('n'), 1)
      })
    }
  })

  it('is new and unchanged for a visitor without a cookie, and writes nothing when only read', async () => {
    for (const sessions of Object.values(managers())) {
      const { setCookie } = await request(sessions, undefined, (s) => {
        assert.equal(s.isNew, true)
        assert.equal(s.changed, false)
        s.get('visits')
      })
      assert.deepEqual(setCookie, [])
    }
  })

  it('has an id with server storage and none with cookie storage', async () => {
    const { cookie, server } = managers()
    await request(cookie, undefined, (s) => assert.equal(s.id, null))
    await request(server, undefined, (s) => {
      assert.match(s.id ?? '', /^[A-Za-z0-9_-]{32}$/)
      assert.match(s.handle ?? '', /^[A-Za-z0-9_-]{43}$/)
      assert.notEqual(s.handle, s.id)
    })
  })

  it('reports createdAt and lastActiveAt as dates and keeps createdAt across requests', async () => {
    const { server } = managers()
    let created = 0
    const first = await request(server, undefined, (s) => {
      created = s.createdAt.getTime()
      assert.ok(Math.abs(created - Date.now()) < 1000)
      s.set('visits', 1)
    })
    await request(server, first.cookie, (s) => {
      assert.equal(s.isNew, false)
      assert.equal(s.createdAt.getTime(), created)
      assert.ok(s.lastActiveAt instanceof Date)
    })
  })

  it('needs markChanged to save a value mutated in place', async () => {
    const { server } = managers()
    const first = await request(server, undefined, (s) => s.set('cart', ['a']))
    await request(server, first.cookie, (s) => {
      s.get('cart')?.push('b')
      assert.equal(s.changed, false)
    })
    await request(server, first.cookie, (s) => {
      assert.deepEqual(s.get('cart'), ['a'])
      s.get('cart')?.push('c')
      s.markChanged('cart')
    })
    await request(server, first.cookie, (s) => assert.deepEqual(s.get('cart'), ['a', 'c']))
  })

  it('shows a flash value exactly once, on a later request', async () => {
    for (const sessions of Object.values(managers())) {
      const first = await request(sessions, undefined, (s) => {
        s.flash('message', 'hello')
        assert.equal(s.getFlash('message'), undefined)
        assert.equal(s.hasFlash('message'), false)
      })
      const second = await request(sessions, first.cookie, (s) => {
        assert.equal(s.hasFlash('message'), true)
        assert.equal(s.getFlash('message'), 'hello')
      })
      await request(sessions, second.cookie, (s) => assert.equal(s.getFlash('message'), undefined))
    }
  })

  it('keeps an unread flash value until it is read', async () => {
    const { server } = managers()
    const first = await request(server, undefined, (s) => s.flash('message', 'later'))
    await request(server, first.cookie, (s) => s.get('visits'))
    await request(server, first.cookie, (s) => assert.equal(s.getFlash('message'), 'later'))
  })

  it('regenerate gives a new id, keeps the data and kills the old id', async () => {
    const { server } = managers()
    const first = await request(server, undefined, (s) => s.set('user', 'ada'))
    let oldId: string | null = null
    let newId: string | null = null
    const second = await request(server, first.cookie, (s) => {
      oldId = s.id
      s.regenerate()
      newId = s.id
      assert.notEqual(newId, oldId)
    })
    assert.notEqual(second.cookie, first.cookie)
    await request(server, second.cookie, (s) => {
      assert.equal(s.id, newId)
      assert.equal(s.get('user'), 'ada')
    })
    await request(server, first.cookie, (s) => {
      assert.equal(s.isNew, true)
      assert.equal(s.get('user'), undefined)
    })
  })

  it('invalidate empties the session, refuses writes and expires the cookie', async () => {
    for (const sessions of Object.values(managers())) {
      const first = await request(sessions, undefined, (s) => s.set('user', 'ada'))
      const second = await request(sessions, first.cookie, (s) => {
        s.invalidate()
        assert.equal(s.invalidated, true)
        assert.equal(s.get('user'), undefined)
        assert.throws(() => s.set('user', 'eve'), { code: 'ERR_SESSION_INVALIDATED' })
      })
      assert.match(second.setCookie[0] ?? '', /Max-Age=0/)
    }
  })

  it('refuses changes after the commit', async () => {
    const { server } = managers()
    const req = {}
    const rs = server.attach(req, undefined, transport)
    const s = await server.getSession(req)
    s.set('visits', 1)
    await rs.commit()
    assert.throws(() => s.set('visits', 2), { code: 'ERR_SESSION_COMMITTED' })
    assert.deepEqual(await rs.commit(), [])
  })

  it('loads once when getSession is called concurrently in one request', async () => {
    const store = createMemoryStore()
    let loads = 0
    const counting = {
      ...store,
      get: (id: string) => {
        loads++
        return store.get(id)
      },
    }
    const sessions = createSessions<Data, Flash>({
      storage: createServerStorage({ store: counting }),
    })
    const first = await request(sessions, undefined, (s) => s.set('visits', 1))
    loads = 0
    const req = {}
    sessions.attach(req, first.cookie, transport)
    const [a, b, c] = await Promise.all([
      getSession(req),
      getSession(req),
      sessions.getSession(req),
    ])
    assert.equal(a, b)
    assert.equal(b, c)
    assert.equal(loads, 1)
  })

  it('newSession starts empty, ignores the cookie and deletes the previous session', async () => {
    const { server } = managers()
    const first = await request(server, undefined, (s) => s.set('user', 'ada'))
    const req = {}
    const rs = server.attach(req, first.cookie, transport)
    const fresh = await newSession<Data>(req)
    assert.equal(fresh.isNew, true)
    assert.equal(fresh.get('user'), undefined)
    fresh.set('user', 'bob')
    const [header] = await rs.commit()
    const cookie = header?.split(';')[0]
    await request(server, cookie, (s) => assert.equal(s.get('user'), 'bob'))
    await request(server, first.cookie, (s) => assert.equal(s.isNew, true))
  })

  it('rejects getSession for a request no adapter attached', async () => {
    await assert.rejects(getSession({}), { code: 'ERR_SESSION_NOT_ATTACHED' })
    await assert.rejects(newSession({}), { code: 'ERR_SESSION_NOT_ATTACHED' })
    const { server } = managers()
    await assert.rejects(server.getSession({}), { code: 'ERR_SESSION_NOT_ATTACHED' })
  })

  it('keeps two managers on one request apart', async () => {
    const { cookie, server } = managers()
    const req = {}
    cookie.attach(req, undefined, transport)
    server.attach(req, undefined, transport)
    const a = await cookie.getSession(req)
    const b = await server.getSession(req)
    assert.notEqual(a, b)
    assert.equal(a.id, null)
    assert.equal(await getSession(req), b, 'getSession picks the innermost (last attached) manager')
  })

  it('stores the subject and lists and revokes the sessions of a subject', async () => {
    const { server } = managers()
    const one = await request(server, undefined, (s) => s.setSubject('ada'))
    const two = await request(server, undefined, (s) => s.setSubject('ada'))
    await request(server, undefined, (s) => s.setSubject('bob'))
    let handle: string | null = null
    await request(server, one.cookie, (s) => {
      assert.equal(s.subject, 'ada')
      handle = s.handle
    })
    const listed = await server.listSessions('ada')
    assert.equal(listed.length, 2)
    assert.ok(listed.some((info) => info.handle === handle))
    assert.ok(listed.every((info) => info.expiresAt > info.lastActiveAt))
    assert.equal(await server.revokeSession(handle as unknown as string, 'bob'), false)
    assert.equal(await server.revokeSessions('ada', { exceptHandle: handle }), 1)
    await request(server, two.cookie, (s) => assert.equal(s.isNew, true))
    await request(server, one.cookie, (s) => assert.equal(s.isNew, false))
    assert.equal(await server.revokeSession(handle as unknown as string, 'ada'), true)
    await request(server, one.cookie, (s) => assert.equal(s.isNew, true))
  })

  it('refuses to list sessions with cookie storage', async () => {
    const { cookie } = managers()
    await assert.rejects(cookie.listSessions('ada'), { code: 'ERR_SESSION_CONFIG' })
  })
})
