/**
 * Debian's Chromium at /usr/bin/chromium, launched by playwright-core the way every browser test
 * needs it on this machine's closed network. Not part of the package.
 *
 * @module
 */
import { type BrowserContext, chromium } from 'playwright-core'

/** Where Debian installs Chromium. */
export const CHROMIUM = '/usr/bin/chromium'

/**
 * A headless Chromium with a fresh profile in `userDataDir`, without the background networking that
 * a closed network refuses; every wait bounded by `waitMs`.
 */
export async function launchChromium(
  userDataDir: string,
  waitMs: number,
  viewport?: { width: number; height: number },
): Promise<BrowserContext> {
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    ...(viewport === undefined ? {} : { viewport }),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  })
  context.setDefaultTimeout(waitMs)
  context.setDefaultNavigationTimeout(waitMs)
  return context
}
