/**
 * Type tests of the Express adapter with `Register` (declared in `register.ts`): `req.session`
 * and the request accessors are typed from it, with no annotation in the routes.
 */
import express from 'express'
import type { createSessions, Session } from 'sessionware'
import { autoloadSession, discardOnError, sessionMiddleware } from 'sessionware/adapters/express'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

type Registered = Session<{ user?: string; visits?: number }, { notice: string }>

declare const sessions: ReturnType<typeof createSessions>

const app = express()
app.use(sessionMiddleware(sessions, { autoload: ['/account', /^\/api\//] }))

app.get('/account', (req, res) => {
  expect<Equal<typeof req.session, Registered>>()
  const visits: number | undefined = req.session.get('visits')
  req.session.set('visits', (visits ?? 0) + 1)
  // @ts-expect-error: `visits` is a number
  req.session.set('visits', 'many')
  // @ts-expect-error: not a declared key
  req.session.set('other', 1)
  const notice: string | undefined = req.session.getFlash('notice')
  res.json({ visits, notice })
})

app.post('/login', async (req, res) => {
  const fresh = await req.newSession()
  expect<Equal<typeof fresh, Registered>>()
  fresh.set('user', 'ann')
  fresh.flash('notice', 'Welcome')
  // @ts-expect-error: flash values are { notice: string }
  fresh.flash('notice', 1)
  res.redirect(303, '/')
})

app.get('/lazy', async (req, res) => {
  const session = await req.getSession()
  expect<Equal<typeof session, Registered>>()
  // An explicit type still wins.
  const other = await req.getSession<{ other: number }>()
  other.set('other', 1)
  res.json(session.toJSON())
})

const router = express.Router()
router.use(autoloadSession())
router.get('/me', (req, res) => {
  res.json({ user: req.session.get('user') ?? null })
})
app.use('/admin', router)
app.get('/me', autoloadSession(), (req, res) => {
  res.json({ user: req.session.get('user') ?? null })
})

app.use(discardOnError())
