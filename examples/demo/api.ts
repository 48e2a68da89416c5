/**
 * The demo's JSON API, a contract that tests, benchmarks and framework examples rely on:
 *
 * - `GET /api/none`: never touches the session; `{"ok":true}`.
 * - `GET /api/session`: `{"id": string | null, "isNew": boolean, "data": {…}}`.
 * - `PATCH /api/session`: merges a JSON object into the session (a `null` value deletes the key);
 *   the same shape. Invalid JSON or a non-object: 400; a body over 64 KB: 413.
 * - `POST /api/session/regenerate`: a new id, same data; the same shape.
 * - `DELETE /api/session`: invalidates; `{"id": null, "isNew": true, "data": {}}`.
 *
 * Errors are JSON `{"error": message, "code"?: code}` (see `app.ts` for 503 and 413).
 *
 * @module
 */
import type { Session, SessionData, SessionManager } from '../../src/index.ts'
import { type Routes, readBody, sendJson } from './http.ts'

/** Keys the session serializer drops on read; refused rather than silently lost. */
const RESERVED = new Set(['__proto__', 'constructor', 'prototype'])

function shape(session: Session<SessionData, SessionData>) {
  return { id: session.id, isNew: session.isNew, data: session.toJSON() }
}

/** The JSON API routes. */
export function apiRoutes<Data extends SessionData, Flash extends SessionData>(
  sessions: SessionManager<Data, Flash>,
): Routes {
  const load = (req: object) =>
    sessions.getSession(req) as Promise<Session<SessionData, SessionData>>
  return {
    '/api/none': {
      GET: (_req, res) => sendJson(res, 200, { ok: true }),
    },
    '/api/session': {
      GET: async (req, res) => sendJson(res, 200, shape(await load(req))),
      PATCH: async (req, res) => {
        const text = await readBody(req)
        let body: unknown
        try {
          body = JSON.parse(text)
        } catch {
          sendJson(res, 400, { error: 'the body is not valid JSON' })
          return
        }
        if (body === null || typeof body !== 'object' || Array.isArray(body)) {
          sendJson(res, 400, { error: 'the body must be a JSON object' })
          return
        }
        const entries = Object.entries(body)
        const reserved = entries.find(([key]) => RESERVED.has(key))
        if (reserved) {
          sendJson(res, 400, { error: `the key "${reserved[0]}" is reserved` })
          return
        }
        const session = await load(req)
        for (const [key, value] of entries) {
          if (value === null) session.delete(key)
          else session.set(key, value)
        }
        sendJson(res, 200, shape(session))
      },
      DELETE: async (req, res) => {
        const session = await load(req)
        session.invalidate()
        sendJson(res, 200, { id: null, isNew: true, data: {} })
      },
    },
    '/api/session/regenerate': {
      POST: async (req, res) => {
        const session = await load(req)
        session.regenerate()
        sendJson(res, 200, shape(session))
      },
    },
  }
}
