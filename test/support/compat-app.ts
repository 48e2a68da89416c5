/**
 * The Node side of the compatibility tests: a node:http app with sessionware under a preset's
 * options, and the data every direction of every format carries. Not part of the package.
 *
 * @module
 */
import assert from 'node:assert/strict'
import type { TestContext } from 'node:test'
import { readBody } from '../../examples/demo/http.ts'
import { withSessions } from '../../src/adapters/node.ts'
import { createSessions, getSession, type SessionOptions } from '../../src/index.ts'
import { type HttpResult, send, serve } from './http.ts'

/**
 * Data with non-ASCII text and emoji, nested objects, floats, null, and strings holding `;`, `,`
 * and `"` (and a backslash), as the issue asks for every format in both directions.
 */
export const COMPAT_DATA: Readonly<Record<string, unknown>> = Object.freeze({
  user: 'alice',
  text: 'héllo wörld ß',
  emoji: '😀🎉',
  nested: { a: { b: [1, 2, { c: null }] }, list: ['x', 'y'] },
  float: 1.5,
  small: 0.000125,
  tricky: 'a;b,c"d\\e',
  n: 42,
  yes: true,
})

/** What the app's `/get` answers. */
export interface CompatView {
  isNew: boolean
  data: Record<string, unknown>
}

/**
 * Serves the compatibility app with `options`:
 * - `POST /put` merges the JSON body into the session (`null` deletes a key), answers the view;
 * - `GET /get` answers the view;
 * - `GET /flash-set` sets flash `notice`; `GET /flash-get` answers `{ notice }`;
 * - `GET /invalidate` invalidates.
 * Resolves to the base URL.
 */
export async function serveCompat(t: TestContext, options: SessionOptions): Promise<string> {
  const sessions = createSessions(options)
  return serve(
    t,
    withSessions(sessions, async (req, res) => {
      const session = await getSession(req)
      let body: unknown = { isNew: session.isNew, data: session.toJSON() }
      if (req.url === '/put') {
        for (const [key, value] of Object.entries(JSON.parse(await readBody(req)))) {
          if (value === null) session.delete(key)
          else session.set(key, value)
        }
        body = { isNew: session.isNew, data: session.toJSON() }
      } else if (req.url === '/flash-set') session.flash('notice', 'saved ✓')
      else if (req.url === '/flash-get') body = { notice: session.getFlash('notice') ?? null }
      else if (req.url === '/invalidate') session.invalidate()
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(body))
    }),
  )
}

/** The raw value of cookie `name` in a result's Set-Cookie headers, exactly as sent. */
export function rawCookie(result: HttpResult, name: string): string {
  for (const header of result.rawSetCookies) {
    const pair = header.split(';')[0] as string
    if (pair.startsWith(`${name}=`)) return pair.slice(name.length + 1)
  }
  assert.fail(`no Set-Cookie for ${name} in ${JSON.stringify(result.rawSetCookies)}`)
}

/** Stores `data` through `/put`; resolves to the raw cookie value the app set. */
export async function nodeWrites(base: string, name: string, data: object): Promise<string> {
  const result = await send(`${base}/put`, { method: 'POST', body: JSON.stringify(data) })
  assert.equal(result.status, 200, result.body)
  return rawCookie(result, name)
}

/** What `/get` answers for a Cookie header of `name=value`. */
export async function nodeReads(base: string, name: string, value: string): Promise<CompatView> {
  const result = await send(`${base}/get`, { headers: { cookie: `${name}=${value}` } })
  assert.equal(result.status, 200, result.body)
  return JSON.parse(result.body) as CompatView
}

/** Changes one character in the middle of `value` (a tampered cookie). */
export function tamper(value: string): string {
  const at = Math.floor(value.length / 2)
  const char = value[at] === 'A' ? 'B' : 'A'
  return value.slice(0, at) + char + value.slice(at + 1)
}
