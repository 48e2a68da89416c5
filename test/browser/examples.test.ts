/**
 * Every framework example used from a real browser (Debian's Chromium, driven by playwright-core):
 * the page's own `fetch` writes, reads, regenerates and ends its session through the JSON API, the
 * browser keeping the cookie the example set, and (all but fetch) a browser WebSocket to
 * `/api/ws` carries that cookie and greets with the same session.
 *
 * Without Chromium the test is skipped, unless SESSIONWARE_REQUIRE_SERVICES=1 (CI), where it fails.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import type { BrowserContext } from 'playwright-core'
import { CHROMIUM, launchChromium } from '../support/chromium.ts'
import { EXAMPLES, startExample } from '../support/examples.ts'

const WAIT_MS = 5000

interface Seen {
  written: unknown
  read: unknown
  renewed: unknown
  greeting: unknown
  ended: unknown
  after: unknown
  cookieVisible: boolean
}

/**
 * Runs in the page (as text: the test's own compiled functions carry helpers the page lacks): the
 * JSON API through the browser's own fetch and WebSocket.
 */
const PAGE_SCRIPT = `async (websocket) => {
  const api = async (method, path, body) => {
    const response = await fetch(path, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    return response.json()
  }
  const written = await api('PATCH', '/api/session', { user: 'ann', note: 'héllo' })
  const read = await api('GET', '/api/session')
  const renewed = await api('POST', '/api/session/regenerate')
  let greeting = null
  if (websocket) {
    greeting = await new Promise((resolve, reject) => {
      const ws = new WebSocket(location.origin.replace('http', 'ws') + '/api/ws')
      ws.onmessage = (event) => {
        resolve(JSON.parse(String(event.data)))
        ws.close()
      }
      ws.onerror = () => reject(new Error('WebSocket failed'))
    })
  }
  const ended = await api('DELETE', '/api/session')
  const after = await api('GET', '/api/session')
  return { written, read, renewed, greeting, ended, after, cookieVisible: document.cookie !== '' }
}`

describe('framework examples in Chromium', () => {
  it('each example keeps a session for the browser through its JSON API and WebSocket', {
    timeout: 240_000,
  }, async (t) => {
    if (!existsSync(CHROMIUM)) {
      if (process.env.SESSIONWARE_REQUIRE_SERVICES === '1') {
        assert.fail(`chromium not found at ${CHROMIUM} (SESSIONWARE_REQUIRE_SERVICES=1)`)
      }
      t.skip('chromium not found at /usr/bin/chromium')
      return
    }
    const profile = await mkdtemp(join(tmpdir(), 'sessionware-examples-'))
    const browser: BrowserContext = await launchChromium(profile, WAIT_MS)
    t.after(async () => {
      await browser.close()
      await rm(profile, { recursive: true, force: true })
    })
    for (const name of EXAMPLES) {
      await t.test(name, async (t) => {
        const base = await startExample(t, name, { SESSION_STORE: 'memory' })
        const page = await browser.newPage()
        t.after(() => page.close())
        await page.goto(`${base}/api/none`)
        const seen = (await page.evaluate(`(${PAGE_SCRIPT})(${name !== 'fetch'})`)) as Seen
        const data = { user: 'ann', note: 'héllo' }
        assert.deepEqual((seen.written as { data: unknown }).data, data)
        assert.equal(
          (seen.read as { isNew: boolean }).isNew,
          false,
          'the browser sent the cookie back',
        )
        assert.deepEqual((seen.read as { data: unknown }).data, data)
        assert.deepEqual((seen.renewed as { data: unknown }).data, data)
        if (name !== 'fetch')
          assert.deepEqual(seen.greeting, seen.renewed, 'the WebSocket carried the cookie')
        assert.deepEqual(seen.ended, { id: null, isNew: true, data: {} })
        assert.equal((seen.after as { isNew: boolean }).isNew, true)
        assert.equal(seen.cookieVisible, false, 'the session cookie is HttpOnly')
      })
    }
  })
})
