/**
 * Real Redis servers for tests: a standalone `redis-server` or a three-master Redis Cluster on free
 * loopback ports. A missing binary skips the test loudly (or fails under
 * SESSIONWARE_REQUIRE_SERVICES=1).
 *
 * `sharedRedis(t)` / `sharedRedisCluster(t)` start one server (cluster) per test file, on first use,
 * and stop it after the file's last test; tests sharing it must use random keys. `startRedis(t)` /
 * `startRedisCluster(t)` start a private one that stops when the test `t` ends (for outage tests).
 *
 * Not part of the package.
 *
 * @module
 */

import { execFile } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, type TestContext } from 'node:test'
import {
  findBinary,
  freePort,
  requireBinary,
  type ServiceProcess,
  spawnService,
} from './services.ts'

const INSTALL = 'apt-get install redis-server (or brew install redis)'
const REDIS_PATHS = ['/usr/bin/redis-server', '/usr/local/bin/redis-server']
const CLI_PATHS = ['/usr/bin/redis-cli', '/usr/local/bin/redis-cli']

/** A running redis-server. */
export interface RedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  /** The server's temporary working directory (AOF files live here when `persistent`). */
  readonly dir: string
  /** Stops the process (SIGTERM: a persistent server flushes its AOF first). */
  stop(): Promise<void>
  /** Starts it again on the same port and directory, and waits for the port. */
  start(): Promise<void>
}

/** Options of {@link startRedis}. */
export interface RedisServerOptions {
  /**
   * Keep data across `stop()`/`start()`: append-only file with `appendfsync always` in the
   * server's temporary directory. Otherwise nothing is persisted and a restart starts empty.
   *
   * @default false
   */
  persistent?: boolean
}

/** A running three-master Redis Cluster (no replicas), every slot assigned. */
export interface RedisCluster {
  readonly nodes: readonly {
    readonly host: '127.0.0.1'
    readonly port: number
    readonly url: string
  }[]
  /** Stops every node. */
  stop(): Promise<void>
}

type Owner = { after: (fn: () => unknown) => void }

/** Cleanups of the shared servers of this test file, run in order after its last test. */
const fileCleanups: (() => unknown)[] = []
after(async () => {
  for (const cleanup of fileCleanups.splice(0)) await cleanup()
})
const fileScope: Owner = { after: (fn) => fileCleanups.push(fn) }

/** Starts a redis-server that stops (and loses its directory) when `t` ends. */
export function startRedis(
  t: TestContext,
  options: RedisServerOptions = {},
): Promise<RedisServer | null> {
  const binary = requireBinary(t, 'redis-server', INSTALL, REDIS_PATHS)
  if (binary === null) return Promise.resolve(null)
  return spawnRedis(t, binary, options)
}

let shared: Promise<RedisServer> | undefined
/** The test file's redis-server, started on first use (skips `t` when redis-server is missing). */
export function sharedRedis(t: TestContext): Promise<RedisServer | null> {
  const binary = requireBinary(t, 'redis-server', INSTALL, REDIS_PATHS)
  if (binary === null) return Promise.resolve(null)
  shared ??= spawnRedis(fileScope, binary, {})
  return shared
}

/** Starts a three-master cluster that stops when `t` ends. */
export function startRedisCluster(t: TestContext): Promise<RedisCluster | null> {
  const binaries = clusterBinaries(t)
  if (binaries === null) return Promise.resolve(null)
  return spawnCluster(t, binaries.server, binaries.cli)
}

let sharedCluster: Promise<RedisCluster> | undefined
/** The test file's cluster, started on first use (skips `t` when a binary is missing). */
export function sharedRedisCluster(t: TestContext): Promise<RedisCluster | null> {
  const binaries = clusterBinaries(t)
  if (binaries === null) return Promise.resolve(null)
  sharedCluster ??= spawnCluster(fileScope, binaries.server, binaries.cli)
  return sharedCluster
}

function clusterBinaries(t: TestContext): { server: string; cli: string } | null {
  const server = requireBinary(t, 'redis-server', INSTALL, REDIS_PATHS)
  if (server === null) return null
  const cli = requireBinary(t, 'redis-cli', INSTALL, CLI_PATHS)
  return cli === null ? null : { server, cli }
}

async function spawnRedis(
  owner: Owner,
  binary: string,
  options: RedisServerOptions,
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-redis-'))
  const port = await freePort()
  const persistence = options.persistent
    ? ['--appendonly', 'yes', '--appendfsync', 'always']
    : ['--appendonly', 'no']
  const args = [...baseArgs(port, dir), ...persistence]
  const service = await spawnService(owner, binary, args, port, { cwd: dir })
  // Registered after the service's own stop, so the directory goes once the server is down.
  owner.after(() => rmSync(dir, { recursive: true, force: true }))
  return { url: `redis://127.0.0.1:${port}`, port, dir, stop: service.stop, start: service.start }
}

function baseArgs(port: number, dir: string): string[] {
  return ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '']
}

async function spawnCluster(owner: Owner, server: string, cli: string): Promise<RedisCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-redis-cluster-'))
  const services: ServiceProcess[] = []
  const ports: number[] = []
  for (let i = 0; i < 3; i++) {
    // The cluster bus defaults to port + 10000, which may be taken or out of range: pick it too.
    const port = await freePort()
    const busPort = await freePort()
    const args = [
      ...baseArgs(port, dir),
      '--appendonly',
      'no',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, `nodes-${port}.conf`),
      '--cluster-port',
      String(busPort),
    ]
    services.push(await spawnService(owner, server, args, port, { cwd: dir }))
    ports.push(port)
  }
  owner.after(() => rmSync(dir, { recursive: true, force: true }))
  await exec(cli, [
    '--cluster',
    'create',
    ...ports.map((port) => `127.0.0.1:${port}`),
    '--cluster-replicas',
    '0',
    '--cluster-yes',
  ])
  const deadline = Date.now() + 20_000
  for (const port of ports) {
    for (;;) {
      const info = await exec(cli, ['-p', String(port), 'cluster', 'info'])
      if (info.includes('cluster_state:ok')) break
      if (Date.now() > deadline) throw new Error(`cluster not ok on port ${port}:\n${info}`)
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
  }
  return {
    nodes: ports.map((port) => ({
      host: '127.0.0.1' as const,
      port,
      url: `redis://127.0.0.1:${port}`,
    })),
    stop: async () => {
      for (const service of services) await service.stop()
    },
  }
}

function exec(command: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 20_000 }, (error, stdout, stderr) => {
      if (error)
        reject(new Error(`${command} ${args.join(' ')} failed: ${error.message}\n${stderr}`))
      else resolve(stdout)
    })
  })
}

/**
 * Runs `redis-cli -p <port> <args…>` and returns its output (for tests that inspect the server or
 * make it unresponsive with `DEBUG SLEEP` / `CLIENT PAUSE`).
 */
export function redisCli(port: number, ...args: string[]): Promise<string> {
  const cli = findBinary('redis-cli', CLI_PATHS) ?? 'redis-cli'
  return exec(cli, ['-p', String(port), ...args])
}
