/**
 * The demo's User-Agent parser: real User-Agents of the common browsers and tools, and a property
 * that any text gives one of its names without throwing.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import { describeUserAgent, parseUserAgent } from '../../examples/demo/user-agent.ts'

const BROWSERS = ['Chrome', 'Edge', 'Firefox', 'Safari', 'Opera', 'Unknown browser']
const TOOLS = ['curl', 'Wget', 'HTTPie', 'Python Requests', 'Go', 'Postman', 'Node.js']
const SYSTEMS = ['Windows', 'macOS', 'iOS', 'Android', 'Linux', 'ChromeOS']

describe('demo: naming the browser and system of a User-Agent', () => {
  it('names the common browsers on their systems, and tools', () => {
    const cases: Array<[string, string]> = [
      [
        'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0',
        'Firefox on Linux',
      ],
      [
        'Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0',
        'Firefox on Linux',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        'Chrome on Windows',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87',
        'Edge on Windows',
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0',
        'Edge on macOS',
      ],
      [
        'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 OPR/111.0.0.0',
        'Opera on Windows',
      ],
      [
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15',
        'Safari on macOS',
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1',
        'Safari on iOS',
      ],
      [
        'Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1',
        'Chrome on iOS',
      ],
      [
        'Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/127.0 Mobile/15E148 Safari/605.1.15',
        'Firefox on iOS',
      ],
      [
        'Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36',
        'Chrome on Android',
      ],
      [
        'Mozilla/5.0 (Android 14; Mobile; rv:127.0) Gecko/127.0 Firefox/127.0',
        'Firefox on Android',
      ],
      [
        'Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        'Chrome on ChromeOS',
      ],
      [
        'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
        'Chrome on Linux',
      ],
      ['curl/8.5.0', 'curl'],
      ['Wget/1.21.4', 'Wget'],
      ['python-requests/2.32.3', 'Python Requests'],
      ['node', 'Node.js'],
      ['Mozilla/5.0 (Windows NT 10.0)', 'Unknown browser on Windows'],
      ['Googlebot/2.1 (+http://www.google.com/bot.html)', 'Unknown browser'],
      ['', 'Unknown browser'],
      ['   ', 'Unknown browser'],
    ]
    for (const [userAgent, expected] of cases) {
      assert.equal(describeUserAgent(userAgent), expected, userAgent)
    }
    assert.equal(describeUserAgent(undefined), 'Unknown browser')
    assert.deepEqual(parseUserAgent('curl/8.5.0'), { browser: 'curl', os: undefined })
  })

  it('gives one of its names for any text, never throwing', () => {
    const tokens = fc.constantFrom(
      'Mozilla/5.0',
      'Chrome/126',
      'Edg/126',
      'OPR/111',
      'Firefox/128',
      'FxiOS/1',
      'CriOS/1',
      'Version/17',
      'Safari/605',
      'Mobile/15E148',
      'Android',
      'Linux',
      'X11',
      'CrOS',
      'iPhone',
      'Macintosh',
      'Windows',
      'curl/8',
      '(',
      ')',
      ';',
      ' ',
    )
    const text = fc.oneof(
      fc.string({ unit: 'binary', maxLength: 600 }),
      fc.array(tokens, { maxLength: 30 }).map((parts) => parts.join('')),
    )
    fc.assert(
      fc.property(text, (userAgent) => {
        const { browser, os } = parseUserAgent(userAgent)
        assert.ok([...BROWSERS, ...TOOLS].includes(browser), browser)
        assert.ok(os === undefined || SYSTEMS.includes(os), os)
        const described = describeUserAgent(userAgent)
        assert.equal(described, os === undefined ? browser : `${browser} on ${os}`)
      }),
      { numRuns: 1000 },
    )
  })

  it('takes little time on a hostile 512-character User-Agent', () => {
    const hostile = ['Version/1 '.repeat(51), 'Mobile/'.repeat(73), 'a'.repeat(512)]
    const start = performance.now()
    for (let i = 0; i < 100; i++) for (const text of hostile) describeUserAgent(text)
    assert.ok(performance.now() - start < 1000, 'bounded regular expressions')
  })
})
