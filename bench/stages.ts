/**
 * Where a request's CPU time goes, from a V8 CPU profile: every sample is given to one stage, the
 * first one met walking its stack from the leaf up (innermost wins: node:crypto's native cipher
 * under the codec is codec time, node:http's writev under the adapter is HTTP time).
 *
 * Stages: HTTP (node:http, net, streams), cookie parse/serialize, codec (crypto), JSON (the
 * session serializer and JSON builtins), store client (sessionware's stores and the Redis and
 * PostgreSQL clients), sessionware core, sessionware adapter, the route handler, each other package
 * (the frameworks, the competitors), promises and microtasks, the garbage collector, and V8
 * builtins not under any of these.
 *
 * @module
 */

import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The part of a V8 profile node's call frame the stages read. */
export interface Frame {
  readonly functionName: string
  readonly url: string
}

const ROOT = fileURLToPath(new URL('..', import.meta.url))
const BUILD = 'bench/results/build/'

const CODEC = /^src\/(codecs\/|lib\/(keys|token|secretbox|aes-gcm|base64|hkdf)[^/]*\.[jt]s$)/
const SERIALIZE = /^src\/core\/(serializer|fields|envelope)\.[jt]s$/
const STORE_PACKAGES = /^(redis|@redis\/[^/]+|pg|pg-protocol|pg-pool|ioredis)$/

/** A file path relative to the repository, compiled paths mapped back to their sources. */
function pathOf(url: string): string {
  let path = url.startsWith('file://') ? relative(ROOT, fileURLToPath(url)) : url
  if (path.startsWith(BUILD)) path = path.slice(BUILD.length)
  return path
}

/** The stage of one frame, or undefined to look at its caller. */
export function stageOf(frame: Frame): string | undefined {
  const { functionName: name, url } = frame
  if (url === '') {
    if (name === '(garbage collector)') return 'garbage collector'
    if (name === '(idle)') return '(idle)'
    if (name === '(program)') return 'V8 (program)'
    if (name === 'parse' || name === 'stringify') return 'JSON'
    return undefined
  }
  if (url.startsWith('node:')) {
    if (url.startsWith('node:internal/crypto') || url === 'node:crypto') return 'codec (crypto)'
    if (/^node:(_http|http|net|internal\/(stream|streams\/|http|js_stream|net)|stream)/.test(url)) {
      return 'HTTP (node:http, net, streams)'
    }
    if (/^node:internal\/(process\/task_queues|async_hooks|timers)/.test(url)) {
      return 'promises, microtasks, timers'
    }
    return 'node (other)'
  }
  const pkg = /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1]
  if (pkg !== undefined) {
    if (pkg === 'cookie') return 'cookie parse/serialize'
    if (STORE_PACKAGES.test(pkg)) return 'store client'
    return `package ${pkg}`
  }
  const path = pathOf(url)
  if (CODEC.test(path)) return 'codec (crypto)'
  if (path === 'src/core/cookie.ts' || path === 'src/core/cookie.js')
    return 'cookie parse/serialize'
  if (SERIALIZE.test(path)) return 'JSON'
  if (path.startsWith('src/stores/')) return 'store client'
  if (path.startsWith('src/adapters/')) return 'sessionware adapter'
  if (path.startsWith('src/')) return 'sessionware core'
  if (path.startsWith('bench/')) return 'route handler (bench server)'
  return 'other'
}

/** A stage for every sample, walking up from the leaf. */
export function stageOfStack(frames: Iterable<Frame>): string {
  for (const frame of frames) {
    const stage = stageOf(frame)
    if (stage !== undefined) return stage
  }
  return 'V8 builtins'
}
