/**
 * One benchmark server, run as a child process by the orchestrator (compiled to
 * bench/results/build first): `node bench/server.js <target>`. It listens on a free port of
 * 127.0.0.1 and talks over the IPC channel:
 *
 * - it sends `{ type: 'ready', port, prefill? }` once listening (`prefill`: when `BENCH_PREFILL`
 *   asked a sessionware server to create that many sessions first, their report, with the cookies
 *   of `BENCH_SAMPLE` of them);
 * - `{ type: 'cpu' }` → `{ type: 'cpu', micros }`: the CPU time it has used so far;
 * - `{ type: 'profile', action: 'start' }` and `{ type: 'profile', action: 'stop', file }` →
 *   `{ type: 'profile', ok }`: a V8 CPU profile of what ran in between, written to `file`;
 * - `{ type: 'stop' }`: closes the server and its clients, then exits.
 *
 * Every server answers the same three routes with the same body, `{"n":<value>}`: `/none` never
 * touches the session, `/read` reads key `n` (bare servers answer `{"n":1}`), `/write` increments it
 * (bare: `{"n":2}`), so the response carries a new Set-Cookie.
 *
 * @module
 */

import { writeFileSync } from 'node:fs'
import { Session as Inspector } from 'node:inspector/promises'
import { setFlagsFromString } from 'node:v8'
import { cleanups, type Listening } from './servers/common.ts'
import { startExpress } from './servers/express.ts'
import { startFastify } from './servers/fastify.ts'
import { startHono } from './servers/hono.ts'
import { startKoa } from './servers/koa.ts'
import { startNode } from './servers/node.ts'
import { type PrefillReport, prefill } from './servers/prefill.ts'
import { type Manager, sessionwareManager } from './servers/sessionware.ts'
import { type Target, targetByName } from './targets.ts'

type Message = { type?: string; action?: string; file?: string }

const STARTERS = {
  node: startNode,
  express: startExpress,
  fastify: startFastify,
  koa: startKoa,
  hono: startHono,
} as const

async function start(target: Target): Promise<{ server: Listening; report?: PrefillReport }> {
  const count = Number(process.env.BENCH_PREFILL ?? 0)
  let manager: Manager | undefined
  let report: PrefillReport | undefined
  if (target.kind === 'sessionware') {
    manager = await sessionwareManager(target, count)
    if (count > 0) {
      const sample = Number(process.env.BENCH_SAMPLE ?? 10_000)
      report = await prefill(target, manager.sessions, count, sample)
    }
  }
  const server = await STARTERS[target.framework](target, manager)
  // A ceiling server of the scale run fills its own store (bench/servers/memory-lookup.ts).
  report ??= server.report
  return report === undefined ? { server } : { server, report }
}

/** Starts and stops V8's CPU profiler on request. */
function profiler() {
  let session: Inspector | undefined
  return async (message: Message): Promise<void> => {
    if (message.action === 'start') {
      session = new Inspector()
      session.connect()
      await session.post('Profiler.enable')
      await session.post('Profiler.setSamplingInterval', { interval: 100 })
      await session.post('Profiler.start')
    } else if (session !== undefined && typeof message.file === 'string') {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(message.file, JSON.stringify(profile))
      session.disconnect()
      session = undefined
    }
  }
}

async function main(): Promise<void> {
  // BENCH_V8_FLAGS: V8 flags set before anything runs, for A/B runs of bench/ab.ts (node refuses
  // most V8 flags in NODE_OPTIONS); for example `--no-allocation-site-pretenuring`.
  const flags = process.env.BENCH_V8_FLAGS
  if (flags) setFlagsFromString(flags)
  const name = process.argv[2] ?? ''
  const target = targetByName(name)
  if (target === undefined) throw new Error(`unknown target ${JSON.stringify(name)}`)
  if (typeof process.send !== 'function') throw new Error('bench/server.ts runs under bench/run.ts')
  // The orchestrator went away without saying stop (even during a prefill): do not linger.
  process.on('disconnect', () => process.exit(0))
  const { server, report } = await start(target)
  const profile = profiler()
  process.on('message', (message: Message) => {
    if (message?.type === 'cpu') {
      // CPU time of the whole process (every thread: GC helpers included), in microseconds.
      const usage = process.cpuUsage()
      process.send?.({ type: 'cpu', micros: usage.user + usage.system })
    } else if (message?.type === 'profile') {
      profile(message).then(
        () => process.send?.({ type: 'profile', ok: true }),
        (error: unknown) => process.send?.({ type: 'profile', ok: false, error: String(error) }),
      )
    } else if (message?.type === 'stop') {
      setTimeout(() => process.exit(0), 3000).unref()
      void server
        .stop()
        .then(() => Promise.allSettled(cleanups.map((cleanup) => cleanup())))
        .finally(() => process.exit(0))
    }
  })
  process.send({ type: 'ready', port: server.port, ...(report ? { prefill: report } : {}) })
}

main().catch((error: unknown) => {
  console.error(error)
  process.exit(1)
})
