/**
 * Where two servers' instructions per request differ, function by function: reads the callgrind
 * files that `bench/instructions.ts --keep` leaves, names the JIT's code with the map V8 writes
 * under `--perf-basic-prof` (`/tmp/perf-<pid>.map`; callgrind itself sees only addresses there),
 * and prints each function's instructions per request (its own, not its callees') in both, with
 * the largest differences first.
 *
 * ```sh
 * NODE_OPTIONS=--perf-basic-prof node --import tsx bench/instructions.ts --keep --processes 1 \
 *   --only sessionware-sealed,node-sodium-cookie-api --routes none,read-many
 * node --import tsx bench/functions.ts bench/results/instructions-XXXXXX \
 *   --routes none,read-many --route read-many sessionware-sealed node-sodium-cookie-api
 * ```
 *
 * `--routes` must repeat the count's own (in its order): the dumps follow it, repeat after repeat.
 * The map makes V8 log more, so the totals run higher than a count without it; read the
 * differences. The code a function name stands for can change within a process (V8 compiles it
 * again), so a few entries of one function may stay unnamed addresses.
 *
 * @module
 */

import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    routes: { type: 'string', default: 'none,read,read-many,write' },
    route: { type: 'string', default: 'read-many' },
    requests: { type: 'string', default: '5000' },
    repeat: { type: 'string', default: '2' },
    process: { type: 'string', default: '0' },
    top: { type: 'string', default: '40' },
  },
})

const [dir, ...servers] = positionals
if (dir === undefined || servers.length !== 2) {
  throw new Error('usage: bench/functions.ts <kept dir> [options] <server> <other server>')
}
const routes = values.routes.split(',')
const scenario = routes.indexOf(values.route)
if (scenario < 0) throw new Error(`--route ${values.route} is not in --routes ${values.routes}`)
const dump = (Number(values.repeat) - 1) * routes.length + scenario + 1
const requests = Number(values.requests)

/** A V8 code map: start, size and name of each piece of code, in the order V8 made them. */
type CodeMap = Array<[number, number, string]>

function readMap(pid: string): CodeMap {
  const file = `/tmp/perf-${pid}.map`
  if (!existsSync(file)) return []
  const map: CodeMap = []
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const [start, size, ...name] = line.split(' ')
    if (start && size && name.length > 0) {
      map.push([Number.parseInt(start, 16), Number.parseInt(size, 16), name.join(' ')])
    }
  }
  return map
}

/** The code at `address`: the latest piece of the map that covers it. */
function nameAt(map: CodeMap, address: number): string | undefined {
  for (let i = map.length - 1; i >= 0; i--) {
    const [start, size, name] = map[i] as [number, number, string]
    if (address >= start && address < start + size) return name
  }
  return undefined
}

/** Instructions per request of each function, in the chosen dump of a server's process. */
function functions(server: string): Map<string, number> {
  const out = join(dir as string, `${server}-${values.process}`)
  const file = readdirSync(out).find((f) => new RegExp(`^callgrind\\.\\d+\\.${dump}-01$`).test(f))
  if (file === undefined) throw new Error(`${out}: no dump ${dump} of the main thread`)
  const map = readMap(file.split('.')[1] as string)
  const annotated = execFileSync(
    'callgrind_annotate',
    ['--inclusive=no', '--threshold=100', join(out, file)],
    { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 },
  )
  const costs = new Map<string, number>()
  for (const line of annotated.split('\n')) {
    const match = /^\s*([\d,]+) \(\s*[\d.]+%\)\s+(.+)$/.exec(line)
    if (match === null || match[2]?.includes('PROGRAM TOTALS')) continue
    let name = (match[2] as string).replace(/ \[\/.*\]$/, '').replace('???:', '')
    const jit = /^0x([0-9a-f]+) \[\?\?\?\]$/.exec(name)
    if (jit !== null) name = nameAt(map, Number.parseInt(jit[1] as string, 16)) ?? name
    const cost = Number((match[1] as string).replaceAll(',', '')) / requests
    costs.set(name, (costs.get(name) ?? 0) + cost)
  }
  return costs
}

const [a, b] = servers.map(functions) as [Map<string, number>, Map<string, number>]
const sum = (m: Map<string, number>): number => [...m.values()].reduce((x, y) => x + y, 0)
const rows = [...new Set([...a.keys(), ...b.keys()])]
  .map((name) => ({ name, a: a.get(name) ?? 0, b: b.get(name) ?? 0 }))
  .sort((x, y) => Math.abs(y.a - y.b) - Math.abs(x.a - x.b))
  .slice(0, Number(values.top))
const n = (x: number): string => x.toFixed(0).padStart(7)
console.log(`instructions per request on ${values.route}, dump ${dump} (repeat ${values.repeat})`)
console.log(
  `${n(sum(a))} ${n(sum(b))} ${n(sum(a) - sum(b))}  in all: ${servers.join(', ')}, difference`,
)
for (const r of rows) console.log(`${n(r.a)} ${n(r.b)} ${n(r.a - r.b)}  ${r.name.slice(0, 120)}`)
