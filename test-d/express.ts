/**
 * Type tests of the Express adapter's middleware against both Express type packages: Express 5
 * (`express`) and Express 4 (`express4`, typed by `@types/express4`) accept every middleware of
 * the adapter where Express takes one, with no cast.
 */
import express from 'express'
import express4 from 'express4'
import { type createSessions, getSession, type Session, type SessionData } from 'sessionware'
import {
  autoloadSession,
  discardOnError,
  type ExpressSessionOptions,
  sessionMiddleware,
} from 'sessionware/adapters/express'

type Equal<A, B> =
  (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false
const expect = <T extends true>(): T => true as T

declare const sessions: ReturnType<typeof createSessions<{ n: number }>>

const five = express()
five.use(sessionMiddleware(sessions))
five.use('/api', sessionMiddleware(sessions, { autoload: true }))
five.get('/me', autoloadSession(), (_req, res) => {
  res.end()
})
five.use(express.Router().use(autoloadSession()))
five.use(discardOnError())
five.get('/lazy', async (req, res) => {
  // Without Register, the accessors give the default session type; getSession(req) takes types.
  const session = await req.getSession()
  expect<Equal<typeof session, Session<SessionData, SessionData>>>()
  const typed = await getSession<{ n: number }>(req)
  typed.set('n', 1)
  res.end()
})

const four = express4()
four.use(sessionMiddleware(sessions))
four.use('/api', sessionMiddleware(sessions, { autoload: ['/me'] }))
four.get('/me', autoloadSession(), (_req, res) => {
  res.end()
})
four.use(express4.Router().use(autoloadSession()))
four.use(discardOnError())

// @ts-expect-error: autoload takes paths and RegExps only
const wrong: ExpressSessionOptions = { autoload: 42 }
void wrong
