import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import {
  createCookieStorage,
  createServerStorage,
  createSessions,
  type SessionOptions,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

const storage = createCookieStorage({ codec: createPlainCodec() })
const create = (options: Partial<SessionOptions>) => () => createSessions({ storage, ...options })
const config = { code: 'ERR_SESSION_CONFIG' }

describe('options', () => {
  it('resolves secure defaults into a frozen object', () => {
    const { options } = createSessions({ storage })
    assert.equal(Object.isFrozen(options), true)
    assert.equal(Object.isFrozen(options.cookie), true)
    assert.deepEqual(
      { ...options.cookie },
      {
        name: 'session',
        path: '/',
        domain: undefined,
        secure: undefined,
        httpOnly: true,
        sameSite: 'lax',
        partitioned: false,
        persistent: true,
        encoding: 'uri',
      },
    )
    assert.equal(options.idleTimeoutMs, 1_209_600_000)
    assert.equal(options.absoluteTimeoutMs, 2_592_000_000)
    assert.equal(options.touchAfterMs, null, 'null: half of each session idle timeout')
  })

  it('does not mutate the options it was given', () => {
    const cookie = { name: '__Host-s' }
    const input = { storage, cookie }
    createSessions(input)
    assert.deepEqual(cookie, { name: '__Host-s' })
  })

  it('requires a storage', () => {
    assert.throws(() => createSessions({} as SessionOptions), config)
    assert.throws(() => createCookieStorage({} as never), config)
    assert.throws(() => createServerStorage({} as never), config)
  })

  it('rejects a store that speaks another contract version', () => {
    const store = { ...createMemoryStore(), contractVersion: 1 } as never
    assert.throws(() => createServerStorage({ store }), config)
    const future = { ...createMemoryStore(), contractVersion: 3 } as never
    assert.throws(() => createServerStorage({ store: future }), config)
  })

  it('rejects timeouts that are not positive numbers, and both timeouts off', () => {
    assert.throws(create({ idleTimeout: 0 }), config)
    assert.throws(create({ idleTimeout: -1 }), config)
    assert.throws(create({ absoluteTimeout: Number.NaN }), config)
    assert.throws(create({ idleTimeout: '60' as never }), config)
    assert.throws(create({ idleTimeout: null, absoluteTimeout: null }), config)
    assert.doesNotThrow(create({ idleTimeout: null }))
    assert.doesNotThrow(create({ absoluteTimeout: null }))
    assert.throws(create({ touchAfter: -1 }), config)
    assert.throws(create({ conflictRetries: 3 } as never), config, 'moved to the server storage')
    const store = createMemoryStore()
    assert.throws(() => createServerStorage({ store, conflictRetries: 1.5 }), config)
    assert.throws(() => createServerStorage({ store, conflictRetries: -1 }), config)
  })

  it('rejects a renewal grace of null and an interval shorter than the grace', () => {
    assert.throws(create({ renewalInterval: 60, renewalGrace: null as never }), config)
    assert.throws(create({ renewalGrace: null as never }), config)
    assert.throws(create({ renewalInterval: 20, renewalGrace: 30 }), config)
    assert.throws(create({ renewalInterval: 10 }), config, 'shorter than the default grace of 30 s')
    assert.doesNotThrow(create({ renewalInterval: 30, renewalGrace: 30 }))
    assert.doesNotThrow(create({ renewalInterval: 3600 }))
    assert.throws(create({ renewalGrace: 0 }), config)
    assert.throws(create({ renewalGrace: Number.POSITIVE_INFINITY }), config)
  })

  it('rejects cookie names, paths and domains that are not valid', () => {
    assert.throws(create({ cookie: { name: 'a b' } }), config)
    assert.throws(create({ cookie: { name: 'a;b' } }), config)
    assert.throws(create({ cookie: { name: '' } }), config)
    assert.throws(create({ cookie: { path: 'relative' } }), config)
    assert.throws(create({ cookie: { path: '/a;b' } }), config)
    assert.throws(create({ cookie: { domain: 'a b.com' } }), config)
    assert.throws(create({ cookie: { sameSite: 'sometimes' as never } }), config)
  })

  it('enforces the __Host- prefix rules when the options are created', () => {
    assert.throws(create({ cookie: { name: '__Host-s', secure: false } }), config)
    assert.throws(create({ cookie: { name: '__Host-s', path: '/app' } }), config)
    assert.throws(create({ cookie: { name: '__Host-s', domain: 'example.com' } }), config)
    const { options } = createSessions({ storage, cookie: { name: '__Host-s' } })
    assert.equal(options.cookie.secure, true)
  })

  it('enforces the __Secure- prefix rule and Secure for SameSite=None', () => {
    assert.throws(create({ cookie: { name: '__Secure-s', secure: false } }), config)
    assert.equal(
      createSessions({ storage, cookie: { name: '__Secure-s' } }).options.cookie.secure,
      true,
    )
    assert.throws(create({ cookie: { sameSite: 'none', secure: false } }), config)
    assert.equal(
      createSessions({ storage, cookie: { sameSite: 'none' } }).options.cookie.secure,
      true,
    )
  })

  it('rejects an id generator that makes short or unsafe ids', () => {
    const store = createMemoryStore()
    const sessions = createSessions({
      storage: createServerStorage({ store, generateId: () => 'short' }),
    })
    const req = {}
    sessions.attach(req, undefined, () => ({ encrypted: false, host: 'localhost' }))
    return assert.rejects(sessions.getSession(req), config)
  })
})
