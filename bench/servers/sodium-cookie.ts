/**
 * The encrypted cookie's ceiling: bare node:http doing the work that reading or writing any
 * encrypted session cookie has to do, with libsodium's XChaCha20-Poly1305 (the primitive of
 * sessionware's sealed codec) and no session library around it:
 *
 * - `/none`: nothing (`{"n":0}`);
 * - `/read`: finds `session=` in the Cookie header, decodes its value from base64url, opens one
 *   sealed payload and parses it as JSON, sets `Vary: Cookie`, `{"n":1}`;
 * - `/write`: the same read, then the counter incremented, the payload serialized, sealed with a
 *   fresh nonce, encoded to base64url and sent in a `Set-Cookie` with fixed attributes, `{"n":2}`.
 *
 * The benchmark gives bare servers random cookies of a sealed cookie's size, which no key opens,
 * so the payload opened is one the server sealed at start (shaped like a sessionware payload:
 * times, data): the same bytes every request, which libsodium, base64 and JSON do not cache. Its
 * ratio to bare node:http is the most an encrypted cookie can reach on this machine, and a
 * sealed-cookie server's ratio over it is what the session library itself costs. The same work
 * on bare Fastify (`fastify-sodium-cookie`, bench/servers/fastify.ts) is the ceiling of an
 * encrypted cookie on Fastify.
 *
 * `node-sodium-cookie-api` (an extra target) does the same work behind the least any library with
 * sessionware's API adds (bench/servers/lazy-api.ts), with the idle deadline checked against the
 * clock: the most a lazy, promise-based session API can reach with an encrypted cookie here.
 *
 * @module
 */

import { createRequire } from 'node:module'
import { FOURTEEN_DAYS_S, type Listening, listenNode, notFound, send } from './common.ts'
import { type LazyWork, lazyApi } from './lazy-api.ts'

interface Sodium {
  crypto_aead_xchacha20poly1305_ietf_encrypt(
    out: Buffer,
    message: Buffer,
    ad: Buffer | null,
    nsec: null,
    nonce: Buffer,
    key: Buffer,
  ): number
  crypto_aead_xchacha20poly1305_ietf_decrypt(
    out: Buffer,
    nsec: null,
    box: Buffer,
    ad: Buffer | null,
    nonce: Buffer,
    key: Buffer,
  ): number
  randombytes_buf(out: Buffer): void
}

const NONCE = 24
const TAG = 16
const ATTRIBUTES = `; Max-Age=${FOURTEEN_DAYS_S}; Path=/; HttpOnly; SameSite=Lax`

/** What the sealed payload holds: created and last active (seconds), the data. */
export interface OpenedCookie {
  c: number
  a: number
  d: { n: number }
}

/** The ceiling's work on one request's Cookie header. */
export interface SodiumCookie {
  /** Opens the session: its counter (`Vary: Cookie` is the caller's to set). */
  read(cookie: string | undefined): number
  /** Opens the session: its times (seconds) and data. */
  open(cookie: string | undefined): OpenedCookie
  /** Seals a session: the `Set-Cookie` header's value. */
  cookie(session: OpenedCookie): string
  /** Opens, increments and seals the session: the `Set-Cookie` header's value. */
  write(cookie: string | undefined): string
}

/** `/write`'s change: the counter plus one, the last-active time now. */
function bump(session: OpenedCookie): void {
  session.a = Math.floor(Date.now() / 1000)
  session.d = { n: session.d.n + 1 }
}

/** A fresh key and the payload sealed with it. */
export function sodiumCookie(): SodiumCookie {
  const sodium = createRequire(import.meta.url)('sodium-native') as Sodium
  const key = Buffer.alloc(32)
  sodium.randombytes_buf(key)
  const seal = (text: string): Buffer => {
    const message = Buffer.from(text, 'utf8')
    const sealed = Buffer.allocUnsafe(NONCE + message.length + TAG)
    const nonce = sealed.subarray(0, NONCE)
    sodium.randombytes_buf(nonce)
    sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
      sealed.subarray(NONCE),
      message,
      null,
      null,
      nonce,
      key,
    )
    return sealed
  }
  const now = Math.floor(Date.now() / 1000)
  const sealed = seal(JSON.stringify({ c: now, a: now, d: { n: 1 } }))
  const open = (cookie: string | undefined): OpenedCookie => {
    // The request's own value is found and decoded; the payload opened is the server's own.
    const at = cookie === undefined ? -1 : cookie.indexOf('session=')
    if (at < 0) throw new Error('no session cookie')
    const end = (cookie as string).indexOf(';', at)
    const value = (cookie as string).slice(at + 8, end < 0 ? undefined : end)
    if (Buffer.from(value, 'base64url').length < NONCE + TAG) throw new Error('short cookie')
    const plain = Buffer.allocUnsafe(sealed.length - NONCE - TAG)
    const ok = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      plain,
      null,
      sealed.subarray(NONCE),
      null,
      sealed.subarray(0, NONCE),
      key,
    )
    if (ok !== plain.length) throw new Error('tampered')
    return JSON.parse(plain.toString('utf8'))
  }
  const cookie = (session: OpenedCookie): string =>
    `session=${seal(JSON.stringify(session)).toString('base64url')}${ATTRIBUTES}`
  return {
    read: (value) => open(value).d.n,
    open,
    cookie,
    write(value) {
      const session = open(value)
      bump(session)
      return cookie(session)
    },
  }
}

/** The ceiling's work behind the least a lazy, promise-based session API adds (lazy-api.ts). */
function sodiumWork(work: SodiumCookie): LazyWork<OpenedCookie> {
  return {
    open(cookie) {
      const session = work.open(cookie)
      // The idle deadline, as every session checks it (an expired one would start afresh).
      if (session.a + FOURTEEN_DAYS_S < Date.now() / 1000) session.d = { n: 0 }
      return session
    },
    read: (session) => session.d.n,
    write: bump,
    cookie: work.cookie,
  }
}

/** Starts the node:http ceiling server (`api`: behind the least a lazy session API adds). */
export function startSodiumCookie(api = false): Promise<Listening> {
  const work = sodiumCookie()
  if (api) return listenNode(lazyApi(sodiumWork(work)))
  return listenNode((req, res) => {
    switch (req.url) {
      case '/none':
        return send(res, 0)
      case '/read': {
        const n = work.read(req.headers.cookie)
        res.setHeader('vary', 'Cookie')
        return send(res, n)
      }
      case '/write': {
        const setCookie = work.write(req.headers.cookie)
        res.setHeader('vary', 'Cookie')
        res.setHeader('set-cookie', setCookie)
        return send(res, 2)
      }
      default:
        return notFound(res)
    }
  })
}
