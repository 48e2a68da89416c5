/**
 * What the core needs to know about how a request arrived (for the automatic Secure attribute, and
 * the client a session record keeps with the `clientInfo` option), from a node:http request or a
 * Fetch `Request`. Part of `sessionware/adapters/kit`.
 *
 * @module
 */
import type { IncomingMessage } from 'node:http'
import type { TLSSocket } from 'node:tls'
import type { RequestTransport } from '../../core/cookie.ts'

/** A header value as node:http gives it, as one string (repeated headers joined by commas). */
function headerText(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value
}

/**
 * The transport of a node:http request (also Express, Fastify's `request.raw`, Koa's `ctx.req`):
 * TLS from the socket, the Host header, the peer address of the socket, `X-Forwarded-Proto` and
 * `User-Agent`. Call it lazily (the core asks only when it writes a cookie or a record).
 */
export function nodeTransport(req: IncomingMessage): RequestTransport {
  const socket = req.socket as TLSSocket | null | undefined
  return {
    encrypted: socket?.encrypted === true,
    host: req.headers.host,
    remoteAddress: socket?.remoteAddress,
    forwardedProto: headerText(req.headers['x-forwarded-proto']),
    userAgent: req.headers['user-agent'],
  }
}

/**
 * The transport of a Fetch `Request`: TLS and host from its URL (as the runtime built it),
 * `X-Forwarded-Proto` and `User-Agent`. The Fetch API gives no peer address, so `remoteAddress` is
 * left undefined; an adapter whose runtime knows it (Bun's `server.requestIP`, Deno's
 * `info.remoteAddr`) can add it.
 */
export function fetchTransport(request: Request): RequestTransport {
  const url = new URL(request.url)
  return {
    encrypted: url.protocol === 'https:',
    host: url.host,
    forwardedProto: request.headers.get('x-forwarded-proto'),
    userAgent: request.headers.get('user-agent'),
  }
}
