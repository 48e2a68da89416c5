/**
 * The demo's "your sessions" page over real HTTP on the memory store: each session shows its
 * browser and system (from the User-Agent) and its last address next to its times; a hostile
 * User-Agent is escaped; the address changes only with a write the session gets anyway. Clients
 * connect from 127.0.0.1 or 127.0.0.2 to vary the address.
 */
import assert from 'node:assert/strict'
import { request as httpRequest } from 'node:http'
import { type TestContext, test } from 'node:test'
import type { SessionRecord } from '../../src/index.ts'
import { cleanups, parseSetCookie, type Running, startDemo, TEST_KEY, tempDir } from './helpers.ts'

const FIREFOX_LINUX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0'
const SAFARI_IOS =
  'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1'
const HOSTILE = `<script>alert(1)</script>" onmouseover="alert(2)`

async function demo(t: TestContext, env: Record<string, string> = {}): Promise<Running> {
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const running = await startDemo({
    SESSION_STORE: 'memory',
    SQLITE_PATH: `${dir}/sessions.db`,
    SESSION_KEYS: TEST_KEY,
    ...env,
  })
  defer(() => running.app.close())
  return running
}

/** A browser with a User-Agent and a cookie jar, connecting from a loopback address it can change. */
class Browser {
  readonly base: string
  readonly userAgent: string
  readonly jar = new Map<string, string>()
  from = '127.0.0.1'

  constructor(base: string, userAgent: string) {
    this.base = base
    this.userAgent = userAgent
  }

  /** One request (no redirects followed); answers the status and the body. */
  request(path: string, form?: Record<string, string>): Promise<{ status: number; body: string }> {
    const headers: Record<string, string> = { 'user-agent': this.userAgent }
    if (this.jar.size > 0) {
      headers.cookie = [...this.jar].map(([name, value]) => `${name}=${value}`).join('; ')
    }
    const body = form === undefined ? undefined : new URLSearchParams(form).toString()
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded'
      headers.origin = this.base
    }
    const method = body === undefined ? 'GET' : 'POST'
    return new Promise((resolve, reject) => {
      const options = { method, headers, localAddress: this.from, agent: false }
      const req = httpRequest(this.base + path, options, (res) => {
        const chunks: Buffer[] = []
        res.on('data', (chunk: Buffer) => chunks.push(chunk))
        res.on('error', reject)
        res.on('end', () => {
          for (const header of res.headers['set-cookie'] ?? []) {
            const cookie = parseSetCookie(header)
            if (cookie.expired) this.jar.delete(cookie.name)
            else this.jar.set(cookie.name, cookie.value)
          }
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') })
        })
      })
      req.setTimeout(5000, () => req.destroy(new Error(`no response from ${path}`)))
      req.on('error', reject)
      req.end(body)
    })
  }

  /** Logs in as `name`, then opens the home page (which reads the welcome flash). */
  async login(name: string): Promise<void> {
    assert.equal((await this.request('/login', { username: name })).status, 303)
    assert.equal((await this.request('/')).status, 200)
  }

  /** The "your sessions" page. */
  async sessionsPage(): Promise<string> {
    const page = await this.request('/sessions')
    assert.equal(page.status, 200)
    return page.body
  }
}

/** The rows of the sessions table, as text without tags, in page order. */
function rows(page: string): string[] {
  const body = page.slice(page.indexOf('<tbody>'), page.indexOf('</tbody>'))
  return [...body.matchAll(/<tr[^>]*>([\s\S]*?)<\/tr>/g)].map((row) =>
    (row[1] ?? '')
      .replace(/<[^>]+>/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
  )
}

/** The stored record of `name`'s sessions, newest activity first. */
async function records(running: Running, name: string): Promise<SessionRecord[]> {
  const store = running.app.sessions.options.storage.store
  assert.ok(store?.listBySubject)
  return store.listBySubject(name)
}

test('demo: "your sessions" shows each session\'s browser, system and last address next to its times', async (t) => {
  const running = await demo(t)
  const laptop = new Browser(running.url, FIREFOX_LINUX)
  const phone = new Browser(running.url, SAFARI_IOS)
  phone.from = '127.0.0.2'
  await laptop.login('ada')
  await phone.login('ada')

  const page = await laptop.sessionsPage()
  assert.match(page, /<th>Device<\/th><th>Created<\/th><th>Last active<\/th>/)
  const [mine, other, ...rest] = rows(page)
  assert.equal(rest.length, 0)
  assert.match(
    mine ?? '',
    /^Firefox on Linux 127\.0\.0\.1 \d{4}-\d\d-\d\d .* UTC .* UTC This session$/,
  )
  assert.match(other ?? '', /^Safari on iOS 127\.0\.0\.2 .* UTC .* UTC Revoke$/)
  // The full User-Agent is in a tooltip.
  assert.ok(page.includes(`title="${FIREFOX_LINUX}"`))
})

test('demo: the address changes with the next write, not with a read', async (t) => {
  const running = await demo(t)
  const laptop = new Browser(running.url, FIREFOX_LINUX)
  await laptop.login('ada')
  const [before] = await records(running, 'ada')
  assert.equal(before?.fields.a, '127.0.0.1')
  assert.equal(before?.fields.u, FIREFOX_LINUX)

  // Reads from elsewhere inside the touch window (7 days by default): nothing is written.
  laptop.from = '127.0.0.2'
  assert.match(rows(await laptop.sessionsPage())[0] ?? '', /^Firefox on Linux 127\.0\.0\.1 /)
  assert.equal((await laptop.request('/api/session')).status, 200)
  assert.deepEqual(await records(running, 'ada'), [before])

  // The home page counts a visit: a write, which records the new address with it.
  await laptop.request('/')
  const [after] = await records(running, 'ada')
  assert.equal(after?.fields.a, '127.0.0.2')
  assert.equal(after?.version, (before?.version ?? 0) + 1, 'one write: the visit')
  assert.match(rows(await laptop.sessionsPage())[0] ?? '', /^Firefox on Linux 127\.0\.0\.2 /)
})

test('demo: a hostile User-Agent is shown as text, never as markup', async (t) => {
  const running = await demo(t)
  const mallory = new Browser(running.url, HOSTILE)
  await mallory.login('ada')
  const laptop = new Browser(running.url, FIREFOX_LINUX)
  await laptop.login('ada')
  const html = await laptop.sessionsPage()
  assert.equal(html.includes('<script'), false)
  assert.equal(html.includes('" onmouseover'), false)
  assert.ok(
    html.includes('title="&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)"'),
  )
  assert.ok(rows(html).some((row) => row.startsWith('Unknown browser 127.0.0.1 ')))
})

test('demo: a 10 KB User-Agent is kept as its first 512 characters', async (t) => {
  const running = await demo(t)
  const long = `Mozilla/5.0 (Windows NT 10.0) Chrome/126.0 ${'x'.repeat(10 * 1024)}`
  const browser = new Browser(running.url, long)
  await browser.login('ada')
  const html = await browser.sessionsPage()
  assert.ok(html.includes(`title="${long.slice(0, 512)}"`))
  assert.match(rows(html)[0] ?? '', /^Chrome on Windows 127\.0\.0\.1 /)
})

test('demo: with cookie storage nothing is recorded and the page explains why there is no list', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie' })
  const browser = new Browser(running.url, FIREFOX_LINUX)
  await browser.login('ada')
  const html = await browser.sessionsPage()
  assert.match(html, /cookie storage/)
  assert.equal(html.includes('Firefox'), false)
  assert.equal(running.app.sessions.options.storage.store, undefined)
})
