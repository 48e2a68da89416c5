/**
 * Starting real services for tests: free loopback ports, binaries that may be missing, processes
 * that must stop with the test. A test whose binary is missing skips loudly; with
 * SESSIONWARE_REQUIRE_SERVICES=1 (CI) it fails instead.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer, Socket } from 'node:net'
import type { TestContext } from 'node:test'

/** True when CI asked for every service to be present. */
export const servicesRequired: boolean = process.env.SESSIONWARE_REQUIRE_SERVICES === '1'

/** A free TCP port on 127.0.0.1 (the OS picks it; the listener is closed again at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

/** The absolute path of a binary found on PATH (or at one of `also`), or null. */
export function findBinary(name: string, also: string[] = []): string | null {
  for (const candidate of also) if (existsSync(candidate)) return candidate
  const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' })
  const path = found.stdout.trim()
  return found.status === 0 && path ? path : null
}

/**
 * Finds a binary or deals with its absence: returns null after `t.skip(…)` with a loud reason, or
 * throws when services are required.
 */
export function requireBinary(
  t: TestContext,
  name: string,
  install: string,
  also: string[] = [],
): string | null {
  const path = findBinary(name, also)
  if (path) return path
  const reason = `${name} not found (install: ${install})`
  if (servicesRequired) throw new Error(`SESSIONWARE_REQUIRE_SERVICES=1 but ${reason}`)
  process.stderr.write(`\n  SKIPPED: ${reason}\n`)
  t.skip(reason)
  return null
}

/** Resolves when 127.0.0.1:port accepts a connection; rejects after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const socket = new Socket()
      socket.setTimeout(500)
      socket.once('connect', () => {
        socket.destroy()
        resolve(true)
      })
      socket.once('timeout', () => {
        socket.destroy()
        resolve(false)
      })
      socket.once('error', () => resolve(false))
      socket.connect(port, '127.0.0.1')
    })
    if (ok) return
    if (Date.now() > deadline)
      throw new Error(`nothing listens on 127.0.0.1:${port} after ${timeoutMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}

const running = new Set<ChildProcess>()
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL')
})

/** A service process that can be stopped and started again (for outage tests). */
export interface ServiceProcess {
  readonly port: number
  /** Stops the process (SIGTERM, then SIGKILL after 3 s). */
  stop(): Promise<void>
  /** Starts it again with the same arguments and port, and waits for the port. */
  start(): Promise<void>
}

/**
 * Spawns `command args` (which must listen on 127.0.0.1:`port`), waits for the port, and stops it
 * when `owner` ends (a TestContext, or `{ after }` from node:test for a whole file; null: when the
 * test process exits). The process is killed if the test process exits in any case.
 */
export async function spawnService(
  owner: Pick<TestContext, 'after'> | { after: (fn: () => unknown) => void } | null,
  command: string,
  args: string[],
  port: number,
  options: { env?: NodeJS.ProcessEnv; cwd?: string } = {},
): Promise<ServiceProcess> {
  let child: ChildProcess | null = null
  let output = ''
  const start = async (): Promise<void> => {
    const spawned = spawn(command, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: options.env ?? process.env,
      cwd: options.cwd,
    })
    child = spawned
    running.add(spawned)
    spawned.stdout?.on('data', (chunk) => {
      output = (output + chunk).slice(-4000)
    })
    spawned.stderr?.on('data', (chunk) => {
      output = (output + chunk).slice(-4000)
    })
    spawned.once('exit', () => running.delete(spawned))
    try {
      await waitForPort(port)
    } catch (error) {
      spawned.kill('SIGKILL')
      throw new Error(`${command} did not start: ${(error as Error).message}\n${output}`)
    }
  }
  const stop = async (): Promise<void> => {
    const current = child
    child = null
    if (!current || current.exitCode !== null || current.signalCode !== null) return
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => current.kill('SIGKILL'), 3000)
      current.once('exit', () => {
        clearTimeout(timer)
        resolve()
      })
      current.kill('SIGTERM')
    })
  }
  await start()
  owner?.after(stop)
  return { port, stop, start }
}
