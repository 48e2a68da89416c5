/**
 * Type tests of `Register`: session types declared once flow into every accessor. A separate
 * program from `test-d/`, because the declaration applies to the whole program. Adapter type tests
 * that rely on the declaration live next to this file.
 */
import type { IncomingMessage } from 'node:http'
import { type createSessions, getSession, newSession, type Session } from 'sessionware'

declare module 'sessionware' {
  interface Register {
    data: { user?: string; visits?: number }
    flash: { notice: string }
  }
}

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

declare const req: IncomingMessage
declare const sessions: ReturnType<typeof createSessions>

export async function registered(): Promise<void> {
  const session = await getSession(req)
  expect<Equal<typeof session, Session<{ user?: string; visits?: number }, { notice: string }>>>()
  const user: string | undefined = session.get('user')
  // @ts-expect-error: `visits` is a number
  session.set('visits', 'many')
  // @ts-expect-error: not a declared key
  session.set('other', 1)
  const notice: string | undefined = session.getFlash('notice')
  const fresh = await newSession(req)
  fresh.set('user', 'ann')
  const managed = await sessions.getSession(req)
  managed.set('visits', 1)
  // An explicit type still wins.
  const explicit = await getSession<{ other: number }>(req)
  explicit.set('other', 1)
  void user
  void notice
}
