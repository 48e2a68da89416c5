/**
 * Type tests of the Koa adapter with `Register` declared (in `register.ts`): `ctx.getSession()` and
 * `ctx.newSession()` are typed from it on every Koa context type, and the middleware fits
 * `app.use` for apps with their own state and context types.
 */
import Koa from 'koa'
import { type createSessions, getSession, type Session } from 'sessionware'
import { sessionMiddleware } from 'sessionware/adapters/koa'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

type Registered = Session<{ user?: string; visits?: number }, { notice: string }>

declare const sessions: ReturnType<typeof createSessions>

const app = new Koa()
app.use(sessionMiddleware(sessions))

app.use(async (ctx) => {
  const session = await ctx.getSession()
  expect<Equal<typeof session, Registered>>()
  session.set('visits', (session.get('visits') ?? 0) + 1)
  // @ts-expect-error: `visits` is a number
  session.set('visits', 'many')
  // @ts-expect-error: not a declared key
  session.set('other', 1)
  const notice: string | undefined = session.getFlash('notice')
  const fresh = await ctx.newSession()
  expect<Equal<typeof fresh, Registered>>()
  fresh.set('user', 'ann')
  // The function form on the context gives the same type.
  const same = await getSession(ctx)
  expect<Equal<typeof same, Registered>>()
  // An explicit type still wins.
  const explicit = await ctx.getSession<{ other: number }>()
  explicit.set('other', 1)
  void notice
})

// An app with its own state and context types (ContextT replaces DefaultContext): still typed.
interface AppState {
  requestId: string
}
interface AppContext {
  log(message: string): void
}
const typed = new Koa<AppState, AppContext>()
typed.use(sessionMiddleware(sessions))
typed.use(async (ctx) => {
  ctx.log(ctx.state.requestId)
  const session = await ctx.getSession()
  expect<Equal<typeof session, Registered>>()
  const user: string | undefined = session.get('user')
  void user
})

// Koa.Middleware and Koa.Context, as applications annotate them.
const handler: Koa.Middleware = async (ctx, next) => {
  const session = await ctx.getSession()
  expect<Equal<typeof session, Registered>>()
  await next()
}
app.use(handler)
export async function withContext(ctx: Koa.Context): Promise<void> {
  const session = await ctx.getSession()
  expect<Equal<typeof session, Registered>>()
}
