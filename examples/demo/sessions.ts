/**
 * The session manager every example builds from the demo's environment variables (`config.ts`):
 * the storage (`SESSION_STORE`, `SESSION_CODEC`, `SESSION_KEYS`, the server URLs and timeouts),
 * the cookie name and the timeouts. The demo and each `examples/<name>` share it, so they all
 * honour the same configuration.
 *
 * @module
 */
import { mkdir } from 'node:fs/promises'
import Database from 'better-sqlite3'
import { createBase64Codec } from '../../src/codecs/base64.ts'
import { createFernetCodec } from '../../src/codecs/fernet.ts'
import { createItsdangerousCodec } from '../../src/codecs/itsdangerous.ts'
import { createJwtCodec } from '../../src/codecs/jwt.ts'
import { createNaclCodec } from '../../src/codecs/nacl.ts'
import { createPlainCodec } from '../../src/codecs/plain.ts'
import { createSealedCodec } from '../../src/codecs/sealed.ts'
import { createSignedCodec } from '../../src/codecs/signed.ts'
import { createSimpleCodec } from '../../src/codecs/simple.ts'
import {
  type CookieCodec,
  createCookieStorage,
  createServerStorage,
  createSessions,
  SessionConfigError,
  type SessionOptions,
  type SessionStore,
} from '../../src/index.ts'
import { createMemoryStore } from '../../src/stores/memory.ts'
import { createSqliteStore } from '../../src/stores/sqlite.ts'
import { buildCompat } from './compat.ts'
import { cookieKeys, type DemoConfig, DemoConfigError, parseConfig } from './config.ts'
import { openServerStore } from './stores.ts'
import type { DemoSessions } from './web.ts'

/** What {@link sessionsFromEnv} builds. */
export interface EnvSessions {
  readonly sessions: DemoSessions
  /** The storage in words, such as `sqlite (/srv/demo/.demo-data/sessions.db)`. */
  readonly description: string
  /** Closes the store and any client made for it. */
  close(): Promise<void>
}

/** Options of {@link sessionsFromEnv}. */
export interface EnvSessionsOptions {
  /** Receives warnings. @default console.error */
  log?: (message: string) => void
}

interface Built {
  storage: SessionOptions['storage']
  description: string
  /** Closes the store and any client made for it. */
  close: () => Promise<void>
}

/**
 * The demo's SQLite store. A database that an earlier sessionware (store contract v1) wrote holds
 * only demo sessions: its table is replaced, with a warning, instead of failing every request (an
 * application would migrate or drop it itself; the store refuses it with a SessionConfigError).
 */
async function openDemoSqlite(path: string, log: (message: string) => void): Promise<SessionStore> {
  const store = createSqliteStore(path)
  try {
    await store.get('demo-layout-probe')
    return store
  } catch (error) {
    await store.close()
    if (!(error instanceof SessionConfigError)) throw error
  }
  const db = new Database(path)
  try {
    db.exec('DROP TABLE IF EXISTS sessionware_sessions')
  } finally {
    db.close()
  }
  log(
    `sessionware demo: ${path} held the session table of an earlier sessionware; replaced it (the demo sessions in it are gone)`,
  )
  return createSqliteStore(path)
}

async function buildStorage(config: DemoConfig, log: (message: string) => void): Promise<Built> {
  if (config.store === 'memory') {
    const store = createMemoryStore()
    return {
      storage: createServerStorage({ store }),
      description: 'memory (lost on restart)',
      close: async () => store.close?.(),
    }
  }
  if (config.store === 'redis' || config.store === 'memcached' || config.store === 'postgres') {
    const { store, description, close } = await openServerStore(config, log)
    return { storage: createServerStorage({ store }), description, close }
  }
  if (config.store === 'sqlite') {
    let store: SessionStore
    try {
      await mkdir(config.dataDir, { recursive: true })
      store = await openDemoSqlite(config.sqlitePath, log)
    } catch (error) {
      throw new DemoConfigError(
        `SQLITE_PATH: cannot open ${config.sqlitePath}: ${(error as Error).message}`,
      )
    }
    return {
      storage: createServerStorage({ store }),
      description: `sqlite (${config.sqlitePath})`,
      close: async () => store.close?.(),
    }
  }
  const codec = await cookieCodec(config, log)
  return {
    storage: createCookieStorage({ codec }),
    description: `cookie (${config.codec} codec)`,
    close: async () => {},
  }
}

/** The codec SESSION_CODEC names, with its keys. */
async function cookieCodec(
  config: DemoConfig,
  log: (message: string) => void,
): Promise<CookieCodec> {
  switch (config.codec) {
    case 'plain':
      return createPlainCodec()
    case 'base64':
      return createBase64Codec()
    case 'simple':
      return createSimpleCodec()
    default:
  }
  const keys = await cookieKeys(config, log)
  switch (config.codec) {
    case 'signed':
      return createSignedCodec({ keys })
    case 'fernet':
      return createFernetCodec({ keys })
    case 'nacl':
      return createNaclCodec({ keys })
    case 'jwt':
      return createJwtCodec({ keys })
    case 'itsdangerous':
      return createItsdangerousCodec({ keys })
    default:
      return createSealedCodec({ keys })
  }
}

/**
 * Builds the session manager from environment variables (see `config.ts`). Sessions on server
 * storage keep their browser and last address (`clientInfo`) for the "your sessions" page; a
 * `SESSION_COMPAT` preset is used as it is (its records are shared with the Python side).
 *
 * @throws {DemoConfigError} for an invalid configuration.
 */
export async function sessionsFromEnv(
  env: Record<string, string | undefined>,
  options: EnvSessionsOptions = {},
): Promise<EnvSessions> {
  const log = options.log ?? ((message: string) => console.error(message))
  const config = parseConfig(env)
  let built: Built
  let preset: SessionOptions | undefined
  let sessions: DemoSessions
  try {
    // With the default SQLite storage the secret is made on the first run too, next to the
    // database, so that switching to SESSION_STORE=cookie later keeps working without
    // configuration; server storage itself does not use it.
    if (config.store === 'sqlite' && config.keys === undefined) await cookieKeys(config, log)
    if (config.compat !== undefined) {
      const compat = await buildCompat(config, log)
      built = { ...compat, storage: compat.options.storage }
      preset = compat.options
    } else built = await buildStorage(config, log)
  } catch (error) {
    if (error instanceof SessionConfigError) throw new DemoConfigError(error.message)
    throw error
  }
  try {
    sessions = createSessions(
      preset ?? {
        storage: built.storage,
        cookie: { name: config.cookieName },
        idleTimeout: config.idleTimeout,
        absoluteTimeout: config.absoluteTimeout,
        // "Your sessions" shows each session's browser and last address (server storage only).
        clientInfo: true,
      },
    )
  } catch (error) {
    await built.close()
    if (!(error instanceof SessionConfigError)) throw error
    const name = error.message.startsWith('cookie.') || error.message.includes('__Host-')
    throw new DemoConfigError(name ? `SESSION_COOKIE_NAME: ${error.message}` : error.message)
  }
  return { sessions, description: built.description, close: built.close }
}
