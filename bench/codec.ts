/**
 * Codec micro-benchmark: the sealed codec's encode + decode round trip on each XChaCha20-Poly1305
 * back end (libsodium, node:crypto, pure JS) and in its AES-256-GCM format, the latter against a
 * bare node:crypto AES-256-GCM encrypt + decrypt of the same payload, the signed codec against a bare
 * HMAC-SHA256 sign + verify, and the Python seeds' codecs (fernet, nacl on libsodium and on the
 * pure-JS backend, jwt, itsdangerous) side by side with sealed. Runs are interleaved (every case once per round, in rotating order)
 * and bounded in time (about 5 seconds in all); each case's score is its median over the rounds.
 *
 * Run: `node --import tsx bench/codec.ts`.
 *
 * @module
 */

import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto'
import { createFernetCodec } from '../src/codecs/fernet.ts'
import { createItsdangerousCodec } from '../src/codecs/itsdangerous.ts'
import { createJwtCodec } from '../src/codecs/jwt.ts'
import { createNaclCodec } from '../src/codecs/nacl.ts'
import { createSealedCodec } from '../src/codecs/sealed.ts'
import { createSignedCodec } from '../src/codecs/signed.ts'
import { overStandardBase64 } from '../src/compat/base64-layer.ts'
import type { CookieCodec } from '../src/index.ts'

/** Milliseconds each case runs per round. */
const SLICE_MS = 100
/** Rounds per case (after one warm-up round). */
const ROUNDS = 9
/** Calls between two clock reads. */
const BATCH = 50

const PAYLOAD = JSON.stringify({
  user: { id: 'u_01J9Z8Q4W6X2', name: 'Zoë Ann Example', email: 'zoe@example.com' },
  roles: ['admin', 'editor'],
  csrf: 'p9Tq1vX8mN3kR7sL2wY6bH4c',
  cart: [
    { sku: 'A-1001', qty: 2 },
    { sku: 'B-2002', qty: 1 },
  ],
  visits: 42,
  theme: 'dark',
  createdAt: 1_760_000_000_000,
  lastActiveAt: 1_760_000_360_000,
  flash: { notice: 'Saved.' },
})

const KEY = randomBytes(32).toString('base64url')
const sealed = createSealedCodec({ keys: [KEY], cipher: 'aes-256-gcm' })
const sealedSodium = createSealedCodec({ keys: [KEY], backend: 'sodium' })
const sealedNode = createSealedCodec({ keys: [KEY], backend: 'node' })
const sealedJs = createSealedCodec({ keys: [KEY], backend: 'js' })
const signed = createSignedCodec({ keys: [KEY] })
const aesKey = randomBytes(32)
const hmacKey = randomBytes(32)

const fernet = createFernetCodec({ keys: [`${randomBytes(32).toString('base64url')}=`] })
const naclKey = randomBytes(32).toString('hex')
const naclSodium = createNaclCodec({ keys: [naclKey], backend: 'sodium' })
const naclJs = createNaclCodec({ keys: [naclKey], backend: 'js' })
const jwt = createJwtCodec({ keys: [KEY] })
// As Starlette and starsessions use it: over the standard base64 of the JSON.
const itsdangerous = overStandardBase64(createItsdangerousCodec({ keys: [KEY] }))

let sink = 0

/** A codec's encode + decode round trip of the payload. */
function roundTrip(codec: CookieCodec): () => void {
  return () => {
    sink += codec.decode(codec.encode(PAYLOAD)).payload.length
  }
}

/** Bare AES-256-GCM: fresh random IV, encrypt, decrypt, nothing else. */
function bareAesGcm(): void {
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv)
  const body = Buffer.concat([cipher.update(PAYLOAD, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  const decipher = createDecipheriv('aes-256-gcm', aesKey, iv)
  decipher.setAuthTag(tag)
  const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  sink += plain.length
}

let ivPool = Buffer.alloc(0)
let ivOffset = 0

/**
 * Bare AES-256-GCM with IVs cut from a pool of random bytes, as the sealed codec does: the
 * difference to the sealed codec is then only its framing (key id, AAD, base64url, parsing).
 */
function bareAesGcmPooledIv(): void {
  if (ivOffset + 12 > ivPool.length) {
    ivPool = randomBytes(12 * 512)
    ivOffset = 0
  }
  const iv = ivPool.subarray(ivOffset, ivOffset + 12)
  ivOffset += 12
  const cipher = createCipheriv('aes-256-gcm', aesKey, iv)
  const body = Buffer.concat([cipher.update(PAYLOAD, 'utf8'), cipher.final()])
  const tag = cipher.getAuthTag()
  const decipher = createDecipheriv('aes-256-gcm', aesKey, iv)
  decipher.setAuthTag(tag)
  const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8')
  sink += plain.length
}

/** Bare HMAC-SHA256: sign, then verify by recomputing and comparing in constant time. */
function bareHmac(): void {
  const mac = createHmac('sha256', hmacKey).update(PAYLOAD).digest()
  const again = createHmac('sha256', hmacKey).update(PAYLOAD).digest()
  if (timingSafeEqual(mac, again)) sink += mac.length
}

function sealedRoundTrip(): void {
  sink += sealed.decode(sealed.encode(PAYLOAD)).payload.length
}

function signedRoundTrip(): void {
  sink += signed.decode(signed.encode(PAYLOAD)).payload.length
}

const cases: Record<string, () => void> = {
  'sealed (XChaCha, libsodium)': roundTrip(sealedSodium),
  'sealed (XChaCha, node:crypto)': roundTrip(sealedNode),
  'sealed (XChaCha, pure JS)': roundTrip(sealedJs),
  'sealed codec round trip': sealedRoundTrip,
  'bare AES-256-GCM round trip': bareAesGcm,
  'bare AES-256-GCM, pooled IVs': bareAesGcmPooledIv,
  'signed codec round trip': signedRoundTrip,
  'bare HMAC-SHA256 sign+verify': bareHmac,
  'fernet codec round trip': roundTrip(fernet),
  'nacl codec (libsodium)': roundTrip(naclSodium),
  'nacl codec (pure JS)': roundTrip(naclJs),
  'jwt codec round trip': roundTrip(jwt),
  'itsdangerous codec round trip': roundTrip(itsdangerous),
}

/** Operations per second of `run` over one slice of SLICE_MS. */
function measure(run: () => void): number {
  const start = performance.now()
  let calls = 0
  let elapsed = 0
  do {
    for (let i = 0; i < BATCH; i++) run()
    calls += BATCH
    elapsed = performance.now() - start
  } while (elapsed < SLICE_MS)
  return (calls * 1000) / elapsed
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)] ?? 0
}

function main(): void {
  const names = Object.keys(cases)
  const samples = new Map<string, number[]>(names.map((name) => [name, []]))
  for (const name of names) measure(cases[name] as () => void) // warm-up round
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < names.length; i++) {
      const name = names[(round + i) % names.length] as string
      samples.get(name)?.push(measure(cases[name] as () => void))
    }
  }
  const score = (name: string): number => median(samples.get(name) ?? [])
  console.log(`payload: ${Buffer.byteLength(PAYLOAD)} bytes of JSON, node ${process.version}`)
  for (const name of names) {
    console.log(
      `${name.padEnd(30)} ${Math.round(score(name)).toLocaleString('en').padStart(10)} ops/s`,
    )
  }
  for (const name of [
    'sealed (XChaCha, libsodium)',
    'sealed (XChaCha, node:crypto)',
    'sealed (XChaCha, pure JS)',
  ]) {
    const ratio = score('sealed codec round trip') / score(name)
    console.log(`${name} / sealed (AES-256-GCM format): ${ratio.toFixed(2)}x the time`)
  }
  console.log('(below, "sealed" is the AES-256-GCM format: cipher: \'aes-256-gcm\')')
  const sealedRatio = score('bare AES-256-GCM round trip') / score('sealed codec round trip')
  const framing = score('bare AES-256-GCM, pooled IVs') / score('sealed codec round trip')
  const signedRatio = score('bare HMAC-SHA256 sign+verify') / score('signed codec round trip')
  const verdict = sealedRatio <= 1.2 ? 'met' : 'MISSED'
  console.log(
    `sealed / bare AES-256-GCM: ${sealedRatio.toFixed(2)}x the time (<= 1.20x: ${verdict})`,
  )
  console.log(`sealed / bare AES-256-GCM with the same pooled IVs: ${framing.toFixed(2)}x the time`)
  console.log(`signed / bare HMAC-SHA256: ${signedRatio.toFixed(2)}x the time`)
  const vsSealed = (name: string): number => score('sealed codec round trip') / score(name)
  const fernetRatio = vsSealed('fernet codec round trip')
  const naclRatio = vsSealed('nacl codec (libsodium)')
  console.log(
    `fernet / sealed: ${fernetRatio.toFixed(2)}x the time (<= 1.40x: ${fernetRatio <= 1.4 ? 'met' : 'MISSED'})`,
  )
  console.log(
    `nacl (libsodium) / sealed: ${naclRatio.toFixed(2)}x the time (< 1.00x: ${naclRatio < 1 ? 'met' : 'MISSED'})`,
  )
  for (const name of [
    'nacl codec (pure JS)',
    'jwt codec round trip',
    'itsdangerous codec round trip',
  ]) {
    console.log(
      `${name.replace(/ (codec )?round trip/, '')} / sealed: ${vsSealed(name).toFixed(2)}x the time`,
    )
  }
  if (sink === 0) console.log('(no work done?)')
}

main()
