/**
 * Type tests of the `clientInfo` option and what `listSessions` returns with it. Compiled by
 * `npm run typecheck`, never run.
 */
import type { IncomingMessage } from 'node:http'
import { createServerStorage, createSessions, type SessionInfo } from '../src/index.ts'
import { createMemoryStore } from '../src/stores/memory.ts'

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expectType = <T extends true>(_: T): void => {}

const storage = createServerStorage({ store: createMemoryStore() })

export const sessions = createSessions({
  storage,
  clientInfo: true,
  clientAddress: (request) => (request as IncomingMessage).socket.remoteAddress,
})

// A Fetch Request's header may be null: accepted.
createSessions({
  storage,
  clientInfo: true,
  clientAddress: (request) => (request as Request).headers.get('x-real-ip'),
})

// @ts-expect-error clientInfo is a boolean
createSessions({ storage, clientInfo: 'on' })

// @ts-expect-error clientAddress returns the address as text
createSessions({ storage, clientInfo: true, clientAddress: () => 42 })

export async function listed(): Promise<void> {
  const [info] = await sessions.listSessions('ada')
  if (info === undefined) return
  expectType<Equals<typeof info, SessionInfo>>(true)
  expectType<Equals<typeof info.userAgent, string | undefined>>(true)
  expectType<Equals<typeof info.address, string | undefined>>(true)
  // @ts-expect-error what listSessions returns is read-only
  info.userAgent = 'x'
}
