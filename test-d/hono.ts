/**
 * Type tests of the Hono adapter without a `Register` declaration: the `session` variable is typed
 * by the manager given to `sessionMiddleware` on a chained app, and untyped (`SessionData`) through
 * Hono's global `ContextVariableMap`.
 */
import { Hono } from 'hono'
import { getSession, type Session, type SessionData, type SessionManager } from 'sessionware'
import { type LazySession, sessionMiddleware } from 'sessionware/adapters/hono'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

type Data = { cart: string[]; user?: string }
type Flash = { notice: string }
declare const typed: SessionManager<Data, Flash>
declare const plain: SessionManager

// A chained app: the middleware's Variables type c.get and c.var.
new Hono().use(sessionMiddleware(typed)).get('/', async (c) => {
  const variable = c.get('session')
  expect<Equal<typeof variable, LazySession<Data, Flash>>>()
  const session = await c.get('session')
  expect<Equal<typeof session, Session<Data, Flash>>>()
  const cart: string[] | undefined = session.get('cart')
  // @ts-expect-error: `cart` holds strings
  session.set('cart', [1])
  const notice: string | undefined = session.getFlash('notice')
  // c.var merges the middleware's Variables with the global map (SessionData here): reads keep
  // the manager's types; declare Register to type c.var exactly.
  const fromVar = await c.var.session
  const cart2: string[] | undefined = fromVar.get('cart')
  void cart
  void cart2
  void notice
  return c.text('ok')
})

// An app used statement by statement: the global ContextVariableMap (no Register: SessionData).
const app = new Hono()
app.use(sessionMiddleware(plain))
app.get('/', async (c) => {
  const session = await c.get('session')
  expect<Equal<typeof session, Session<SessionData, SessionData>>>()
  session.set('anything', 1)
  const explicit = await getSession<Data>(c)
  explicit.set('cart', ['a'])
  const raw = await getSession<Data>(c.req.raw)
  raw.set('user', 'ann')
  // @ts-expect-error: the variable is a thenable, not the session itself
  c.get('session').get('user')
  return c.text('ok')
})

// The middleware is a Hono MiddlewareHandler.
const middleware = sessionMiddleware(typed)
new Hono().use('/api/*', middleware)
