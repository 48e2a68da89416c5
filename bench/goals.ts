/**
 * The performance targets the benchmark checks, as data: "server A serves at least `min` times the
 * requests per second of server B on these scenarios", where B is bare node:http, a bare framework
 * or a competitor. Each comes from an issue of the project (7: adapters against each framework's
 * usual session library; 9: encrypted cookies, server stores and bare node:http).
 *
 * @module
 */

import type { Scenario } from './targets.ts'

/** One target ratio. */
export interface Goal {
  /** The issue it comes from. */
  readonly issue: 7 | 9
  /** The server measured. */
  readonly target: string
  /** The server it is compared with. */
  readonly versus: string
  readonly scenarios: readonly Scenario['name'][]
  /** The lowest acceptable ratio of req/s (target over versus). */
  readonly min: number
  /**
   * The server that does the target's work minus the session library (the bare framework, or
   * node:http with one Redis round trip): its ratio to `versus` is the most any session library
   * can reach there, so a goal above it is out of reach on this machine.
   */
  readonly ceiling?: string
  /**
   * What the ceiling is compared with, when not `versus`: for a goal between two sessionware
   * servers (a store with a million sessions against its twin), the ceiling's own twin.
   */
  readonly ceilingVersus?: string
  /**
   * The ceiling's work behind the least a lazy, promise-based session API adds (bench/servers/
   * lazy-api.ts): its ratio to `versus` is the most any library with sessionware's API can reach
   * there, so a goal above it is out of reach for such a library on this machine, whatever the
   * ceiling reads.
   */
  readonly floor?: string
}

const ALL: readonly Scenario['name'][] = ['none', 'read', 'read-many', 'write']
const READS: readonly Scenario['name'][] = ['read', 'read-many']

export const GOALS: readonly Goal[] = [
  // Issue 9: the encrypted cookie ahead of @fastify/secure-session, and close to bare node:http.
  {
    issue: 9,
    target: 'sessionware-sealed',
    versus: 'fastify-secure-session',
    scenarios: ['read-many', 'write'],
    min: 1.2,
    ceiling: 'node-sodium-cookie',
    floor: 'node-sodium-cookie-api',
  },
  {
    issue: 9,
    target: 'sessionware-sealed',
    versus: 'node',
    scenarios: ['read-many'],
    min: 0.7,
    ceiling: 'node-sodium-cookie',
    floor: 'node-sodium-cookie-api',
  },
  {
    issue: 9,
    target: 'sessionware-sealed',
    versus: 'node',
    scenarios: ['write'],
    min: 0.55,
    ceiling: 'node-sodium-cookie',
    floor: 'node-sodium-cookie-api',
  },
  {
    issue: 9,
    target: 'sessionware-sealed',
    versus: 'node',
    scenarios: ['none'],
    min: 0.97,
    ceiling: 'node-sodium-cookie',
    floor: 'node-sodium-cookie-api',
  },
  // Issue 9: server stores close to the limit.
  {
    issue: 9,
    target: 'sessionware-memory',
    versus: 'node',
    scenarios: READS,
    min: 0.85,
    ceiling: 'node-memory-lookup',
    floor: 'node-memory-lookup-api',
  },
  {
    issue: 9,
    target: 'sessionware-memory',
    versus: 'node',
    scenarios: ['none'],
    min: 0.97,
    ceiling: 'node-memory-lookup',
    floor: 'node-memory-lookup-api',
  },
  {
    issue: 9,
    target: 'sessionware-redis',
    versus: 'node',
    scenarios: READS,
    min: 0.6,
    ceiling: 'node-redis-roundtrip',
  },
  {
    issue: 9,
    target: 'sessionware-redis',
    versus: 'node',
    scenarios: ['none'],
    min: 0.97,
    ceiling: 'node-redis-roundtrip',
  },
  // Issue 9, scale: the /read ratio unchanged with a million sessions in the store (within 10 %
  // of the same store, filled the same way, holding 10,001).
  {
    issue: 9,
    target: 'sessionware-memory-1m',
    versus: 'sessionware-memory-10k',
    scenarios: READS,
    min: 0.9,
    ceiling: 'node-memory-lookup-1m',
    ceilingVersus: 'node-memory-lookup-10k',
  },
  {
    issue: 9,
    target: 'sessionware-redis-1m',
    versus: 'sessionware-redis-10k',
    scenarios: READS,
    min: 0.9,
  },
  {
    issue: 9,
    target: 'sessionware-postgres-1m',
    versus: 'sessionware-postgres-10k',
    scenarios: READS,
    min: 0.9,
  },
  // Issue 7: each framework's usual session library, the same kind of storage, every route.
  {
    issue: 7,
    target: 'sessionware-express-memory',
    versus: 'express-session',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'express',
  },
  {
    issue: 7,
    target: 'sessionware-express-redis',
    versus: 'express-session-redis',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'express-redis-roundtrips',
  },
  {
    issue: 7,
    target: 'sessionware-fastify-memory',
    versus: 'fastify-session',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'fastify',
  },
  {
    issue: 7,
    target: 'sessionware-fastify-sealed',
    versus: 'fastify-secure-session',
    scenarios: ['read', 'read-many', 'write'],
    min: 1.2,
    ceiling: 'fastify-sodium-cookie',
  },
  {
    issue: 7,
    target: 'sessionware-koa-sealed',
    versus: 'koa-session',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'koa',
  },
  {
    issue: 7,
    target: 'sessionware-hono-sealed',
    versus: 'hono-sessions',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'hono',
  },
  {
    issue: 7,
    target: 'sessionware-hono-memory',
    versus: 'hono-sessions-memory',
    scenarios: ALL,
    min: 1.6,
    ceiling: 'hono',
  },
]

/** The comparisons worth printing besides the goals: each server against each of these. */
export function comparisonsOf(goals: readonly Goal[]): Array<[string, string]> {
  const pairs = new Map<string, [string, string]>()
  for (const goal of goals) {
    if (goal.versus !== 'node')
      pairs.set(`${goal.target}>${goal.versus}`, [goal.target, goal.versus])
  }
  return [...pairs.values()]
}
