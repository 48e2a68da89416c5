/**
 * Type tests of the Hono adapter with the `Register` declaration of `register.ts`: `c.get('session')`
 * and `c.var.session` are typed on any app, chained or used statement by statement.
 */
import { Hono } from 'hono'
import {
  type CookieCodec,
  createCookieStorage,
  createSessions,
  getSession,
  newSession,
  type Session,
} from 'sessionware'
import { type LazySession, sessionMiddleware } from 'sessionware/adapters/hono'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

type Registered = Session<{ user?: string; visits?: number }, { notice: string }>
declare const codec: CookieCodec
// Created without type arguments: the manager's types are the registered ones.
const sessions = createSessions({ storage: createCookieStorage({ codec }) })

const app = new Hono()
app.use(sessionMiddleware(sessions))
app.get('/', async (c) => {
  const variable = c.get('session')
  expect<
    Equal<typeof variable, LazySession<{ user?: string; visits?: number }, { notice: string }>>
  >()
  const session = await c.get('session')
  expect<Equal<typeof session, Registered>>()
  const fromVar = await c.var.session
  expect<Equal<typeof fromVar, Registered>>()
  // @ts-expect-error: `visits` is a number
  session.set('visits', 'many')
  // @ts-expect-error: not a declared key
  fromVar.set('other', 1)
  const byContext = await getSession(c)
  expect<Equal<typeof byContext, Registered>>()
  const byRequest = await getSession(c.req.raw)
  expect<Equal<typeof byRequest, Registered>>()
  const fresh = await newSession(c)
  fresh.flash('notice', 'hello')
  return c.json({ user: session.get('user') ?? null })
})

new Hono().use(sessionMiddleware(sessions)).get('/chained', async (c) => {
  const session = await c.var.session
  expect<Equal<typeof session, Registered>>()
  return c.text(session.get('user') ?? '')
})
