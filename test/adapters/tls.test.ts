/**
 * The node adapter over real TLS on loopback (a self-signed certificate for 127.0.0.1 in
 * test/fixtures, valid until 2126): the transport reports the TLS socket, so the automatic Secure
 * attribute is on even for 127.0.0.1 in development, where plain HTTP leaves it off.
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import http from 'node:http'
import https from 'node:https'
import type { AddressInfo } from 'node:net'
import { describe, it, type TestContext } from 'node:test'
import { withSessions } from '../../src/adapters/node.ts'
import { createServerStorage, createSessions, getSession } from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

const cert = readFileSync(new URL('../fixtures/tls-cert.pem', import.meta.url))
const key = readFileSync(new URL('../fixtures/tls-key.pem', import.meta.url))

function handler(name: string) {
  const sessions = createSessions({
    storage: createServerStorage({ store: createMemoryStore() }),
    cookie: { name },
  })
  return withSessions(sessions, async (req, res) => {
    ;(await getSession(req)).set('n', 1)
    res.end('ok')
  })
}

async function listen(t: TestContext, server: http.Server | https.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => new Promise((resolve) => server.close(resolve)))
  return (server.address() as AddressInfo).port
}

/** GET over https (trusting only the fixture certificate) or http; the Set-Cookie headers. */
function get(secure: boolean, port: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const options = { host: '127.0.0.1', port, path: '/', ...(secure ? { ca: cert } : {}) }
    const request = (secure ? https : http).get(options, (response) => {
      response.resume()
      response.on('end', () => resolve(response.headers['set-cookie'] ?? []))
    })
    request.on('error', reject)
  })
}

describe('node adapter over TLS', () => {
  it('sets Secure for 127.0.0.1 over TLS, and not over plain HTTP in development', async (t) => {
    if (process.env.NODE_ENV === 'production') return t.skip('needs a development NODE_ENV')
    const tlsPort = await listen(t, https.createServer({ cert, key }, handler('session')))
    const plainPort = await listen(t, http.createServer(handler('session')))
    const [overTls] = await get(true, tlsPort)
    assert.match(overTls ?? '', /^session=[^;]+;.*; Secure/)
    const [overHttp] = await get(false, plainPort)
    assert.match(overHttp ?? '', /^session=/)
    assert.doesNotMatch(overHttp ?? '', /Secure/)
  })

  it('serves a __Host- cookie over TLS', async (t) => {
    const port = await listen(t, https.createServer({ cert, key }, handler('__Host-session')))
    const [cookie] = await get(true, port)
    assert.match(cookie ?? '', /^__Host-session=[^;]+;.*Path=\/.*; Secure/)
    assert.doesNotMatch(cookie ?? '', /Domain=/)
  })
})
