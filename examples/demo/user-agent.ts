/**
 * Names the browser and operating system in a User-Agent header, for the "your sessions" page:
 * "Firefox on Linux", "Safari on iOS", "curl". A few patterns, checked in an order that copes with
 * User-Agents naming several browsers (Edge's says Chrome and Safari too; Chrome's says Safari).
 * Good enough to recognise a device, not to detect features.
 *
 * @module
 */

/** What {@link parseUserAgent} finds. */
export interface UserAgentInfo {
  /** `Chrome`, `Edge`, `Firefox`, `Safari`, `Opera`, a tool such as `curl`, or `Unknown browser`. */
  readonly browser: string
  /** `Windows`, `macOS`, `iOS`, `Android`, `Linux`, `ChromeOS`, or undefined when not told. */
  readonly os: string | undefined
}

/** Browsers, most specific first. */
const BROWSERS: ReadonlyArray<readonly [string, RegExp]> = [
  ['Edge', /\bEdg(?:e|A|iOS)?\//],
  ['Opera', /\bOPR\/|\bOPiOS\/|\bOpera\b/],
  ['Firefox', /\bFirefox\/|\bFxiOS\//],
  ['Chrome', /\bChrome\/|\bCriOS\/|\bChromium\//],
  ['Safari', /\bVersion\/[\d.]+.*\bSafari\/|\bMobile\/\w+ Safari\//],
]

/** Command-line clients and libraries: the product token names them. */
const TOOLS: ReadonlyArray<readonly [string, RegExp]> = [
  ['curl', /^curl\//i],
  ['Wget', /^Wget\//i],
  ['HTTPie', /^HTTPie\//i],
  ['Python Requests', /^python-requests\//i],
  ['Go', /^Go-http-client\//],
  ['Postman', /^PostmanRuntime\//],
  ['Node.js', /^node(?:$|\/)/],
]

/** Systems, most specific first (Android says Linux; iPadOS says Mac OS X). */
const SYSTEMS: ReadonlyArray<readonly [string, RegExp]> = [
  ['ChromeOS', /\bCrOS\b/],
  ['Android', /\bAndroid\b/],
  ['iOS', /\b(?:iPhone|iPad|iPod)\b|\biOS\b/],
  ['Windows', /\bWindows\b|\bWin(?:32|64)\b/],
  ['macOS', /\bMacintosh\b|\bMac OS X\b|\bmacOS\b/],
  ['Linux', /\bLinux\b|\bX11\b/],
]

function first(table: ReadonlyArray<readonly [string, RegExp]>, text: string): string | undefined {
  for (const [name, pattern] of table) if (pattern.test(text)) return name
  return undefined
}

/** The browser (or tool) and operating system a User-Agent names. Never throws. */
export function parseUserAgent(userAgent: string | undefined): UserAgentInfo {
  const text = typeof userAgent === 'string' ? userAgent.trim() : ''
  if (text === '') return { browser: 'Unknown browser', os: undefined }
  const browser = first(BROWSERS, text) ?? first(TOOLS, text) ?? 'Unknown browser'
  return { browser, os: first(SYSTEMS, text) }
}

/** "Firefox on Linux", "curl", "Unknown browser on Windows", or "Unknown browser". */
export function describeUserAgent(userAgent: string | undefined): string {
  const { browser, os } = parseUserAgent(userAgent)
  return os === undefined ? browser : `${browser} on ${os}`
}
