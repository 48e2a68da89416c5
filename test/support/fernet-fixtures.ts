/**
 * What the fernet codec's test files share: keys (the FORMATS.md vector key among them), a codec
 * with a pinned IV, token surgery, and Python's cryptography.fernet run as a peer. Not part of the
 * package.
 *
 * @module
 */
import { createHmac, randomBytes } from 'node:crypto'
import { createFernetCodec, type FernetCodecOptions } from '../../src/codecs/fernet.ts'
import { buildFernetCodec } from '../../src/lib/fernet.ts'
import { runPython } from './python.ts'

/** Bytes 0..31, the key of the FORMATS.md vectors (aiohttp-session, starsessions). */
export const VECTOR_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i)
export const VECTOR_KEY = 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8='
/** asgi-sessions' key for the secret `SECRET-TESTS` (padded with `=` to 32 characters). */
export const ASGI_KEY = 'U0VDUkVULVRFU1RTPT09PT09PT09PT09PT09PT09PT0='
/** 1700000000 s: the timestamp of every FORMATS.md vector. */
export const T = 1_700_000_000
export const atSeconds = (seconds: number) => () => seconds * 1000

/** Fresh keys for these tests (url-safe base64 of 32 random bytes, as Fernet.generate_key()). */
export const newKey = () => `${randomBytes(32).toString('base64url')}=`
export const KEY = newKey()
export const OLD_KEY = newKey()
export const OTHER_KEY = newKey()
export const LARGE = JSON.stringify({ blob: 'x'.repeat(2800), note: 'großes Paket 😀' })

export const codec = createFernetCodec({ keys: [KEY] })

/** The codec with a pinned IV (the internal seam the public factory fills with CSPRNG IVs). */
export function pinned(options: FernetCodecOptions, iv: Uint8Array = new Uint8Array(16)) {
  return buildFernetCodec(options, () => iv)
}

/** A token's raw bytes. */
export const raw = (token: string) => Buffer.from(token, 'base64url')
/** Raw bytes as a token, with the padding Python writes. */
export const token = (bytes: Buffer) =>
  bytes.toString('base64url') + ['', '==', '='][bytes.length % 3]
/** Recomputes the MAC of a raw token with the signing half of `key`. */
export function resign(bytes: Buffer, key: string): Buffer {
  const signing = Buffer.from(key, 'base64url').subarray(0, 16)
  const body = bytes.subarray(0, -32)
  return Buffer.concat([body, createHmac('sha256', signing).update(body).digest()])
}

export const PY_ENCRYPT = `
import json, sys
from cryptography.fernet import Fernet
req = json.load(sys.stdin)
f = Fernet(req["key"])
out = []
for p in req["payloads"]:
    if "iv" in req:
        out.append(f._encrypt_from_parts(p.encode(), req["time"], bytes.fromhex(req["iv"])).decode())
    else:
        out.append(f.encrypt(p.encode()).decode())
print(json.dumps(out))
`

/** Python decrypts each token with MultiFernet(keys); null for InvalidToken, or the exception. */
export const PY_DECRYPT = `
import json, sys
from cryptography.fernet import Fernet, MultiFernet, InvalidToken
req = json.load(sys.stdin)
f = MultiFernet([Fernet(k) for k in req["keys"]])
out = []
for t in req["tokens"]:
    try:
        if "ttl" in req:
            data = None
            for one in f._fernets:
                try:
                    data = one.decrypt_at_time(t, req["ttl"], req["now"])
                    break
                except InvalidToken:
                    pass
            if data is None:
                raise InvalidToken
        else:
            data = f.decrypt(t)
        out.append({"payload": data.decode("utf-8")})
    except InvalidToken:
        out.append(None)
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

export function pyEncrypt(
  key: string,
  payloads: string[],
  pin?: { time: number; iv: string },
): string[] {
  return runPython<string[]>(PY_ENCRYPT, { key, payloads, ...pin })
}

export type PyResult = { payload: string } | { error: string } | null
export function pyDecrypt(keys: string[], tokens: unknown[], ttl?: { ttl: number; now: number }) {
  return runPython<PyResult[]>(PY_DECRYPT, { keys, tokens, ...ttl })
}
