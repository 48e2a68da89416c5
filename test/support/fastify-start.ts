/**
 * Starting a Fastify app with the sessionware plugin on 127.0.0.1 at a free port for one test.
 * Shared by the Fastify adapter's test files; not part of the package.
 *
 * @module
 */
import type { AddressInfo } from 'node:net'
import type { TestContext } from 'node:test'
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify'
import { fastifySessions } from '../../src/adapters/fastify.ts'
import type { SessionManager } from '../../src/index.ts'
import {
  createFixture,
  type Fixture,
  type FixtureOptions,
  type StorageKind,
} from './adapter-suite.ts'
import { Client } from './http.ts'

/** Listens on 127.0.0.1:0 and closes the app after the test; resolves to the base URL. */
export async function listen(t: TestContext, app: FastifyInstance): Promise<string> {
  t.after(() => app.close())
  await app.listen({ host: '127.0.0.1', port: 0 })
  const { port } = app.server.address() as AddressInfo
  return `http://127.0.0.1:${port}`
}

/** What {@link startFastify} starts. */
export interface StartedFastify {
  readonly app: FastifyInstance
  readonly fixture: Fixture
  readonly client: Client
  readonly base: string
}

/**
 * A fresh fixture (cookie storage unless `kind` says otherwise) behind a Fastify app that
 * registers the plugin at its root (with `options.fastify` as Fastify's own options), then lets
 * `build` add routes, hooks and error handlers.
 */
export async function startFastify(
  t: TestContext,
  build: (app: FastifyInstance, sessions: SessionManager) => void | Promise<void>,
  options: { kind?: StorageKind; fixture?: FixtureOptions; fastify?: FastifyServerOptions } = {},
): Promise<StartedFastify> {
  const fixture = createFixture(options.kind ?? 'cookie', options.fixture)
  if (fixture.store) {
    const inner = fixture.store.inner
    t.after(() => inner.close())
  }
  const app = Fastify(options.fastify)
  await app.register(fastifySessions, { sessions: fixture.sessions })
  await build(app, fixture.sessions)
  const base = await listen(t, app)
  return { app, fixture, client: new Client(base), base }
}
