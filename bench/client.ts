/**
 * Getting each server ready for load, over HTTP: minting its cookies (one `GET /write` without a
 * cookie creates a session), writing them to the files wrk rotates through, and checking that every
 * route answers as intended before anything is measured.
 *
 * @module
 */

import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'
import { Agent, request } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { RunningServer } from './processes.ts'
import { hasSessions } from './targets.ts'

/** Connections used to mint cookies. */
const MINT_CONCURRENCY = 32

/** A response, as far as the checks need it. */
export interface Answer {
  readonly status: number
  readonly body: string
  readonly setCookie: string[]
}

/** `GET path` on 127.0.0.1 with an optional Cookie header. */
export function get(port: number, path: string, cookie?: string, agent?: Agent): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, agent, headers: cookie ? { cookie } : {}, timeout: 30_000 },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body,
            setCookie: res.headers['set-cookie'] ?? [],
          }),
        )
        res.on('error', reject)
      },
    )
    req.on('timeout', () => req.destroy(new Error(`GET ${path}: timeout`)))
    req.on('error', reject)
    req.end()
  })
}

/**
 * The Cookie header a browser would send after these Set-Cookie headers: one `name=value` per name,
 * the last one set winning (a response may set the same cookie twice), cleared ones left out.
 */
export function cookieHeader(setCookie: string[]): string {
  const jar = new Map<string, string>()
  for (const line of setCookie) {
    const pair = line.split(';', 1)[0]?.trim() ?? ''
    const eq = pair.indexOf('=')
    if (eq <= 0) continue
    if (eq === pair.length - 1) jar.delete(pair.slice(0, eq))
    else jar.set(pair.slice(0, eq), pair)
  }
  return [...jar.values()].join('; ')
}

/** The `n` of a `{"n":…}` body. */
export function bodyN(answer: Answer): unknown {
  try {
    return (JSON.parse(answer.body) as { n?: unknown }).n
  } catch {
    return undefined
  }
}

/** Creates up to `count` sessions with `GET /write` (no cookie); stops at the deadline. */
async function mint(port: number, count: number, deadline: number): Promise<string[]> {
  const agent = new Agent({ keepAlive: true, maxSockets: MINT_CONCURRENCY })
  const cookies: string[] = []
  let issued = 0
  const worker = async (): Promise<void> => {
    while (issued < count && Date.now() < deadline) {
      issued++
      const answer = await get(port, '/write', undefined, agent)
      const cookie = cookieHeader(answer.setCookie)
      if (answer.status !== 200 || cookie === '') {
        throw new Error(`GET /write answered ${answer.status} without a session cookie`)
      }
      cookies.push(cookie)
    }
  }
  try {
    await Promise.all(Array.from({ length: MINT_CONCURRENCY }, worker))
  } finally {
    agent.destroy()
  }
  return cookies
}

const MINT_SCRIPT = fileURLToPath(new URL('./mint.lua', import.meta.url))

/** One wrk run of bench/mint.lua: `seconds` of `GET /write`, cookies appended to `file`. */
function wrkMint(
  port: number,
  file: string,
  limit: number,
  seconds: number,
  cpu: number | undefined,
) {
  const args = ['-t1', '-c16', `-d${seconds}s`, '-s', MINT_SCRIPT, `http://127.0.0.1:${port}`]
  const argv = [...args, '--', String(limit), file]
  return new Promise<void>((resolve, reject) => {
    const child =
      cpu === undefined
        ? spawn('wrk', argv, { stdio: 'ignore' })
        : spawn('taskset', ['-c', String(cpu), 'wrk', ...argv], { stdio: 'ignore' })
    child.on('error', reject)
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`wrk mint exited ${code}`)),
    )
  })
}

/**
 * Creates `count` sessions over HTTP with wrk (`GET /write` without a cookie, 16 connections,
 * one second at a time until there are enough, at most `deadline`): far faster than a node:http
 * client. Only for servers whose response sets exactly one cookie (sessionware's).
 */
async function mintWithWrk(
  port: number,
  count: number,
  dir: string,
  deadline: number,
  cpu: number | undefined,
): Promise<string[]> {
  const file = join(dir, `mint-${port}.txt`)
  rmSync(file, { force: true })
  let cookies: string[] = []
  while (cookies.length < count && Date.now() < deadline) {
    await wrkMint(port, file, count - cookies.length, 1, cpu)
    cookies = readFileSync(file, 'utf8').split('\n').filter(Boolean)
  }
  rmSync(file, { force: true })
  return cookies.slice(0, count)
}

/** Cookies of about the size of a sealed sessionware cookie, for the bare servers. */
function syntheticCookies(count: number): string[] {
  return Array.from({ length: count }, () => `session=${randomBytes(75).toString('base64url')}`)
}

/** A server's cookie files and how it got them. */
export interface Prepared {
  /** The file of the one seed cookie, and of the rotating ones. */
  readonly oneFile: string
  readonly manyFile: string
  readonly cookies: number
  readonly mintSeconds: number
  /** Whether a response to the seed cookie carried a Set-Cookie, per route. */
  readonly setCookie: Record<string, boolean>
}

async function check(server: RunningServer, seed: string, many: string[]) {
  const { target, port } = server
  const setCookie: Record<string, boolean> = {}
  for (const route of ['none', 'read', 'write'] as const) {
    const answer = await get(port, `/${route}`, seed)
    if (answer.status !== 200) throw new Error(`${target.name} /${route}: status ${answer.status}`)
    setCookie[route] = answer.setCookie.length > 0
    if (hasSessions(target) && route === 'read' && !(Number(bodyN(answer)) >= 1)) {
      throw new Error(
        `${target.name} /read with its cookie did not see the session: ${answer.body}`,
      )
    }
  }
  if (hasSessions(target) && !setCookie.write) {
    throw new Error(`${target.name} /write did not send a Set-Cookie`)
  }
  if (hasSessions(target) && many.length > 0) {
    const step = Math.max(1, Math.floor(many.length / 10))
    for (let i = 0; i < many.length; i += step) {
      const answer = await get(port, '/read', many[i])
      if (bodyN(answer) !== 1) {
        throw new Error(
          `${target.name}: cookie ${i} of the rotation did not read back: ${answer.body}`,
        )
      }
    }
  }
  return setCookie
}

/**
 * Mints the seed cookie and `cookies` rotating ones over HTTP (sessionware's servers with wrk,
 * the competitors' with a node:http client; a scale server hands over those of its in-process
 * fill), writes them to files in `dir`, and checks every route.
 */
export async function prepare(
  server: RunningServer,
  dir: string,
  cookies: number,
  mintSeconds: number,
  cpu: number | undefined,
): Promise<Prepared> {
  const { target, port } = server
  const started = Date.now()
  let seed: string
  let many: string[]
  if (server.prefill !== undefined) {
    seed = server.prefill.seed
    many = server.prefill.cookies.slice(0, cookies)
  } else if (target.kind === 'sessionware') {
    ;[seed = '', ...many] = await mintWithWrk(
      port,
      cookies + 1,
      dir,
      started + mintSeconds * 1000,
      cpu,
    )
  } else if (hasSessions(target)) {
    ;[seed = ''] = await mint(port, 1, Number.POSITIVE_INFINITY)
    many = cookies > 0 ? await mint(port, cookies, started + mintSeconds * 1000) : []
  } else {
    ;[seed = ''] = syntheticCookies(1)
    many = syntheticCookies(cookies)
  }
  const oneFile = join(dir, `${target.name}-one.txt`)
  const manyFile = join(dir, `${target.name}-many.txt`)
  writeFileSync(oneFile, `${seed}\n`)
  writeFileSync(manyFile, many.length > 0 ? `${many.join('\n')}\n` : '')
  const setCookie = await check(server, seed, many)
  return {
    oneFile,
    manyFile,
    cookies: many.length,
    mintSeconds: (Date.now() - started) / 1000,
    setCookie,
  }
}

/** Whether the seed session is still there after the load (nothing evicted or expired). */
export async function seedSurvived(server: RunningServer, seed: string): Promise<boolean> {
  if (!hasSessions(server.target)) return true
  const answer = await get(server.port, '/read', seed)
  return Number(bodyN(answer)) >= 1
}
