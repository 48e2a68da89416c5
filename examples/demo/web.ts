/**
 * The demo's HTML pages: home with a visit counter, login (fixation-safe, with a flash welcome),
 * "your sessions" with revocation, and logout.
 *
 * Who is logged in is read from `session.subject`, which only `POST /login` sets; the JSON API can
 * write any data key (including `user`) but never the subject.
 *
 * Listing and revoking sessions needs a store with a subject index (sqlite, memory, redis,
 * postgres). With cookie storage, or memcached (which has no index), "your sessions" explains
 * that instead, and the revoke forms answer 400.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Session, SessionData, SessionManager } from '../../src/index.ts'
import { type Routes, readBody, redirect, sendHtml } from './http.ts'
import {
  cookieSessionsPage,
  errorPage,
  type Frame,
  homePage,
  loginPage,
  sessionsPage,
  unindexedSessionsPage,
} from './pages.ts'

/** Session data: free-form (the JSON API writes any key); the pages use `user` and `visits`. */
export type DemoData = SessionData
/** Flash values. */
export type DemoFlash = { message: string }
/** The demo's session manager. */
export type DemoSessions = SessionManager<DemoData, DemoFlash>
type DemoSession = Session<DemoData, DemoFlash>

/** What the pages need besides the request. */
export interface WebContext {
  readonly sessions: DemoSessions
  /** How the storage is described in the footer. */
  readonly storage: string
}

/** The longest user name, in characters. */
export const MAX_USERNAME = 64

/** The frame of a page: who is logged in and the flash message, read (hence consumed) once. */
function frameOf(session: DemoSession | undefined, storage: string): Frame {
  return {
    user: session?.subject,
    message: session?.getFlash('message'),
    storage,
  }
}

async function form(req: IncomingMessage): Promise<URLSearchParams> {
  return new URLSearchParams(await readBody(req))
}

/** The HTML routes. */
export function webRoutes(context: WebContext): Routes {
  const { sessions, storage } = context
  const { kind, store } = sessions.options.storage
  /** Sessions can be listed and revoked by user: a server store with a subject index. */
  const indexed = kind === 'server' && store?.capabilities.subjectIndex === true
  /** The answer to the revoke forms when sessions cannot be revoked by user. */
  const cannotRevoke =
    kind === 'server'
      ? 'This store cannot revoke sessions by user: that needs a store with a subject index.'
      : 'Cookie storage cannot revoke sessions: that needs a server store.'

  const signedIn = async (req: IncomingMessage, res: ServerResponse) => {
    const session = await sessions.getSession(req)
    if (session.subject === undefined) {
      redirect(res, '/login')
      return undefined
    }
    return session
  }

  return {
    '/': {
      GET: async (req, res) => {
        const session = await sessions.getSession(req)
        const previous = session.get('visits')
        const visits = (typeof previous === 'number' ? previous : 0) + 1
        session.set('visits', visits)
        sendHtml(res, 200, homePage(frameOf(session, storage), visits, session.timeLeft))
      },
    },
    '/login': {
      GET: async (req, res) => {
        const session = await sessions.getSession(req)
        sendHtml(res, 200, loginPage(frameOf(session, storage)))
      },
      POST: async (req, res) => {
        const raw = (await form(req)).get('username') ?? ''
        const username = raw.trim()
        const length = [...username].length
        if (length < 1 || length > MAX_USERNAME) {
          const session = await sessions.getSession(req)
          const error = `Your name must be 1 to ${MAX_USERNAME} characters long.`
          sendHtml(res, 400, loginPage(frameOf(session, storage), error, raw.slice(0, 200)))
          return
        }
        // A brand-new session (new id, old one deleted): a planted cookie cannot be fixated.
        const session = await sessions.newSession(req)
        session.set('user', username)
        session.setSubject(username)
        session.flash('message', `Welcome, ${username}`)
        redirect(res, '/')
      },
    },
    '/logout': {
      POST: async (req, res) => {
        const session = await sessions.getSession(req)
        session.invalidate()
        redirect(res, '/')
      },
    },
    '/sessions': {
      GET: async (req, res) => {
        const session = await signedIn(req, res)
        if (session === undefined) return
        const frame = frameOf(session, storage)
        if (!indexed) {
          const page =
            kind === 'server'
              ? unindexedSessionsPage(frame, session.createdAt)
              : cookieSessionsPage(frame, session.createdAt)
          sendHtml(res, 200, page)
          return
        }
        const list = await sessions.listSessions(session.subject as string)
        sendHtml(res, 200, sessionsPage(frame, list, session.handle))
      },
    },
    '/sessions/revoke': {
      POST: async (req, res) => {
        const handle = (await form(req)).get('handle') ?? ''
        const session = await signedIn(req, res)
        if (session === undefined) return
        if (!indexed) {
          sendHtml(res, 400, errorPage(frameOf(session, storage), 'Not available', cannotRevoke))
          return
        }
        if (handle === session.handle) {
          session.invalidate() // revoking this very session is logging out
          redirect(res, '/')
          return
        }
        // With the subject, only the user's own sessions can be revoked.
        const revoked =
          handle !== '' && (await sessions.revokeSession(handle, session.subject as string))
        session.flash(
          'message',
          revoked ? 'Signed out that session.' : 'That session was already signed out.',
        )
        redirect(res, '/sessions')
      },
    },
    '/sessions/revoke-others': {
      POST: async (req, res) => {
        const session = await signedIn(req, res)
        if (session === undefined) return
        if (!indexed) {
          sendHtml(res, 400, errorPage(frameOf(session, storage), 'Not available', cannotRevoke))
          return
        }
        const count = await sessions.revokeSessions(session.subject as string, {
          exceptHandle: session.handle,
        })
        session.flash('message', `Signed out ${count} other session${count === 1 ? '' : 's'}.`)
        redirect(res, '/sessions')
      },
    },
  }
}
