import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { describe, it } from 'node:test'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import { decodeError, PAYLOAD, UNICODE } from '../support/codec-suite.ts'
import {
  atSeconds,
  codec,
  KEY,
  LARGE,
  OLD_KEY,
  OTHER_KEY,
  pinned,
  pyDecrypt,
  pyEncrypt,
  raw,
  resign,
  T,
  token,
} from '../support/fernet-fixtures.ts'
import { requirePython, runPython } from '../support/python.ts'

describe('fernet codec against Python cryptography.fernet', () => {
  const PAYLOADS = [
    PAYLOAD,
    UNICODE,
    '',
    LARGE,
    '{"created": 1700000000, "session": {"q": "a;b,c\\"d", "f": 1.5, "n": null}}',
  ]

  it('reads what Python Fernet.encrypt wrote (ordinary, unicode, empty, large)', (t) => {
    if (!requirePython(t, 'cryptography')) return
    const tokens = pyEncrypt(KEY, PAYLOADS)
    tokens.forEach((value, i) => {
      assert.deepEqual(codec.decode(value), { payload: PAYLOADS[i], rotated: false })
    })
  })

  it('writes what Python writes, byte for byte, for the same time and IV', (t) => {
    if (!requirePython(t, 'cryptography')) return
    for (const time of [0, T, 2 ** 33 + 5]) {
      const iv = randomBytes(16)
      const ours = pinned({ keys: [KEY], clock: atSeconds(time) }, iv)
      const python = pyEncrypt(KEY, PAYLOADS, { time, iv: iv.toString('hex') })
      assert.deepEqual(
        PAYLOADS.map((p) => ours.encode(p)),
        python,
      )
    }
  })

  it('is read by Python Fernet and MultiFernet (ordinary, unicode, empty, large, raw-bytes key)', (t) => {
    if (!requirePython(t, 'cryptography')) return
    const writer = createFernetCodec({ keys: [KEY, OLD_KEY] })
    const tokens = PAYLOADS.map((p) => writer.encode(p))
    const expected = PAYLOADS.map((payload) => ({ payload }))
    assert.deepEqual(pyDecrypt([KEY], tokens), expected)
    assert.deepEqual(pyDecrypt([OTHER_KEY, OLD_KEY, KEY], tokens), expected)
    assert.deepEqual(
      pyDecrypt([OLD_KEY], tokens),
      tokens.map(() => null),
    )
    const fromBytes = createFernetCodec({ keys: [Buffer.from(KEY, 'base64url')] })
    assert.deepEqual(pyDecrypt([KEY], [fromBytes.encode(UNICODE)]), [{ payload: UNICODE }])
  })

  it('reads a token Python made with an old key of a MultiFernet list as rotated', (t) => {
    if (!requirePython(t, 'cryptography')) return
    const script = `
import json, sys
from cryptography.fernet import Fernet, MultiFernet
req = json.load(sys.stdin)
old = Fernet(req["old"]).encrypt(req["payload"].encode())
multi = MultiFernet([Fernet(req["new"]), Fernet(req["old"])])
print(json.dumps({"old": old.decode(), "multi": multi.encrypt(req["payload"].encode()).decode(),
                "rotated": multi.rotate(old).decode()}))
`
    const made = runPython<{ old: string; multi: string; rotated: string }>(script, {
      old: OLD_KEY,
      new: KEY,
      payload: UNICODE,
    })
    const reader = createFernetCodec({ keys: [KEY, OLD_KEY] })
    assert.deepEqual(reader.decode(made.old), { payload: UNICODE, rotated: true })
    assert.deepEqual(reader.decode(made.multi), { payload: UNICODE, rotated: false })
    assert.deepEqual(reader.decode(made.rotated), { payload: UNICODE, rotated: false })
    // MultiFernet.rotate keeps the timestamp; ours re-issues with a fresh one.
    assert.deepEqual(raw(made.rotated).subarray(1, 9), raw(made.old).subarray(1, 9))
    assert.equal(decodeError(() => codec.decode(made.old)).reason, 'tampered')
  })

  it('agrees with Python decrypt_at_time on every TTL boundary, both ways', (t) => {
    if (!requirePython(t, 'cryptography')) return
    const ours = pinned({ keys: [KEY], clock: atSeconds(T) }, randomBytes(16)).encode(PAYLOAD)
    const [theirs] = pyEncrypt(KEY, [PAYLOAD], { time: T, iv: randomBytes(16).toString('hex') })
    for (const offset of [-1000, -61, -60, -1, 0, 5, 9, 10, 11, 100]) {
      const now = T + offset
      const python = pyDecrypt([KEY], [ours, theirs], { ttl: 10, now })
      const reader = createFernetCodec({ keys: [KEY], ttl: 10, clock: atSeconds(now) })
      for (const [i, value] of [ours, theirs].entries()) {
        let accepted: boolean
        try {
          accepted = reader.decode(value as string).payload === PAYLOAD
        } catch (error) {
          assert.equal((error as { reason: string }).reason, 'expired', `offset ${offset}`)
          accepted = false
        }
        assert.equal(accepted, python[i] !== null, `offset ${offset}, token ${i}`)
      }
    }
  })

  it('rejects tampered, truncated, wrong-key and garbage values on both sides', (t) => {
    if (!requirePython(t, 'cryptography')) return
    const [good] = pyEncrypt(KEY, [PAYLOAD]) as [string]
    const flipped = raw(good)
    flipped[40] = (flipped[40] ?? 0) ^ 1
    const badPadding = raw(good)
    badPadding.writeUInt8((badPadding.at(-49) ?? 0) ^ 0x5a, badPadding.length - 49)
    const wrongVersion = raw(good)
    wrongVersion[0] = 0x81
    const cases: [string, string][] = [
      [token(flipped), 'tampered'],
      [token(resign(badPadding, KEY)), 'tampered'],
      [good.slice(0, -8), 'malformed'],
      [token(raw(good).subarray(0, -16)), 'tampered'],
      [createFernetCodec({ keys: [OTHER_KEY] }).encode(PAYLOAD), 'tampered'],
      [pyEncrypt(OTHER_KEY, [PAYLOAD])[0] as string, 'tampered'],
      [token(resign(wrongVersion, KEY)), 'malformed'],
      ['gAAAAAB', 'malformed'],
      ['not a token', 'malformed'],
      [token(randomBytes(120)), 'malformed'],
    ]
    const python = pyDecrypt(
      [KEY],
      cases.map(([value]) => value),
    )
    cases.forEach(([value, reason], i) => {
      assert.equal(
        python[i],
        null,
        `python accepts or crashes on case ${i}: ${JSON.stringify(python[i])}`,
      )
      assert.equal(decodeError(() => codec.decode(value)).reason, reason, `case ${i}`)
    })
  })
})
