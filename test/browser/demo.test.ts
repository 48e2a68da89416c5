/**
 * The demo in a real browser: Debian's Chromium at /usr/bin/chromium driven by playwright-core.
 * Two separate browsers (each with a fresh user data dir) play two devices of one user.
 *
 * Without Chromium the test is skipped, unless SESSIONWARE_REQUIRE_SERVICES=1 (CI), where it fails.
 */
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { test } from 'node:test'
import type { BrowserContext, Page } from 'playwright-core'
import { cleanups, startDemo, TEST_KEY, tempDir } from '../demo/helpers.ts'
import { CHROMIUM, launchChromium } from '../support/chromium.ts'

/** Every wait is bounded by this. */
const WAIT_MS = 5000
const SCREENSHOT = join(tmpdir(), 'sessionware-demo-home.png')
const SESSIONS_SCREENSHOT = join(tmpdir(), 'sessionware-demo-sessions.png')

async function launch(userDataDir: string): Promise<BrowserContext> {
  return launchChromium(userDataDir, WAIT_MS, { width: 1024, height: 720 })
}

async function logIn(page: Page, base: string, name: string): Promise<void> {
  await page.goto(`${base}/login`)
  await page.fill('#username', name)
  await Promise.all([page.waitForURL(`${base}/`), page.click('button[type=submit].primary')])
}

async function visits(page: Page): Promise<number> {
  return Number(await page.textContent('#visits'))
}

test('the demo in Chromium: login, flash, counter, cookie flags, revoking a device, logout', {
  timeout: 120_000,
}, async (t) => {
  if (!existsSync(CHROMIUM)) {
    if (process.env.SESSIONWARE_REQUIRE_SERVICES === '1') {
      assert.fail(`chromium not found at ${CHROMIUM} (SESSIONWARE_REQUIRE_SERVICES=1)`)
    }
    console.warn(`SKIPPED: chromium not found at ${CHROMIUM}; the browser test did not run`)
    t.skip('chromium not found at /usr/bin/chromium')
    return
  }
  const defer = cleanups(t)
  const { dir, remove } = await tempDir()
  defer(remove)
  const running = await startDemo({
    SESSION_STORE: 'sqlite',
    SQLITE_PATH: join(dir, 'data', 'sessions.db'),
    SESSION_KEYS: TEST_KEY,
  })
  defer(() => running.app.close())
  const base = running.url

  const laptop = await launch(join(dir, 'laptop-profile'))
  defer(() => laptop.close())
  const page = laptop.pages()[0] ?? (await laptop.newPage())

  // Logged out, the nav offers "Log in".
  await page.goto(`${base}/`)
  assert.equal(await page.isVisible('nav a[href="/login"]'), true)
  assert.equal(await visits(page), 1)

  await logIn(page, base, 'Alice <3')
  assert.equal(await page.textContent('.flash'), 'Welcome, Alice <3')
  assert.match((await page.textContent('main')) ?? '', /logged in as Alice <3/)
  const afterLogin = await visits(page)
  await page.screenshot({ path: SCREENSHOT, fullPage: true })

  await page.reload()
  assert.equal(await page.isVisible('.flash'), false, 'the flash is shown once')
  assert.equal(await visits(page), afterLogin + 1)
  await page.reload()
  assert.equal(await visits(page), afterLogin + 2)

  const cookies = await laptop.cookies(base)
  const session = cookies.find((cookie) => cookie.name === 'session')
  assert.ok(session, 'the session cookie is set')
  assert.equal(session.httpOnly, true)
  assert.equal(session.sameSite, 'Lax')
  assert.equal(session.path, '/')
  assert.equal(await page.evaluate(() => document.cookie), '', 'scripts cannot read it')

  // A second device logs in as the same user.
  const phone = await launch(join(dir, 'phone-profile'))
  defer(() => phone.close())
  const phonePage = phone.pages()[0] ?? (await phone.newPage())
  await logIn(phonePage, base, 'Alice <3')
  assert.equal(await phonePage.textContent('.flash'), 'Welcome, Alice <3')

  // The laptop sees both sessions and revokes the phone's.
  await page.click('nav a[href="/sessions"]')
  await page.waitForURL(`${base}/sessions`)
  assert.equal(await page.locator('tbody tr').count(), 2)
  assert.equal(await page.locator('tbody tr.current').count(), 1)
  await page.screenshot({ path: SESSIONS_SCREENSHOT, fullPage: true })
  await Promise.all([
    page.waitForURL(`${base}/sessions`),
    page.click('tbody tr:not(.current) button'),
  ])
  assert.equal(await page.textContent('.flash'), 'Signed out that session.')
  assert.equal(await page.locator('tbody tr').count(), 1)

  await phonePage.reload()
  assert.match((await phonePage.textContent('main')) ?? '', /You are not logged in/)
  assert.equal(await phonePage.isVisible('nav a[href="/login"]'), true)

  // Logging out on the laptop.
  await Promise.all([page.waitForURL(`${base}/`), page.click('nav button:has-text("Log out")')])
  assert.match((await page.textContent('main')) ?? '', /You are not logged in/)
  const left = (await laptop.cookies(base)).filter((cookie) => cookie.name === 'session')
  // The home page counts visits again, in a new anonymous session.
  assert.equal(left.length, 1)
  assert.notEqual(left[0]?.value, session.value)
})
