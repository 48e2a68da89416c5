/**
 * Redis commands per request, counted outside the timed load: for every scenario, a number of
 * sequential requests with a valid cookie (the seed cookie, or the first rotating cookies) between
 * two `INFO commandstats` snapshots; a MONITOR connection, open only meanwhile, tells the commands
 * the server sent from those its Lua scripts ran. Nothing else talks to Redis then.
 *
 * @module
 */

import { readFileSync } from 'node:fs'
import { Agent } from 'node:http'
import { get, type Prepared } from './client.ts'
import type { RunningServer } from './processes.ts'
import type { RedisServer } from './redis-server.ts'
import type { Scenario } from './targets.ts'

/** The commands of one server on one scenario, per request. */
export interface CommandCount {
  readonly target: string
  readonly scenario: Scenario['name']
  readonly requests: number
  /** Commands the server sent to Redis, per request. */
  readonly sent: number
  /** Per command (lowercase name): calls per request, those run by scripts included. */
  readonly commands: Record<string, number>
  /** Per command: calls per request that Lua scripts made (part of `commands`). */
  readonly inScripts: Record<string, number>
}

/** Counts the commands a Redis server's routes issue. */
export async function countCommands(
  redis: RedisServer,
  server: RunningServer,
  p: Prepared,
  scenarios: readonly Scenario[],
  requests: number,
): Promise<CommandCount[]> {
  const seed = readFileSync(p.oneFile, 'utf8').trim()
  const many = readFileSync(p.manyFile, 'utf8').split('\n').filter(Boolean)
  const agent = new Agent({ keepAlive: true, maxSockets: 1 })
  const perRequest = (map: Map<string, number>): Record<string, number> =>
    Object.fromEntries([...map].map(([name, n]) => [name, n / requests]))
  const sum = (r: Record<string, number>): number => Object.values(r).reduce((a, b) => a + b, 0)
  const counts: CommandCount[] = []
  try {
    for (const scenario of scenarios) {
      if (scenario.rotate && many.length === 0) continue
      const calls = await redis.countCommands(async () => {
        for (let i = 0; i < requests; i++) {
          const cookie = scenario.rotate ? many[i % many.length] : seed
          const answer = await get(server.port, `/${scenario.route}`, cookie, agent)
          if (answer.status !== 200) {
            throw new Error(`${server.target.name} /${scenario.route}: status ${answer.status}`)
          }
        }
      })
      const commands = perRequest(calls.all)
      const inScripts = perRequest(calls.inScripts)
      counts.push({
        target: server.target.name,
        scenario: scenario.name,
        requests,
        sent: sum(commands) - sum(inScripts),
        commands,
        inScripts,
      })
    }
  } finally {
    agent.destroy()
  }
  return counts
}

/** One line per server and scenario: `sent 1.00: hgetall 1.00; in scripts: …`. */
export function commandLines(counts: readonly CommandCount[]): string[] {
  const f = (r: Record<string, number>): string =>
    Object.entries(r)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(', ')
  return counts.map((c) => {
    const sent = Object.fromEntries(
      Object.entries(c.commands)
        .map(([name, n]) => [name, n - (c.inScripts[name] ?? 0)] as const)
        .filter(([, n]) => n > 0),
    )
    const scripts = f(c.inScripts)
    return `  ${c.target.padEnd(28)} ${c.scenario.padEnd(10)} sent ${c.sent.toFixed(2)}: ${f(sent) || '-'}${scripts ? `; in scripts: ${scripts}` : ''}`
  })
}
