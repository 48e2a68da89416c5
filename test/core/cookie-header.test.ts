/**
 * The session cookie over real HTTP, against the `cookie` package: whatever Cookie header a
 * request carries, the session read is the one `parseCookie(header)[name]` names (first of
 * duplicates, trimmed, percent-decoded, unquoted); and every Set-Cookie header is exactly the text
 * `stringifySetCookie` writes for the same cookie, whatever the cookie options.
 */
import assert from 'node:assert/strict'
import { describe, it, type TestContext } from 'node:test'
import { parseCookie, stringifySetCookie } from 'cookie'
import fc from 'fast-check'
import { withSessions } from '../../src/adapters/node.ts'
import {
  type CookieOptions,
  createServerStorage,
  createSessions,
  getSession,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { send, serve } from '../support/http.ts'

type Data = { tag?: string }

/** The cookie value as the session cookie was read before: the `cookie` package's parser. */
function reference(header: string, name: string): string | undefined {
  const value = parseCookie(header)[name]
  if (value === undefined || value === '') return undefined
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1)
    : value
}

/** `%XX` for some characters of `text` (letters and digits only, so it decodes back). */
function percentSome(text: string, every: number): string {
  return [...text]
    .map((char, i) =>
      i % every === 0 ? `%${char.charCodeAt(0).toString(16).toUpperCase()}` : char,
    )
    .join('')
}

/** A server whose sessions carry a tag: `/write?tag` creates one, `/read` answers the tag. */
async function tagged(t: TestContext) {
  const store = createMemoryStore()
  t.after(() => store.close())
  const sessions = createSessions<Data>({ storage: createServerStorage({ store }) })
  const base = await serve(
    t,
    withSessions(sessions, async (req, res) => {
      const session = await getSession<Data>(req)
      const url = new URL(req.url ?? '/', 'http://localhost')
      if (url.pathname === '/write') session.set('tag', url.search.slice(1))
      res.end(JSON.stringify(session.get('tag') ?? null))
    }),
  )
  const ids = new Map<string, string>()
  for (const tag of ['a', 'b', 'c']) {
    const result = await send(`${base}/write?${tag}`)
    const id = result.setCookies.find((cookie) => cookie.name === 'session')?.value as string
    ids.set(id, tag)
  }
  return { base, ids: [...ids.keys()], tagOf: (id: string | undefined) => ids.get(id ?? '') }
}

describe('the session cookie over HTTP, against the cookie package', () => {
  it('reads the session parseCookie names, whatever else the Cookie header holds', async (t) => {
    const { base, ids, tagOf } = await tagged(t)
    const blank = fc.constantFrom('', ' ', '  ', '\t', ' \t')
    const id = fc.constantFrom(...ids, 'unknown-id-0123456789abcdef')
    const part = fc.oneof(
      fc
        .tuple(blank, blank, id, blank)
        .map(([a, b, value, c]) => `${a}session${b}=${c}${value}${c}`),
      id.map((value) => `session="${value}"`),
      fc
        .tuple(id, fc.integer({ min: 2, max: 5 }))
        .map(([value, every]) => `session=${percentSome(value, every)}`),
      fc.constantFrom(
        'session=',
        'session',
        '=session',
        'other=1',
        'sessionx=1',
        'xsession=1',
        'session=%zz',
        'a=b=c',
        '',
        ' ',
        'session=""',
      ),
    )
    const header = fc
      .tuple(fc.array(part, { minLength: 1, maxLength: 5 }), fc.constantFrom(';', '; ', ' ;'))
      .map(([parts, separator]) => parts.join(separator))
    await fc.assert(
      fc.asyncProperty(header, async (cookie) => {
        const result = await send(`${base}/read`, { headers: { cookie } })
        const expected = tagOf(reference(cookie, 'session')) ?? null
        assert.equal(JSON.parse(result.body), expected, cookie)
      }),
      { numRuns: 300 },
    )
  })

  it('writes the Set-Cookie text stringifySetCookie writes, for any cookie options', async (t) => {
    const now = Date.UTC(2026, 0, 2, 3, 4, 5) + 678
    const options = fc.record(
      {
        path: fc.constantFrom('/', '/app', '/a-b/c'),
        domain: fc.constantFrom('example.com', '.example.com', 'a.b.example'),
        sameSite: fc.constantFrom('lax' as const, 'strict' as const, 'none' as const),
        httpOnly: fc.boolean(),
        secure: fc.boolean(),
        partitioned: fc.boolean(),
        persistent: fc.boolean(),
      },
      { requiredKeys: [] },
    )
    const idle = fc.integer({ min: 1, max: 5_000_000 })
    await fc.assert(
      fc.asyncProperty(options, idle, async (cookie: CookieOptions, idleTimeout) => {
        if (cookie.sameSite === 'none' || cookie.partitioned) cookie.secure = true
        const store = createMemoryStore()
        const sessions = createSessions<Data>({
          storage: createServerStorage({ store }),
          cookie,
          idleTimeout,
          absoluteTimeout: null,
          clock: () => now,
        })
        const base = await serve(
          t,
          withSessions(sessions, async (req, res) => {
            ;(await getSession<Data>(req)).set('tag', 'x')
            res.end()
          }),
        )
        const result = await send(`${base}/`)
        await store.close()
        assert.equal(result.rawSetCookies.length, 1)
        const header = result.rawSetCookies[0] as string
        const value = header.slice('session='.length, header.indexOf(';'))
        const persistent = cookie.persistent ?? true
        const expected = stringifySetCookie({
          name: 'session',
          value,
          path: cookie.path ?? '/',
          domain: cookie.domain,
          httpOnly: cookie.httpOnly ?? true,
          secure: cookie.secure ?? true, // NODE_ENV aside, 127.0.0.1 over plain HTTP may go either way
          sameSite: cookie.sameSite ?? 'lax',
          partitioned: cookie.partitioned || undefined,
          maxAge: persistent ? idleTimeout : undefined,
          expires: persistent ? new Date(now + idleTimeout * 1000) : undefined,
        })
        if (cookie.secure === undefined) {
          // The automatic Secure attribute: compare with whichever the manager chose.
          const withoutSecure = expected.replace('; Secure', '')
          assert.ok(header === expected || header === withoutSecure, header)
        } else assert.equal(header, expected)
      }),
      { numRuns: 60 },
    )
  })
})
