/**
 * Property tests of the commit against a model: random operations in random requests on one
 * session, run one after another and interleaved (all load, then commit in a random order), on the
 * memory store. Field-level semantics: each key (and flash key) ends with the value of the last
 * request that committed a change to it; a logout ends the session for every later commit.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import {
  createServerStorage,
  createSessions,
  type Session,
  type SessionManager,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'

const KEYS = ['a', 'b', 'c', '__proto__', 'constructor'] as const
type Key = (typeof KEYS)[number]
type Op =
  | { op: 'set'; key: Key; value: number }
  | { op: 'delete'; key: Key }
  | { op: 'pop'; key: Key }
  | { op: 'update'; values: Partial<Record<Key, number | undefined>> }
  | { op: 'flash'; key: Key; value: number }
  | { op: 'getFlash'; key: Key }
  | { op: 'clear' }

const key = fc.constantFrom(...KEYS)
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant('delete' as const), key }),
  fc.record({ op: fc.constant('pop' as const), key }),
  fc.record({
    op: fc.constant('update' as const),
    values: fc.dictionary(key, fc.option(fc.integer(), { nil: undefined }), {
      maxKeys: 3,
    }) as fc.Arbitrary<Partial<Record<Key, number | undefined>>>,
  }),
  fc.record({ op: fc.constant('flash' as const), key, value: fc.integer() }),
  fc.record({ op: fc.constant('getFlash' as const), key }),
  fc.record({ op: fc.constant('clear' as const) }),
)
const request = fc.record({ ops: fc.array(op, { maxLength: 6 }), logout: fc.boolean() })

type Dict = Map<string, unknown>

/** Applies ops to the session and to a model of what the request changed (key → value|undefined). */
function apply(session: Session, ops: readonly Op[], data: Dict, flash: Dict): void {
  for (const o of ops) {
    switch (o.op) {
      case 'set':
        session.set(o.key, o.value)
        data.set(o.key, o.value)
        break
      case 'delete':
      case 'pop':
        // Deleting a key this request does not see is no change: a concurrent write of it stays.
        if (session.has(o.key)) data.set(o.key, undefined)
        if (o.op === 'delete') session.delete(o.key)
        else session.pop(o.key)
        break
      case 'update':
        for (const [k, v] of Object.entries(o.values)) {
          if (v !== undefined || session.has(k as Key)) data.set(k, v)
        }
        session.update(o.values)
        break
      case 'flash':
        session.flash(o.key, o.value)
        flash.set(o.key, o.value)
        break
      case 'getFlash':
        if (session.hasFlash(o.key)) {
          session.getFlash(o.key)
          if (!flash.has(o.key)) flash.set(o.key, undefined)
        }
        break
      case 'clear':
        session.clear()
        for (const k of KEYS) data.set(k, undefined)
        break
    }
  }
}

const transport = () => ({ encrypted: false, host: 'localhost' })

async function start(): Promise<{ sessions: SessionManager; cookie: string }> {
  const sessions = createSessions({ storage: createServerStorage({ store: createMemoryStore() }) })
  const req = {}
  const attached = sessions.attach(req, undefined, transport)
  const session = await sessions.getSession(req)
  session.update({ a: 0, b: 0 })
  session.flash('a', 0)
  const [header] = await attached.commit()
  return { sessions, cookie: (header as string).split(';')[0] as string }
}

/** What the session holds now (data, and flash values as consumed by the reading request). */
async function contents(sessions: SessionManager, cookie: string) {
  const req = {}
  sessions.attach(req, cookie, transport)
  const session = await sessions.getSession(req)
  let flash: Record<string, unknown> = {}
  const read = new Map<string, unknown>()
  for (const k of KEYS) if (session.hasFlash(k)) read.set(k, session.getFlash(k))
  flash = merged(flash, read)
  return { isNew: session.isNew, data: { ...session.toJSON() }, flash }
}

function merged(base: Record<string, unknown>, changes: Dict): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base }
  for (const [k, v] of changes) {
    if (v === undefined) delete out[k]
    else
      Object.defineProperty(out, k, {
        value: v,
        enumerable: true,
        writable: true,
        configurable: true,
      })
  }
  return out
}

describe('commit, against a model', () => {
  it('interleaved requests keep every change per key; the last committer of a key wins', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(request, { minLength: 1, maxLength: 5 }),
        fc.array(fc.nat(), { minLength: 5, maxLength: 5 }),
        async (requests, shuffle) => {
          const { sessions, cookie } = await start()
          const runs = await Promise.all(
            requests.map(async (r) => {
              const req = {}
              const attached = sessions.attach(req, cookie, transport)
              const session = await sessions.getSession(req)
              const data: Dict = new Map()
              const flash: Dict = new Map()
              apply(session, r.ops, data, flash)
              if (r.logout) session.invalidate()
              return { attached, data, flash, logout: r.logout }
            }),
          )
          const order = runs.map((_, i) => i)
          for (let i = order.length - 1; i > 0; i--) {
            const j = (shuffle[i] as number) % (i + 1)
            ;[order[i], order[j]] = [order[j] as number, order[i] as number]
          }
          let data: Record<string, unknown> = { a: 0, b: 0 }
          let flash: Record<string, unknown> = { a: 0 }
          let ended = false
          for (const index of order) {
            const run = runs[index] as (typeof runs)[number]
            await run.attached.commit()
            if (run.logout) ended = true
            if (ended) continue
            data = merged(data, run.data)
            flash = merged(flash, run.flash)
          }
          const now = await contents(sessions, cookie)
          if (ended) assert.deepEqual(now, { isNew: true, data: {}, flash: {} })
          else assert.deepEqual(now, { isNew: false, data, flash })
        },
      ),
      { numRuns: 60 },
    )
  })

  it('requests one after another behave like one sequence of operations', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 5 }), async (requests) => {
        const { sessions, cookie } = await start()
        let data: Record<string, unknown> = { a: 0, b: 0 }
        let flash: Record<string, unknown> = { a: 0 }
        for (const r of requests) {
          const req = {}
          const attached = sessions.attach(req, cookie, transport)
          const session = await sessions.getSession(req)
          const changes: Dict = new Map()
          const flashChanges: Dict = new Map()
          apply(session, r.ops, changes, flashChanges)
          await attached.commit()
          data = merged(data, changes)
          flash = merged(flash, flashChanges)
        }
        assert.deepEqual(await contents(sessions, cookie), { isNew: false, data, flash })
      }),
      { numRuns: 60 },
    )
  })
})
