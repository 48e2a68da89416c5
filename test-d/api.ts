/**
 * Type tests: compiled by `npm run typecheck` (tsc -p test-d), never run. Each `@ts-expect-error`
 * must be an error, so a loosened type fails the check.
 */
import type { IncomingMessage } from 'node:http'
import { withSessions as withFetch } from '../src/adapters/fetch.ts'
import { withSessions } from '../src/adapters/node.ts'
import { createSealedCodec } from '../src/codecs/sealed.ts'
// @ts-expect-error the root exports no resolved-option types (they live in the adapter kit)
import type { ResolvedOptions } from '../src/index.ts'
import {
  type AnySessionError,
  createCookieStorage,
  createSessions,
  getSession,
  newSession,
  type Session,
} from '../src/index.ts'

export type NotExported = ResolvedOptions

type Equals<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expectType = <T extends true>(_: T): void => {}

type Data = { user?: string; visits: number; cart?: string[] }
type Flash = { message: string }

const sessions = createSessions<Data, Flash>({
  storage: createCookieStorage({ codec: createSealedCodec({ keys: ['k'.repeat(32)] }) }),
})

export async function typed(req: IncomingMessage): Promise<void> {
  const session = await sessions.getSession(req)
  expectType<Equals<typeof session, Session<Data, Flash>>>(true)
  expectType<Equals<ReturnType<typeof session.get<'visits'>>, number | undefined>>(true)
  session.set('visits', 1)
  session.set('cart', ['a'])
  // @ts-expect-error a number key holds numbers only
  session.set('visits', 'one')
  // @ts-expect-error unknown keys are refused
  session.set('colour', 'red')
  // @ts-expect-error unknown keys are refused when reading too
  session.get('colour')
  session.flash('message', 'hi')
  // @ts-expect-error flash values have their own type
  session.flash('message', 42)
  // @ts-expect-error flash keys are the Flash type's
  session.flash('visits', 1)
  expectType<Equals<ReturnType<typeof session.getFlash<'message'>>, string | undefined>>(true)
  expectType<Equals<typeof session.id, string | null>>(true)
  for (const [key, value] of session) {
    expectType<Equals<typeof key, 'user' | 'visits' | 'cart'>>(true)
    void value
  }
  const generic = await getSession<Data>(req)
  expectType<Equals<typeof generic, Session<Data, Data>>>(true)
  const fresh = await newSession<Data, Flash>(req)
  // @ts-expect-error setSubject takes a string or null
  fresh.setSubject(42)
  fresh.update({ visits: 2, user: 'ann' })
  // @ts-expect-error update checks value types
  fresh.update({ visits: 'two' })
  // @ts-expect-error update refuses unknown keys
  fresh.update({ colour: 'red' })
  expectType<Equals<ReturnType<typeof fresh.pop<'cart'>>, string[] | undefined>>(true)
  expectType<Equals<typeof fresh.isEmpty, boolean>>(true)
  fresh.persistent = false
  // @ts-expect-error persistent is a boolean
  fresh.persistent = 'yes'
  // @ts-expect-error revokeSession always names the owner
  await sessions.revokeSession('handle')
  await sessions.revokeSession('handle', 'user-1')
  await sessions.adminRevokeSession('handle')
}

export function errors(error: unknown): string {
  const e = error as AnySessionError
  switch (e.code) {
    case 'ERR_SESSION_COOKIE_TOO_LARGE':
      return `${e.size} > ${e.limit}`
    case 'ERR_SESSION_STORE':
      return e.operation
    case 'ERR_SESSION_DECODE':
      return e.reason
    case 'ERR_SESSION_REPLACED':
      return 'replaced'
    default:
      return e.code
  }
}

export const node = withSessions(sessions, async (req, res) => {
  const session = await getSession<Data, Flash>(req)
  res.end(String(session.get('visits')))
})

export const fetchHandler = withFetch(sessions, async (request: Request, env: { name: string }) => {
  const session = await getSession<Data>(request)
  return new Response(`${env.name} ${session.get('visits')}`)
})
expectType<Equals<Parameters<typeof fetchHandler>, [Request, { name: string }]>>(true)
