/**
 * The benchmark's own PostgreSQL, for the PostgreSQL targets: `initdb` into a temporary directory
 * (trust authentication, no fsync), `postgres` on a free port of 127.0.0.1, pinned with taskset
 * like redis-server, a database `sessionware_bench`; stopped (fast shutdown) and removed at the end
 * of the run. Running as root, it runs as the `postgres` system user (PostgreSQL refuses root).
 * Without the binaries the PostgreSQL targets are skipped.
 *
 * @module
 */

import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process'
import { chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'

/** A running PostgreSQL of the benchmark. */
export interface PostgresServer {
  readonly url: string
  readonly version: string
  stop(): Promise<void>
}

const CANDIDATES = [
  '/usr/lib/postgresql/17/bin',
  '/usr/lib/postgresql/16/bin',
  '/usr/lib/postgresql/15/bin',
]

function findBinary(name: string): string | null {
  for (const dir of CANDIDATES) if (existsSync(join(dir, name))) return join(dir, name)
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  return found.status === 0 && found.stdout.trim() ? found.stdout.trim() : null
}

/** The `initdb` binary, or null when PostgreSQL is not installed. */
export function postgresBinary(): string | null {
  return findBinary('initdb')
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The uid and gid to run as: the `postgres` user's when we are root. */
function runAs(): { uid: number; gid: number } | null {
  if (process.getuid?.() !== 0) return null
  const id = (flag: string): number =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim())
  return { uid: id('-u'), gid: id('-g') }
}

/** Live servers, killed from exit handlers. */
const live = new Set<ChildProcess>()

/** Kills every PostgreSQL started here that still runs (for exit and signal handlers). */
export function killPostgresServers(): void {
  for (const child of live) child.kill('SIGQUIT')
  live.clear()
}

async function waitForQueries(url: string): Promise<void> {
  const { default: pg } = await import('pg')
  const deadline = Date.now() + 20_000
  for (;;) {
    const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 })
    client.on('error', () => {})
    try {
      await client.connect()
      await client.query('SELECT 1')
      await client.end()
      return
    } catch (error) {
      await client.end().catch(() => {})
      if (Date.now() > deadline)
        throw new Error('PostgreSQL did not answer within 20 s', { cause: error })
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
}

/** Starts PostgreSQL (pinned to `cpu` when given) and creates the benchmark's database. */
export async function startPostgres(
  initdb: string,
  cpu: number | undefined,
): Promise<PostgresServer> {
  const bin = dirname(initdb)
  const postgres = existsSync(join(bin, 'postgres'))
    ? join(bin, 'postgres')
    : findBinary('postgres')
  if (postgres === null) throw new Error(`initdb at ${initdb}, but no postgres binary`)
  const user = runAs()
  const root = mkdtempSync(join(tmpdir(), 'sessionware-bench-pg-'))
  const data = join(root, 'data')
  mkdirSync(data, { mode: 0o700 })
  if (user) {
    chownSync(root, user.uid, user.gid)
    chownSync(data, user.uid, user.gid)
  }
  const env = { ...process.env, LC_ALL: 'C', LANG: 'C' }
  execFileSync(
    initdb,
    ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
    {
      env,
      cwd: root,
      stdio: 'ignore',
      ...(user ?? {}),
    },
  )
  const port = await freePort()
  const args = ['-D', data, '-p', String(port), '-h', '127.0.0.1', '-k', root]
  for (const setting of [
    'fsync=off',
    'synchronous_commit=off',
    'full_page_writes=off',
    'max_connections=100',
  ]) {
    args.push('-c', setting)
  }
  const command: string[] = cpu === undefined ? [] : ['taskset', '-c', String(cpu)]
  if (user) command.push('setpriv', `--reuid=${user.uid}`, `--regid=${user.gid}`, '--clear-groups')
  command.push(postgres, ...args)
  const child = spawn(command[0] as string, command.slice(1), { env, cwd: root, stdio: 'ignore' })
  live.add(child)
  child.once('exit', () => live.delete(child))
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`
  await waitForQueries(admin)
  const { default: pg } = await import('pg')
  const client = new pg.Client({ connectionString: admin })
  await client.connect()
  await client.query('CREATE DATABASE sessionware_bench')
  const version = (
    (await client.query('SHOW server_version')).rows[0] as { server_version: string }
  ).server_version
  await client.end()
  return {
    url: `postgres://postgres@127.0.0.1:${port}/sessionware_bench`,
    version,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(() => child.kill('SIGQUIT'), 10_000)
          child.once('exit', () => {
            clearTimeout(timer)
            resolve()
          })
          child.kill('SIGINT') // fast shutdown
        })
      }
      rmSync(root, { recursive: true, force: true })
    },
  }
}
