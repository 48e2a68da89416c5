/**
 * Starting an example the way `npm run example <name>` does (through examples/run.ts), for the
 * examples' tests over HTTP and in the browser. Not part of the package.
 *
 * @module
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { join } from 'node:path'
import type { TestContext } from 'node:test'

const ROOT = join(import.meta.dirname, '..', '..')
const START_TIMEOUT_MS = 30_000

/** The framework examples, each `examples/<name>/main.ts`. */
export const EXAMPLES = ['node', 'fetch', 'express', 'fastify', 'koa', 'hono'] as const

/**
 * Starts `npm run example <name>` (through examples/run.ts, as npm does) with `env`; resolves to
 * the base URL the example printed. The process is stopped after the test.
 */
export async function startExample(
  t: TestContext,
  name: string,
  env: Record<string, string>,
  runtime = 'node',
): Promise<string> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'examples', 'run.ts'), name, `--runtime=${runtime}`],
    {
      cwd: ROOT,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, HOST: '127.0.0.1', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  )
  t.after(
    () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve()
        child.once('exit', () => resolve())
        child.kill('SIGTERM')
        setTimeout(() => child.kill('SIGKILL'), 5000).unref()
      }),
  )
  let output = ''
  return new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} did not start within ${START_TIMEOUT_MS} ms:\n${output}`)),
      START_TIMEOUT_MS,
    )
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      const match = /listening on (http:\/\/\S+)/.exec(output)
      if (match !== null) {
        clearTimeout(timer)
        resolve((match[1] as string).replace(/\/$/, ''))
      }
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`${name} exited with ${code} before listening:\n${output}`))
    })
  })
}
