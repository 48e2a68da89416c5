/**
 * The demo's configuration, read from environment variables. This block and the table at the top
 * of `examples/demo/README.md` are the two places that document it; keep them in step.
 *
 * | Variable                   | Default                                       | Meaning                                                                                                                                       |
 * | -------------------------- | --------------------------------------------- | --------------------------------------------------------------------------------------------------------------------------------------------- |
 * | `SESSION_STORE`            | `sqlite`                                      | `sqlite`, `memory`, `cookie`, `redis`, `memcached` or `postgres`                                                                              |
 * | `SESSION_CODEC`            | `sealed`                                      | `sealed`, `signed`, `plain`, or a Python seed's `fernet`, `nacl`, `jwt`, `itsdangerous`, `base64`, `simple` (cookie storage only)             |
 * | `SESSION_COMPAT`           | none                                          | `aiohttp`, `starsessions`, `starlette` or `asgi`: share sessions with that Python library (see `compat.ts`)                                   |
 * | `SESSION_KEYS`             | a generated secret                            | comma-separated keys, newest first: the first writes, all read; 32+ characters for `sealed`/`signed`, else the Python side's form             |
 * | `SESSION_COOKIE_NAME`      | `session`                                     | the cookie's name (a `__Host-` or `__Secure-` name makes the cookie Secure)                                                                   |
 * | `SESSION_IDLE_TIMEOUT`     | the library's (14 days)                       | seconds without activity after which a session expires                                                                                        |
 * | `SESSION_ABSOLUTE_TIMEOUT` | the library's (30 days)                       | seconds after creation after which a session expires, however active                                                                          |
 * | `SQLITE_PATH`              | `.demo-data/sessions.db`                      | the SQLite database, relative to the working directory (its directory is created); the `secret` is kept next to it                            |
 * | `REDIS_URL`                | `redis://127.0.0.1:6379`                      | the Redis server (`redis` only): `redis://[[user]:password@]host[:port][/db]`, or `rediss://` for TLS                                         |
 * | `MEMCACHED_URL`            | `127.0.0.1:11211`                             | the memcached server (`memcached` only) as `host:port`                                                                                        |
 * | `DATABASE_URL`             | `postgres://postgres@127.0.0.1:5432/postgres` | the PostgreSQL database (`postgres` only): `postgres://user[:password]@host[:port]/database`; the demo creates its table there                |
 * | `SESSION_STORE_TIMEOUT`    | `5`                                           | seconds a call to Redis, memcached or PostgreSQL, or connecting to it, may take before the request gets a 503 (fractions allowed, up to 3600) |
 * | `HOST`                     | `127.0.0.1`                                   | the address to listen on                                                                                                                      |
 * | `PORT`                     | `3000`                                        | the port to listen on; `0` picks a free one                                                                                                   |
 *
 * When cookie storage needs keys (codec `sealed` or `signed`) and `SESSION_KEYS` is unset, a
 * secret is generated on the first run (32 random bytes, base64url), saved as `secret` with mode
 * 0600 in the directory of `SQLITE_PATH`, and reused on later runs; a warning on stderr says where
 * it is. With the default `sqlite` storage the secret is made on the first run too, next to the
 * database (SQLite sessions do not use it, but a later SESSION_STORE=cookie then works without
 * configuration); the other server storages make none.
 *
 * `REDIS_URL`, `MEMCACHED_URL` and `DATABASE_URL` are read (and checked) only when `SESSION_STORE`
 * names their store. When that server cannot be reached at startup, the demo warns on stderr and
 * starts anyway: requests that need a stored session answer 503 until the server is back (see
 * `stores.ts`). An unreachable server is a condition the app lives through, not a configuration
 * error.
 *
 * @module
 */
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { dirname, join, resolve } from 'node:path'
import { checkCompat, compatCodec, parseCompat } from './compat-config.ts'

/** A configuration value is invalid. `main.ts` prints the message and exits with code 2. */
export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError'
}

export type StoreKind = 'sqlite' | 'memory' | 'cookie' | 'redis' | 'memcached' | 'postgres'
export type CodecKind =
  | 'sealed'
  | 'signed'
  | 'plain'
  | 'fernet'
  | 'nacl'
  | 'jwt'
  | 'itsdangerous'
  | 'base64'
  | 'simple'
/** A Python library to share sessions with (`SESSION_COMPAT`). */
export type CompatKind = 'aiohttp' | 'starsessions' | 'starlette' | 'asgi'

/** The parsed configuration. Timeouts in seconds; paths absolute. */
export interface DemoConfig {
  readonly store: StoreKind
  readonly codec: CodecKind
  /** SESSION_COMPAT, when set. */
  readonly compat: CompatKind | undefined
  /** Keys from SESSION_KEYS, or undefined when unset. */
  readonly keys: string[] | undefined
  readonly cookieName: string
  readonly idleTimeout: number | undefined
  readonly absoluteTimeout: number | undefined
  readonly sqlitePath: string
  /** Where data lives: the directory of `sqlitePath`, also home of the generated secret. */
  readonly dataDir: string
  /**
   * The server of a `redis`, `memcached` or `postgres` store: REDIS_URL, MEMCACHED_URL
   * (`host:port`) or DATABASE_URL, checked. Undefined for the other stores.
   */
  readonly serverUrl: string | undefined
  /** SESSION_STORE_TIMEOUT: seconds a call to (or a connection to) that server may take. */
  readonly storeTimeout: number
}

const STORES: readonly string[] = ['sqlite', 'memory', 'cookie', 'redis', 'memcached', 'postgres']
const CODECS: readonly string[] = [
  'sealed',
  'signed',
  'plain',
  'fernet',
  'nacl',
  'jwt',
  'itsdangerous',
  'base64',
  'simple',
]
/** Codecs whose keys are sessionware's own (32+ characters); the others take the Python form. */
const OWN_KEYS: readonly string[] = ['sealed', 'signed']
const MIN_KEY_LENGTH = 32

/** The servers' defaults, documented in the table above. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379'
export const DEFAULT_MEMCACHED_URL = '127.0.0.1:11211'
export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres'
/** The stores' own default timeout, in seconds. */
export const DEFAULT_STORE_TIMEOUT = 5
const MAX_STORE_TIMEOUT = 3600

/** An env value, with blank counting as unset. */
function read(env: Record<string, string | undefined>, name: string): string | undefined {
  const value = env[name]?.trim()
  return value === undefined || value === '' ? undefined : value
}

function seconds(env: Record<string, string | undefined>, name: string): number | undefined {
  const value = read(env, name)
  if (value === undefined) return undefined
  if (!/^\d+$/.test(value) || Number(value) <= 0 || !Number.isSafeInteger(Number(value))) {
    throw new DemoConfigError(`${name} must be a positive whole number of seconds, got "${value}"`)
  }
  return Number(value)
}

/** SESSION_STORE_TIMEOUT: a positive number of seconds, fractions allowed, up to an hour. */
function storeTimeout(env: Record<string, string | undefined>): number {
  const value = read(env, 'SESSION_STORE_TIMEOUT')
  if (value === undefined) return DEFAULT_STORE_TIMEOUT
  const number = Number(value)
  if (!/^\d+(\.\d+)?$/.test(value) || number <= 0 || number > MAX_STORE_TIMEOUT) {
    throw new DemoConfigError(
      `SESSION_STORE_TIMEOUT must be a number of seconds above 0 and at most ${MAX_STORE_TIMEOUT} (such as 5 or 0.5), got "${value}"`,
    )
  }
  return number
}

/**
 * A URL for messages and the page footer: its password, if any, replaced by `***`. Returns the
 * text unchanged when it is not a URL.
 */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password === '') return url
    parsed.password = '***'
    return parsed.href
  } catch {
    return url
  }
}

/** REDIS_URL or DATABASE_URL: a URL with one of `protocols` and a host; `fallback` when unset. */
function serverUrl(
  env: Record<string, string | undefined>,
  name: string,
  fallback: string,
  protocols: readonly string[],
): string {
  const example = fallback
  const value = read(env, name) ?? fallback
  let url: URL
  try {
    url = new URL(value)
  } catch {
    // Not echoed: the value may hold a password.
    throw new DemoConfigError(`${name} is not a valid URL; expected one such as ${example}`)
  }
  const schemes = protocols.map((protocol) => `${protocol}//`).join(' or ')
  if (!protocols.includes(url.protocol)) {
    throw new DemoConfigError(
      `${name} must start with ${schemes} (such as ${example}), got "${url.protocol}//…"`,
    )
  }
  if (url.hostname === '') {
    throw new DemoConfigError(`${name} must name a host, such as ${example}`)
  }
  return value
}

/** MEMCACHED_URL: `host:port`, as memcache-client takes it. */
function memcachedServer(env: Record<string, string | undefined>): string {
  const value = read(env, 'MEMCACHED_URL') ?? DEFAULT_MEMCACHED_URL
  const match = /^([^\s:/@[\]]+):(\d{1,5})$/.exec(value)
  const port = Number(match?.[2])
  if (match === null || port < 1 || port > 65_535) {
    throw new DemoConfigError(
      `MEMCACHED_URL must be host:port with a port from 1 to 65535 (such as ${DEFAULT_MEMCACHED_URL}), got "${value}"`,
    )
  }
  return value
}

/** The server of the chosen store, checked; undefined for stores that have none. */
function serverOf(store: string, env: Record<string, string | undefined>): string | undefined {
  if (store === 'redis') {
    return serverUrl(env, 'REDIS_URL', DEFAULT_REDIS_URL, ['redis:', 'rediss:'])
  }
  if (store === 'postgres') {
    return serverUrl(env, 'DATABASE_URL', DEFAULT_DATABASE_URL, ['postgres:', 'postgresql:'])
  }
  if (store === 'memcached') return memcachedServer(env)
  return undefined
}

/**
 * Parses the environment.
 *
 * @throws {DemoConfigError} for an invalid value.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  cwd: string = process.cwd(),
): DemoConfig {
  const compat = parseCompat(env)
  const store = read(env, 'SESSION_STORE') ?? (compat ? 'cookie' : 'sqlite')
  if (!STORES.includes(store)) {
    throw new DemoConfigError(
      `SESSION_STORE must be sqlite, memory, cookie, redis, memcached or postgres, got "${store}"`,
    )
  }
  const codec = read(env, 'SESSION_CODEC') ?? (compat ? compatCodec(compat) : 'sealed')
  if (!CODECS.includes(codec)) {
    throw new DemoConfigError(`SESSION_CODEC must be one of ${CODECS.join(', ')}, got "${codec}"`)
  }
  if (compat) checkCompat(compat, store, codec)
  const keysValue = read(env, 'SESSION_KEYS')
  let keys: string[] | undefined
  if (keysValue !== undefined) {
    keys = keysValue.split(',').map((key) => key.trim())
    keys.forEach((key, index) => {
      if (OWN_KEYS.includes(codec) && key.length < MIN_KEY_LENGTH) {
        throw new DemoConfigError(
          `SESSION_KEYS: key ${index + 1} has ${key.length} characters; each key needs at least ` +
            `${MIN_KEY_LENGTH} (generate one with: node -e "console.log(require('crypto').randomBytes(32).toString('base64url'))")`,
        )
      }
    })
    if (new Set(keys).size !== keys.length) {
      throw new DemoConfigError('SESSION_KEYS: the keys must be distinct')
    }
  }
  const cookieName =
    read(env, 'SESSION_COOKIE_NAME') ?? (compat === 'aiohttp' ? 'AIOHTTP_SESSION' : 'session')
  const idleTimeout = seconds(env, 'SESSION_IDLE_TIMEOUT')
  const absoluteTimeout = seconds(env, 'SESSION_ABSOLUTE_TIMEOUT')
  const sqlitePath = resolve(cwd, read(env, 'SQLITE_PATH') ?? join('.demo-data', 'sessions.db'))
  const timeout = storeTimeout(env)
  return {
    store: store as StoreKind,
    codec: codec as CodecKind,
    compat,
    keys,
    cookieName,
    idleTimeout,
    absoluteTimeout,
    sqlitePath,
    dataDir: dirname(sqlitePath),
    serverUrl: serverOf(store, env),
    storeTimeout: timeout,
  }
}

/** Where `npm run demo` listens. */
export interface ListenConfig {
  readonly host: string
  readonly port: number
}

/**
 * Parses HOST and PORT.
 *
 * @throws {DemoConfigError} for an invalid port.
 */
export function parseListen(env: Record<string, string | undefined>): ListenConfig {
  const host = read(env, 'HOST') ?? '127.0.0.1'
  const portValue = read(env, 'PORT') ?? '3000'
  const port = Number(portValue)
  if (!/^\d+$/.test(portValue) || port > 65_535) {
    throw new DemoConfigError(`PORT must be a whole number from 0 to 65535, got "${portValue}"`)
  }
  return { host, port }
}

/**
 * The cookie keys to use: SESSION_KEYS when set, otherwise the secret kept in the data directory,
 * generated (mode 0600) when it does not exist yet. `warn` receives a message saying where it is.
 *
 * @throws {DemoConfigError} when the secret file cannot be read, written or holds no usable key.
 */
export async function cookieKeys(
  config: DemoConfig,
  warn: (message: string) => void,
): Promise<string[]> {
  if (config.keys !== undefined) return config.keys
  const path = join(config.dataDir, 'secret')
  const advice = 'In production, set SESSION_KEYS (comma-separated keys of 32+ characters).'
  let secret: string
  try {
    secret = (await readFile(path, 'utf8')).trim()
    warn(`sessionware demo: SESSION_KEYS is not set; using the secret in ${path}. ${advice}`)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new DemoConfigError(`cannot read the secret ${path}: ${(error as Error).message}`)
    }
    secret = randomBytes(32).toString('base64url')
    try {
      await mkdir(config.dataDir, { recursive: true })
      await writeFile(path, `${secret}\n`, { mode: 0o600, flag: 'wx' })
    } catch (writeError) {
      if ((writeError as NodeJS.ErrnoException).code === 'EEXIST') {
        return cookieKeys(config, warn) // another process made it first: use theirs
      }
      throw new DemoConfigError(
        `cannot save a generated secret to ${path}: ${(writeError as Error).message}`,
      )
    }
    warn(
      `sessionware demo: SESSION_KEYS is not set; generated a secret and saved it to ${path} ` +
        `(mode 0600); later runs reuse it. ${advice}`,
    )
  }
  if (secret.length < MIN_KEY_LENGTH) {
    throw new DemoConfigError(
      `the secret in ${path} is shorter than ${MIN_KEY_LENGTH} characters; delete the file to ` +
        'generate a new one, or set SESSION_KEYS',
    )
  }
  return [secret]
}
