/**
 * Sessions started straight through a manager, without HTTP, for tests of a storage's own
 * behaviour: each holds a counter `n`.
 */
import type { SessionManager } from '../../src/index.ts'

/** The transport a request without HTTP reports: plain, on loopback. */
export const loopback = () => ({ encrypted: false, host: '127.0.0.1' })

/**
 * Starts `count` sessions, the i-th holding `n = i`, and returns each one's cookie as a browser
 * sends it back (`name=value`).
 */
export async function startCounterSessions(
  sessions: SessionManager<{ n: number }>,
  count: number,
): Promise<string[]> {
  const cookies: string[] = []
  for (let n = 0; n < count; n++) {
    const req = {}
    const rs = sessions.attach(req, undefined, loopback)
    ;(await sessions.getSession(req)).set('n', n)
    cookies.push(((await rs.commit())[0] as string).split(';')[0] as string)
  }
  return cookies
}
