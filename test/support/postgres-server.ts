/**
 * A throwaway PostgreSQL server for the tests of one file: `initdb` into a temporary directory
 * (trust authentication, no fsync), `postgres` on a free loopback port, a database
 * `sessionware_test`. It starts on the first `startPostgres(t)` of a test file, is shared by the
 * file's later calls, and is stopped (its directory removed) by a top-level `after` hook that this
 * module registers when it loads. Running as root, the server runs as the `postgres` system user
 * (PostgreSQL refuses root).
 *
 * With `DATABASE_URL` set, that database is used instead and nothing is started; `stop()`,
 * `start()`, `pause()` and `resume()` are then unavailable (`external` is true) and outage tests
 * skip.
 *
 * Not part of the package.
 *
 * @module
 */

import { execFile, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, type TestContext } from 'node:test'
import pg from 'pg'
import {
  findBinary,
  freePort,
  requireBinary,
  type ServiceProcess,
  spawnService,
} from './services.ts'

/** The file's PostgreSQL server. */
export interface PostgresServer {
  /** Connection string of the test database, such as `postgres://postgres@127.0.0.1:5433/sessionware_test`. */
  readonly url: string
  /** True when `DATABASE_URL` was used: the server is not ours, and stop/start/pause/resume reject. */
  readonly external: boolean
  /** Fast shutdown (open connections are terminated); the data directory is kept. */
  stop(): Promise<void>
  /** Starts the stopped server again on the same port and data, and waits until it answers. */
  start(): Promise<void>
  /**
   * Freezes the server and every backend (SIGSTOP): connections stay open but nothing answers, as
   * with a hung server or a network partition.
   */
  pause(): Promise<void>
  /** Lets a paused server run again (SIGCONT). */
  resume(): Promise<void>
  /**
   * A `pg.Pool` on `url` (or on another database of this server) with an `error` listener (an
   * idle client's error would otherwise end the process), ended before the server stops.
   */
  pool(config?: pg.PoolConfig): pg.Pool
  /** A connected `pg.Client` with an `error` listener, ended before the server stops. */
  client(config?: pg.ClientConfig): Promise<pg.Client>
  /** Creates an empty database and returns its connection string. */
  createDatabase(): Promise<string>
}

const INSTALL = 'apt-get install postgresql (or set DATABASE_URL)'
/** How long the server may take to answer `SELECT 1` after its port opens. */
const READY_TIMEOUT_MS = 15_000

let shared: Promise<PostgresServer> | undefined
const cleanups: Array<() => Promise<void>> = []
const handles = new Set<{ end(): Promise<void> }>()

after(async () => {
  for (const handle of handles) await handle.end().catch(() => {})
  handles.clear()
  for (const cleanup of cleanups.splice(0)) await cleanup()
})

/**
 * The file's PostgreSQL server, started on first use. Returns null after a loud `t.skip()` when
 * the PostgreSQL binaries are missing (or throws under SESSIONWARE_REQUIRE_SERVICES=1).
 */
export async function startPostgres(t: TestContext): Promise<PostgresServer | null> {
  const external = process.env.DATABASE_URL
  if (external) {
    shared ??= Promise.resolve(server(external, null))
    return shared
  }
  const also = [
    '/usr/lib/postgresql/17/bin',
    '/usr/lib/postgresql/16/bin',
    '/usr/lib/postgresql/15/bin',
  ]
  const initdb = requireBinary(
    t,
    'initdb',
    INSTALL,
    also.map((dir) => join(dir, 'initdb')),
  )
  if (initdb === null) return null
  shared ??= launch(initdb).catch((error: unknown) => {
    shared = undefined
    throw error
  })
  return shared
}

/** The uid and gid to run PostgreSQL as: ours, or the `postgres` user's when we are root. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const id = (flag: string): number => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' })
    const value = Number.parseInt(result.stdout, 10)
    if (result.status !== 0 || !Number.isInteger(value)) {
      throw new Error('running as root, but there is no postgres user to run PostgreSQL as')
    }
    return value
  }
  return { uid: id('-u'), gid: id('-g') }
}

async function launch(initdb: string): Promise<PostgresServer> {
  const bin = dirname(initdb)
  const postgres = existsSync(join(bin, 'postgres'))
    ? join(bin, 'postgres')
    : findBinary('postgres')
  if (postgres === null) throw new Error(`initdb found at ${initdb}, but no postgres binary`)
  const user = runAs()
  const root = mkdtempSync(join(tmpdir(), 'sessionware-pg-'))
  cleanups.push(async () => rmSync(root, { recursive: true, force: true }))
  const data = join(root, 'data')
  mkdirSync(data, { mode: 0o700 })
  if (user) {
    chownSync(root, user.uid, user.gid)
    chownSync(data, user.uid, user.gid)
  }
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' }
  await new Promise<void>((resolve, reject) => {
    execFile(
      initdb,
      ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
      { env, cwd: root, ...(user ?? {}) },
      (error, _stdout, stderr) =>
        error ? reject(new Error(`initdb failed: ${error.message}\n${stderr}`)) : resolve(),
    )
  })

  const port = await freePort()
  const serverArgs = [
    '-D',
    data,
    '-p',
    String(port),
    '-h',
    '127.0.0.1',
    '-k',
    root,
    '-c',
    'fsync=off',
    '-c',
    'synchronous_commit=off',
    '-c',
    'full_page_writes=off',
    '-c',
    'max_connections=200',
  ]
  let command = postgres
  let args = serverArgs
  if (user) {
    // setpriv execs postgres in place, so signals reach the postmaster itself.
    const setpriv = findBinary('setpriv')
    command = setpriv ?? 'runuser'
    args = setpriv
      ? [`--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups', postgres, ...serverArgs]
      : ['-u', 'postgres', '--', postgres, ...serverArgs]
  }
  const service = await spawnService(null, command, args, port, { env, cwd: root })
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`
  await waitForQueries(admin)
  await query(admin, 'CREATE DATABASE sessionware_test')
  let paused: number[] = []
  const resume = async (): Promise<void> => {
    for (const pid of paused.splice(0)) signal(pid, 'SIGCONT')
  }
  const stop = async (): Promise<void> => {
    await resume()
    await fastShutdown(service, data)
  }
  cleanups.unshift(stop)
  return server(`postgres://postgres@127.0.0.1:${port}/sessionware_test`, {
    stop,
    start: async () => {
      await service.start()
      await waitForQueries(admin)
    },
    pause: async () => {
      const postmaster = postmasterPid(data)
      if (postmaster === null) throw new Error('PostgreSQL is not running')
      const children = spawnSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      const pids = children.stdout.split('\n').filter(Boolean).map(Number)
      paused = [postmaster, ...pids]
      for (const pid of paused) signal(pid, 'SIGSTOP')
    },
    resume,
  })
}

type Control = Pick<PostgresServer, 'stop' | 'start' | 'pause' | 'resume'>

function server(url: string, control: Control | null): PostgresServer {
  const unavailable = async (): Promise<void> => {
    throw new Error('DATABASE_URL is set: the tests cannot stop, start or pause that server')
  }
  return {
    url,
    external: control === null,
    stop: control?.stop ?? unavailable,
    start: control?.start ?? unavailable,
    pause: control?.pause ?? unavailable,
    resume: control?.resume ?? unavailable,
    pool(config = {}) {
      const pool = new pg.Pool({ connectionString: url, ...config })
      pool.on('error', () => {}) // an idle client lost its connection; the pool replaces it
      handles.add(pool)
      return pool
    },
    async client(config = {}) {
      const client = new pg.Client({ connectionString: url, ...config })
      client.on('error', () => {})
      await client.connect()
      handles.add(client)
      return client
    },
    async createDatabase() {
      const name = `sessionware_${Math.random().toString(36).slice(2, 12)}`
      await query(url, `CREATE DATABASE ${name}`)
      const target = new URL(url)
      target.pathname = `/${name}`
      return target.href
    },
  }
}

/** Runs one statement on a short-lived connection. */
async function query(url: string, text: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
  client.on('error', () => {})
  try {
    await client.connect()
    await client.query(text)
  } finally {
    await client.end().catch(() => {})
  }
}

/** Waits until the server answers a query (it opens its port before it accepts sessions). */
async function waitForQueries(url: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    try {
      await query(url, 'SELECT 1')
      return
    } catch (error) {
      if (Date.now() > deadline) {
        throw new Error(`PostgreSQL did not accept queries within ${READY_TIMEOUT_MS} ms`, {
          cause: error,
        })
      }
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
  }
}

/**
 * SIGINT to the postmaster (fast shutdown: sessions are terminated, a checkpoint is written). The
 * SIGTERM that `spawnService` sends would be a smart shutdown, which waits for every pooled
 * connection to close.
 */
async function fastShutdown(service: ServiceProcess, data: string): Promise<void> {
  const pid = postmasterPid(data)
  if (pid !== null && signal(pid, 'SIGINT')) {
    const deadline = Date.now() + 10_000
    while (signal(pid, 0)) {
      if (Date.now() > deadline) {
        signal(pid, 'SIGQUIT')
        break
      }
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
  }
  await service.stop()
}

/** The postmaster's pid from its lock file, or null when it is not running. */
function postmasterPid(data: string): number | null {
  const pidFile = join(data, 'postmaster.pid')
  if (!existsSync(pidFile)) return null
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10)
  return Number.isInteger(pid) && pid > 0 ? pid : null
}

/** `process.kill` that returns false instead of throwing when the process is gone. */
function signal(pid: number, name: NodeJS.Signals | 0): boolean {
  try {
    process.kill(pid, name)
    return true
  } catch {
    return false
  }
}
