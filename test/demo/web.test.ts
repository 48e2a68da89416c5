/**
 * The demo's HTML flow over real HTTP: login with a flash, the visit counter, logout, validated
 * and escaped names, cross-site POSTs refused, and "your sessions" (revoking one, signing out
 * everywhere else, and what cookie storage says instead).
 */
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { demo } from './demo-fixture.ts'
import { Client } from './helpers.ts'

function visits(html: string): number {
  return Number(html.match(/id="visits">(\d+)</)?.[1])
}

test('HTML: login with a flash shown once, a growing counter, logout', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const browser = new Client(running.url)

  const anonymous = await browser.fetch('/')
  const home = await anonymous.text()
  assert.equal(anonymous.status, 200)
  assert.match(anonymous.headers.get('content-type') ?? '', /^text\/html/)
  assert.match(home, /You are not logged in/)
  assert.equal(visits(home), 1)
  const planted = browser.jar.get('session')

  assert.match(
    await (await browser.fetch('/login')).text(),
    /<form method="post" action="\/login">/,
  )
  const login = await browser.form('/login', { username: 'alice' })
  assert.equal(login.status, 303)
  assert.equal(login.headers.get('location'), '/')
  assert.notEqual(browser.jar.get('session'), planted, 'login starts a new session id')

  const welcome = await (await browser.fetch('/')).text()
  assert.match(welcome, /Welcome, alice/)
  assert.match(welcome, /logged in as <strong>alice<\/strong>/)
  assert.equal(visits(welcome), 1)
  const next = await (await browser.fetch('/')).text()
  assert.doesNotMatch(next, /Welcome, alice/)
  assert.equal(visits(next), 2)
  assert.equal(visits(await (await browser.fetch('/')).text()), 3)

  const logout = await browser.form('/logout', {})
  assert.equal(logout.status, 303)
  assert.equal(logout.headers.get('location'), '/')
  assert.equal(browser.jar.size, 0)
  const after = await (await browser.fetch('/')).text()
  assert.match(after, /You are not logged in/)
  assert.match(after, /href="\/login">Log in</)
})

test('HTML: names are validated and escaped', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'memory' })
  const browser = new Client(running.url)
  for (const username of ['', '   ', 'x'.repeat(65)]) {
    const response = await browser.form('/login', { username })
    assert.equal(response.status, 400)
    assert.match(await response.text(), /1 to 64 characters/)
  }
  assert.equal((await browser.form('/login', { username: 'é'.repeat(64) })).status, 303)
  const evil = '<script>alert("x")</script>'
  assert.equal((await browser.form('/login', { username: evil })).status, 303)
  const html = await (await browser.fetch('/')).text()
  assert.ok(!html.includes(evil))
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;'))
})

test('HTML: cross-site POSTs are rejected with 403', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const browser = new Client(running.url)
  for (const origin of ['http://evil.example', 'null', `http://127.0.0.1:1`]) {
    const response = await browser.form('/login', { username: 'mallory' }, origin)
    assert.equal(response.status, 403, origin)
    assert.deepEqual(response.headers.getSetCookie(), [])
  }
  const api = await browser.fetch('/api/session/regenerate', {
    method: 'POST',
    headers: { origin: 'http://evil.example' },
  })
  assert.equal(api.status, 403)
  // No Origin header (curl, old clients) or the same origin: accepted.
  assert.equal((await browser.form('/login', { username: 'alice' })).status, 303)
  const plain = await browser.fetch('/logout', { method: 'POST' })
  assert.equal(plain.status, 303)
})

test('HTML: your sessions, revoking one, signing out everywhere else', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'sqlite' })
  const laptop = new Client(running.url)
  const phone = new Client(running.url)
  const tablet = new Client(running.url)
  const mallory = new Client(running.url)

  const gate = await laptop.fetch('/sessions')
  assert.equal(gate.status, 303)
  assert.equal(gate.headers.get('location'), '/login')

  for (const device of [laptop, phone, tablet]) await device.form('/login', { username: 'alice' })
  await mallory.form('/login', { username: 'mallory' })
  const page = await (await laptop.fetch('/sessions')).text()
  assert.equal(page.match(/<tr/g)?.length, 4) // a header row and three sessions
  assert.equal(page.match(/This session/g)?.length, 1)
  const handles = [...page.matchAll(/name="handle" value="([^"]+)"/g)].map((m) => m[1] ?? '')
  assert.equal(handles.length, 2)

  // Mallory cannot revoke Alice's sessions.
  await mallory.form('/sessions/revoke', { handle: handles[0] ?? '' })
  assert.match(await (await mallory.fetch('/sessions')).text(), /already signed out/)
  const alive = [await phone.fetch('/'), await tablet.fetch('/')]
  for (const response of alive) assert.match(await response.text(), /logged in as <strong>alice/)

  const revoke = await laptop.form('/sessions/revoke', { handle: handles[0] ?? '' })
  assert.equal(revoke.status, 303)
  assert.equal(revoke.headers.get('location'), '/sessions')
  const afterOne = await (await laptop.fetch('/sessions')).text()
  assert.match(afterOne, /Signed out that session/)
  assert.equal(afterOne.match(/<tr/g)?.length, 3)
  const states = await Promise.all(
    [phone, tablet].map(async (c) => /not logged in/.test(await (await c.fetch('/')).text())),
  )
  assert.equal(states.filter(Boolean).length, 1, 'exactly one other device was signed out')

  await laptop.form('/sessions/revoke-others', {})
  const afterAll = await (await laptop.fetch('/sessions')).text()
  assert.match(afterAll, /Signed out 1 other session\./)
  assert.match(afterAll, /not signed in anywhere else/)
  for (const c of [phone, tablet]) assert.match(await (await c.fetch('/')).text(), /not logged in/)
  assert.match(await (await mallory.fetch('/')).text(), /logged in as <strong>mallory/)
})

test('HTML: with cookie storage, "your sessions" explains that listing needs a server store', async (t) => {
  const running = await demo(t, { SESSION_STORE: 'cookie' })
  const browser = new Client(running.url)
  await browser.form('/login', { username: 'alice' })
  assert.match(await (await browser.fetch('/')).text(), /Welcome, alice/)
  const page = await browser.fetch('/sessions')
  assert.equal(page.status, 200)
  assert.match(await page.text(), /needs a server store/)
  const revoke = await browser.form('/sessions/revoke', { handle: 'x' })
  assert.equal(revoke.status, 400)
  assert.match(await revoke.text(), /needs a server store/)
})
