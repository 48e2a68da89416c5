/**
 * Type tests of the Fastify adapter with the `Register` declaration of `register.ts`: the request
 * decorators give the registered session types, and the plugin takes `{ sessions }`.
 */
import Fastify, { type FastifyRequest } from 'fastify'
import { type createSessions, getSession, type Session } from 'sessionware'
import { type FastifySessionsOptions, fastifySessions } from 'sessionware/adapters/fastify'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

type Registered = Session<{ user?: string; visits?: number }, { notice: string }>

declare const request: FastifyRequest
declare const sessions: ReturnType<typeof createSessions>

export async function decorators(): Promise<void> {
  const session = await request.getSession()
  expect<Equal<typeof session, Registered>>()
  const visits: number | undefined = session.get('visits')
  // @ts-expect-error: `visits` is a number
  session.set('visits', 'many')
  // @ts-expect-error: not a declared key
  session.set('other', 1)
  const notice: string | undefined = session.getFlash('notice')
  // @ts-expect-error: not a declared flash key
  session.flash('message', 'hi')

  const fresh = await request.newSession()
  expect<Equal<typeof fresh, Registered>>()
  fresh.set('user', 'ann')

  // The free function on a Fastify request: the same types.
  const same = await getSession(request)
  expect<Equal<typeof same, typeof session>>()

  // An explicit type still wins.
  const explicit = await request.getSession<{ other: number }>()
  expect<Equal<typeof explicit, Session<{ other: number }, { notice: string }>>>()
  void visits
  void notice
}

export async function plugin(): Promise<void> {
  const app = Fastify()
  await app.register(fastifySessions, { sessions })
  // @ts-expect-error: the session manager is required
  await app.register(fastifySessions, {})
  // @ts-expect-error: a manager, not options
  await app.register(fastifySessions, { sessions: { cookie: { name: 'sid' } } })
  const options: FastifySessionsOptions = { sessions }
  app.get('/', async (req) => {
    const session = await req.getSession()
    session.set('visits', (session.get('visits') ?? 0) + 1)
    return { visits: session.get('visits') }
  })
  void options
}
