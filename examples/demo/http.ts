/**
 * Small node:http helpers for the demo: bounded body reading, JSON/HTML/redirect answers and the
 * cross-site check.
 *
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http'

/** Largest request body the demo accepts: 64 KB. */
export const MAX_BODY_BYTES = 64 * 1024
/** Past this many bytes the demo stops draining an oversized body and drops the connection. */
const MAX_DRAIN_BYTES = 1024 * 1024

/** A request body over {@link MAX_BODY_BYTES}. */
export class BodyTooLargeError extends Error {
  override readonly name = 'BodyTooLargeError'
}

/**
 * Reads the body as UTF-8 text, at most {@link MAX_BODY_BYTES}. An oversized body is drained
 * (so the client sees the 413 rather than a reset connection) and rejected.
 */
export function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0)
    if (declared > MAX_DRAIN_BYTES) {
      req.destroy()
      reject(new BodyTooLargeError(`request body of ${declared} bytes`))
      return
    }
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_DRAIN_BYTES) req.destroy()
      else if (size <= MAX_BODY_BYTES) chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) reject(new BodyTooLargeError(`request body of ${size} bytes`))
      else resolve(Buffer.concat(chunks).toString('utf8'))
    })
    req.on('error', reject)
    req.on('close', () => reject(new BodyTooLargeError('request body was cut off')))
  })
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
  'cache-control': 'no-store',
}

/** Answers JSON. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'application/json; charset=utf-8',
  })
  res.end(JSON.stringify(body))
}

/** Answers an HTML page with a strict Content-Security-Policy (inline styles only). */
export function sendHtml(res: ServerResponse, status: number, html: string): void {
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    'content-type': 'text/html; charset=utf-8',
    'content-security-policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; " +
      "frame-ancestors 'none'; base-uri 'none'",
  })
  res.end(html)
}

/** 303 See Other: after a POST, the browser GETs `location`. */
export function redirect(res: ServerResponse, location: string): void {
  res.writeHead(303, { ...SECURITY_HEADERS, location })
  res.end()
}

/**
 * True when the request carries an `Origin` header whose host differs from the `Host` header
 * (including the opaque origin `null`): a cross-site form post or script.
 */
export function isCrossSite(req: IncomingMessage): boolean {
  const origin = req.headers.origin
  if (origin === undefined) return false
  try {
    const from = new URL(origin)
    // Through URL too, so case and default ports compare equal (Host: example.com:80).
    return from.host !== new URL(`${from.protocol}//${req.headers.host ?? ''}`).host
  } catch {
    return true
  }
}

/** A route handler. */
export type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>

/** Routes by path, then by method. */
export type Routes = Record<string, Partial<Record<string, Handler>>>
