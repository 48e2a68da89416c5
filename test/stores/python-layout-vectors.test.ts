/**
 * The Python layouts against the vectors of FORMATS.md (§1.2 aiohttp-session, §2.2 starsessions)
 * byte for byte, and how each layout reads what the Python libraries (or an attacker with store
 * access) may leave under a key. No server needed: the layouts are pure.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { SessionRecord } from '../../src/core/types.ts'
import { aiohttpSettings, createAiohttpLayout } from '../../src/stores/aiohttp-layout.ts'
import { objectMembers } from '../../src/stores/json-members.ts'
import { exptimeOf } from '../../src/stores/memcached-blob.ts'
import {
  buildAesGcmEncryptor,
  buildFernetEncryptor,
  createAesGcmEncryptor,
  createFernetEncryptor,
} from '../../src/stores/starsessions-encryptors.ts'
import { createStarsessionsLayout } from '../../src/stores/starsessions-layout.ts'
import { assertSameRecord } from '../support/store-helpers.ts'

const T = 1_700_000_000
const aiohttp = (maxAge: number | null = 3600) =>
  createAiohttpLayout(aiohttpSettings('test', { maxAge }))

/** A record of the FORMATS vectors: set as user="alice" then n=1 at 1700000000.5. */
function vectorRecord(fields: Record<string, string>, overrides: Partial<SessionRecord> = {}) {
  return {
    id: 'a'.repeat(32),
    fields,
    version: 1,
    createdAt: T * 1000 + 500,
    lastActiveAt: T * 1000 + 500,
    expiresAt: (T + 3600) * 1000 + 500,
    ...overrides,
  }
}

/** The text without its last member when that member is the sessionware section. */
function withoutSection(text: string): string {
  const members = objectMembers(text)
  assert.equal(members.at(-1)?.[0], 'sessionware')
  return text.slice(0, text.lastIndexOf(', "sessionware": ')) + text.slice(-1)
}

describe('aiohttp-session layout: FORMATS.md §1.2', () => {
  it('writes the plaintext vector, then the section aiohttp ignores', () => {
    const text = aiohttp().encode(vectorRecord({ 'd:user': '"alice"', 'd:n': '1' }), 1) as string
    assert.equal(
      withoutSection(text),
      '{"created": 1700000000, "session": {"user": "alice", "n": 1}}',
    )
    const single = aiohttp().encode(vectorRecord({ 'd:user': '"alice"' }), 1) as string
    // V8: GET AIOHTTP_SESSION_aaaa…a
    assert.equal(withoutSection(single), '{"created": 1700000000, "session": {"user": "alice"}}')
    // V10's memcached value and V2's non-ASCII escape (\u00e9), written as Python writes them.
    const v10 = aiohttp().encode(vectorRecord({ 'd:k': '"v"' }), 1) as string
    assert.equal(withoutSection(v10), '{"created": 1700000000, "session": {"k": "v"}}')
  })

  it('reads V8 as a version-1 record created and last active at `created`', () => {
    const v8 = '{"created": 1700000000, "session": {"user": "alice"}}'
    const id = 'a'.repeat(32)
    assertSameRecord(aiohttp().decode(v8, id, T * 1000 + 10_000), {
      id,
      fields: { 'd:user': '"alice"' },
      version: 1,
      createdAt: T * 1000,
      lastActiveAt: T * 1000,
      expiresAt: (T + 3600) * 1000,
    })
    // No max_age (V9): no deadline of its own; the core's timeouts apply.
    assert.equal(aiohttp(null).decode(v8, id, T * 1000)?.expiresAt, 8_640_000_000_000_000)
  })

  it('expires as aiohttp does: age = int(now) - created, expired when age > max_age', () => {
    const v8 = Buffer.from('{"created": 1700000000, "session": {"user": "alice"}}')
    assert.ok(aiohttp(50).decode(v8, 'x', (T + 50) * 1000 + 999))
    assert.equal(aiohttp(50).decode(v8, 'x', (T + 51) * 1000), null)
    // V8 after invalidate(): "{}".
    assert.equal(aiohttp().decode('{}', 'x', T * 1000), null)
  })

  it("memcached exptime: aiohttp's 30-day rule (V10: 3600, and 1702592001 for 30 days + 1 s)", () => {
    const now = T * 1000
    assert.equal(exptimeOf(now + 3600_000, now), 3600)
    assert.equal(exptimeOf(now + 2_592_000_000, now), 2_592_000)
    assert.equal(exptimeOf(now + 2_592_001_000, now), 1_702_592_001)
    assert.equal(exptimeOf(now + 1, now), 1)
    assert.equal(exptimeOf(now, now), -1)
  })

  it('reads anything but a session with a numeric created as no session', () => {
    const layout = aiohttp(null)
    const none = [
      '',
      'not json',
      '[]',
      'null',
      '"text"',
      '{}',
      '{"session": {"a": 1}}',
      '{"created": "1700000000", "session": {"a": 1}}',
      '{"created": 1700000000, "session": []}',
      '{"created": 1700000000, "session": "x"}',
      '{"created": 1700000000, "session": {}, "sessionware": {"version": 0}}',
      '{"created": 1700000000, "session": {}, "sessionware": {"version": 1}}',
      '{"created": 1700000000, "session": {}, "sessionware": []}',
      '{"created": 1700000000, "session": {}, "sessionware": {"version": 1, "createdAt": null, "lastActiveAt": 1, "expiresAt": 1}}',
      `{"created": 1700000000, "session": ${'['.repeat(5000)}${']'.repeat(5000)}}`,
    ]
    for (const text of none) assert.equal(layout.decode(text, 'x', T * 1000), null, text)
    assert.equal(layout.decode(Uint8Array.of(0x7b, 0xff, 0x7d), 'x', T * 1000), null)
    // A null session is aiohttp's empty session.
    assert.deepEqual(
      layout.decode('{"created": 1700000000, "session": null}', 'x', T * 1000)?.fields,
      {},
    )
  })

  it('keeps every value Python wrote as Python wrote it: key order, NaN, big ints, __proto__', () => {
    const python =
      '{"created": 1700000000, "session": {"b": 1, "1": 2.0, "big": 12345678901234567890, "x": NaN, "__proto__": {"a": 1}, "s": "\\ud83c\\udf89"}}'
    const record = aiohttp(null).decode(python, 'x', T * 1000) as SessionRecord
    assert.deepEqual(Object.entries(record.fields), [
      ['d:b', '1'],
      ['d:1', '2.0'],
      ['d:big', '12345678901234567890'],
      ['d:x', 'NaN'],
      ['d:__proto__', '{"a": 1}'],
      ['d:s', '"\\ud83c\\udf89"'],
    ])
    const again = aiohttp(null).encode({ ...record, lastActiveAt: T * 1000 }, 2) as string
    assert.equal(withoutSection(again), python)
  })

  it('keeps in the section what Python has no place for, and reads it back exactly', () => {
    const record = vectorRecord(
      {
        'd:user': '"alice"',
        'd:sealed': 'kid123.AAAA',
        'd:spaced': ' 1',
        'f:notice': '"saved"',
        'f:raw': 'not json',
        m: '1800',
        p: '1',
        ['__proto__']: 'x',
      },
      { version: 7, subject: 'user-1', expiresAt: (T + 60) * 1000 },
    )
    const fields = JSON.parse(JSON.stringify(record.fields))
    const text = aiohttp().encode({ ...record, fields }, 7) as string
    assert.equal(withoutSection(text), '{"created": 1700000000, "session": {"user": "alice"}}')
    assertSameRecord(aiohttp().decode(text, record.id, T * 1000), { ...record, fields })
    const pointer = { ...vectorRecord({}), movedTo: 'b'.repeat(32) }
    assertSameRecord(aiohttp().decode(aiohttp().encode(pointer, 3), pointer.id, T * 1000), {
      ...pointer,
      version: 3,
    })
  })
})

const STARSESSIONS_PAYLOAD =
  '{"user": "alice", "__metadata__": {"lifetime": 3600, "created": 1700000000.25, "last_access": 1700000000.25}}'
const KEY_0_31 = Uint8Array.from({ length: 32 }, (_, i) => i)
const NONCE_0_11 = () => Uint8Array.from({ length: 12 }, (_, i) => i)
/** FORMATS.md §2.2: the cookie of CookieStore + AESGCMEncryptor is b64encode(nonce ‖ ct ‖ tag). */
const AES_GCM_VECTOR = Buffer.from(
  'AAECAwQFBgcICQoLPCCjaKCX4CGtY/bn2IodT6/2pWuvFjoIWQOE8Xw2X5A7MNXew6h0/QDNEoiqvQgL2GlQoXr0wKha9l58fMHPzsEL9krj4RZRLGSEXNqjLspU67oWKQIwC5iO7e5C0Ii6+8hp1pRx+CqwLgvPNf+skiEey8CIURIk4Lq6gxQ=',
  'base64',
)
const FERNET_VECTOR =
  'gAAAAABlU_EAAAAAAAAAAAAAAAAAAAAAAHd_YAHWiqONTHMWNwso7FfWaDCy5O5OmuTYugA0JZsmcs0gFuFRzIwJbEhQt-VQ4MPBrRvurIQjQXNHUa_G5ZCp5lT6dHMKb4RIlhHnvirk5AwQod8vwNtoC14WktY2Xm6b_dxVMqvrNng7bXDfAuBGBMV15aMOJjLuBwXZJ43eLP1ZFVrZRqgulkRU2qS_PA=='

describe('starsessions layout: FORMATS.md §2.2', () => {
  const layout = (options: Parameters<typeof createStarsessionsLayout>[1] = {}) =>
    createStarsessionsLayout('test', { lifetime: 3600, ...options })
  const record = vectorRecord(
    { 'd:user': '"alice"' },
    {
      id: '00000000000000000000000000000001',
      createdAt: T * 1000 + 250,
      lastActiveAt: T * 1000 + 250,
      expiresAt: (T + 3600) * 1000 + 250,
    },
  )

  it('writes the RedisStore vector with the section inside __metadata__', () => {
    const text = layout().encode(record, 1) as string
    const section = text.lastIndexOf(', "sessionware": ')
    assert.equal(text.slice(0, section) + text.slice(-2), STARSESSIONS_PAYLOAD)
  })

  it('reads the vector; the deadline follows lifetime, rolling and gc_ttl', () => {
    const now = T * 1000 + 10_000
    assertSameRecord(layout().decode(STARSESSIONS_PAYLOAD, record.id, now), record)
    const rolling = layout({ rolling: true }).decode(
      STARSESSIONS_PAYLOAD.replace('"last_access": 1700000000.25', '"last_access": 1700000100.5'),
      record.id,
      now,
    )
    assert.equal(rolling?.expiresAt, (T + 100 + 3600) * 1000 + 500)
    const sessionOnly = layout({ lifetime: 0 }).decode(STARSESSIONS_PAYLOAD, record.id, now)
    assert.equal(sessionOnly?.expiresAt, (T + 2_592_000) * 1000 + 250)
  })

  it('AES-GCM: nonce12 ‖ ciphertext ‖ tag16, byte for byte', () => {
    const aes = buildAesGcmEncryptor({ keys: [KEY_0_31] }, NONCE_0_11)
    assert.deepEqual(Buffer.from(aes.encrypt(STARSESSIONS_PAYLOAD) as Uint8Array), AES_GCM_VECTOR)
    assert.equal(aes.decrypt(AES_GCM_VECTOR), STARSESSIONS_PAYLOAD)
    const stored = layout({ encryptor: aes }).decode(AES_GCM_VECTOR, record.id, T * 1000)
    assertSameRecord(stored, record)
    // Rotation: the old key second still opens it.
    const rotated = createAesGcmEncryptor({ keys: [new Uint8Array(16).fill(9), KEY_0_31] })
    assert.equal(rotated.decrypt(AES_GCM_VECTOR), STARSESSIONS_PAYLOAD)
    assert.throws(() =>
      createAesGcmEncryptor({ keys: [new Uint8Array(32)] }).decrypt(AES_GCM_VECTOR),
    )
    assert.throws(() => aes.decrypt(AES_GCM_VECTOR.subarray(0, 27)))
    const tampered = Buffer.from(AES_GCM_VECTOR)
    tampered[20] = (tampered[20] as number) ^ 1
    assert.throws(() => aes.decrypt(tampered))
    assert.equal(layout({ encryptor: aes }).decode(tampered, record.id, T * 1000), null)
  })

  it('Fernet: the inner token of the vector, byte for byte', () => {
    const key = `${Buffer.from(KEY_0_31).toString('base64url')}=`
    const fernet = buildFernetEncryptor(
      { keys: [key], clock: () => T * 1000 },
      () => new Uint8Array(16),
    )
    assert.equal(fernet.encrypt(STARSESSIONS_PAYLOAD), FERNET_VECTOR)
    assert.equal(fernet.decrypt(Buffer.from(FERNET_VECTOR)), STARSESSIONS_PAYLOAD)
    const rotated = createFernetEncryptor({ keys: [new Uint8Array(32).fill(7), KEY_0_31] })
    assert.equal(rotated.decrypt(Buffer.from(FERNET_VECTOR)), STARSESSIONS_PAYLOAD)
    // A value in a store is no cookie: tokens beyond 4096 characters are written and read.
    const large = `{"text": "${'x'.repeat(100_000)}"}`
    assert.equal(fernet.decrypt(Buffer.from(fernet.encrypt(large) as string)), large)
    const other = createFernetEncryptor({ keys: [new Uint8Array(32).fill(7)] })
    assert.equal(layout({ encryptor: other }).decode(FERNET_VECTOR, record.id, T * 1000), null)
  })

  it("after a Python write: Python's times, the version one up, the section's flash kept", () => {
    const text = layout().encode(
      { ...record, fields: { 'd:user': '"alice"', 'f:n': '"hi"', 'd:__metadata__': '1' } },
      4,
    ) as string
    assertSameRecord(layout().decode(text, record.id, T * 1000), {
      ...record,
      fields: { 'd:user': '"alice"', 'f:n': '"hi"', 'd:__metadata__': '1' },
      version: 4,
    })
    // starsessions loaded it, set a key and saved: a new last_access, everything else kept.
    const python = text
      .replace('{"user": "alice", ', '{"user": "alice", "python": true, ')
      .replace('"last_access": 1700000000.25', '"last_access": 1700000100.5')
    assertSameRecord(layout().decode(python, record.id, T * 1000), {
      ...record,
      fields: { 'd:user': '"alice"', 'd:python': 'true', 'f:n': '"hi"', 'd:__metadata__': '1' },
      version: 5,
      lastActiveAt: (T + 100) * 1000 + 500,
      expiresAt: (T + 3600) * 1000 + 250,
    })
  })

  it('reads what starsessions reads as empty as no session', () => {
    for (const text of [
      '',
      'not json',
      '[]',
      '{}',
      '{"__metadata__": {"lifetime": 1}}',
      '{"a": 1, "__metadata__": []}',
    ]) {
      assert.equal(layout().decode(text, 'x', T * 1000), null, text)
    }
    // Data without metadata (not written by starsessions) reads with starsessions' defaults.
    const bare = layout().decode('{"a": 1}', 'x', T * 1000)
    assert.deepEqual(bare?.fields, { 'd:a': '1' })
    assert.equal(bare?.createdAt, T * 1000)
  })
})
