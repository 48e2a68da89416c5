/**
 * What a session record keeps about its client when the `clientInfo` option is on: the User-Agent
 * and the last address, cleaned so that a hostile header cannot bloat the record or smuggle control
 * characters into it. Internal.
 *
 * @module
 */
import type { RequestTransport } from './cookie.ts'

/** The client of a session, as kept in its record. */
export interface ClientInfo {
  /** The User-Agent header: controls removed, at most {@link MAX_USER_AGENT} characters. */
  readonly userAgent: string | undefined
  /** The client address: controls removed, at most {@link MAX_ADDRESS} characters. */
  readonly address: string | undefined
}

/** The longest User-Agent kept, in characters; the rest is cut off. */
export const MAX_USER_AGENT = 512
/** The longest address kept, in characters (an IPv6 address with a zone fits). */
export const MAX_ADDRESS = 100

/**
 * Control and format characters (C0, DEL, C1, bidirectional overrides, zero-width marks) and lone
 * surrogates: none belongs in a User-Agent or an address, and a store keeps no NUL.
 */
const UNWANTED = /[\p{Cc}\p{Cf}\p{Cs}]/gu
const MAPPED_IPV4 = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i

/** `text` without unwanted characters, trimmed and cut to `max`; undefined when nothing is left. */
export function cleanText(text: unknown, max: number): string | undefined {
  if (typeof text !== 'string') return undefined
  const clean = text.replace(UNWANTED, '').trim()
  // Cutting may split a surrogate pair: drop the half left over.
  const cut = clean.length > max ? clean.slice(0, max).replace(UNWANTED, '').trimEnd() : clean
  return cut === '' ? undefined : cut
}

/** A cleaned address; an IPv4-mapped IPv6 address (`::ffff:203.0.113.5`) as plain IPv4. */
export function cleanAddress(text: unknown): string | undefined {
  const clean = cleanText(text, MAX_ADDRESS)
  if (clean === undefined) return undefined
  const mapped = MAPPED_IPV4.exec(clean)
  return mapped?.[1] ?? clean
}

/**
 * The client of a request, to store with its session. A value the request does not tell (no
 * User-Agent header, no address) keeps what the record already holds.
 */
export function observeClient(
  transport: RequestTransport,
  request: object,
  clientAddress: ((request: object) => string | null | undefined) | undefined,
  stored: ClientInfo | undefined,
): ClientInfo {
  const userAgent = transport.userAgent
  const address = clientAddress ? clientAddress(request) : transport.remoteAddress
  // What the record holds is clean already: the same text needs no cleaning (the usual case).
  return {
    userAgent:
      userAgent === stored?.userAgent
        ? userAgent
        : (cleanText(userAgent, MAX_USER_AGENT) ?? stored?.userAgent),
    address: address === stored?.address ? address : (cleanAddress(address) ?? stored?.address),
  }
}
