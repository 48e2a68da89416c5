/**
 * The demo's configuration: the server stores' variables and their defaults, invalid values
 * (DemoConfigError; exit code 2 from `npm run demo`), and the env table kept identical in
 * `config.ts` and `README.md`.
 */
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { test } from 'node:test'
import { fileURLToPath } from 'node:url'
import {
  DEFAULT_DATABASE_URL,
  DEFAULT_MEMCACHED_URL,
  DEFAULT_REDIS_URL,
  DemoConfigError,
  displayUrl,
  parseConfig,
} from '../../examples/demo/config.ts'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function refused(env: Record<string, string>, message: RegExp): void {
  assert.throws(
    () => parseConfig(env, '/tmp'),
    (error: unknown) => error instanceof DemoConfigError && message.test(error.message),
    JSON.stringify(env),
  )
}

test('the env table in config.ts is the one in README.md', async () => {
  const readme = await readFile(`${ROOT}examples/demo/README.md`, 'utf8')
  const source = await readFile(`${ROOT}examples/demo/config.ts`, 'utf8')
  const fromReadme = readme.split('\n').filter((line) => line.startsWith('| '))
  // The README has a second table (the JSON API) after the first: keep the first one only.
  const first = fromReadme.slice(0, fromReadme.findIndex((line) => line.includes('`PORT`')) + 1)
  const fromSource = source
    .split('\n')
    .filter((line) => line.startsWith(' * | '))
    .map((line) => line.slice(3))
  assert.ok(first.length > 10)
  assert.deepEqual(fromSource, first)
  for (const name of ['REDIS_URL', 'MEMCACHED_URL', 'DATABASE_URL', 'SESSION_STORE_TIMEOUT']) {
    assert.ok(
      first.some((line) => line.startsWith(`| \`${name}\``)),
      `${name} is in the table`,
    )
  }
  assert.ok(first.some((line) => line.includes(`\`${DEFAULT_REDIS_URL}\``)))
  assert.ok(first.some((line) => line.includes(`\`${DEFAULT_MEMCACHED_URL}\``)))
  assert.ok(first.some((line) => line.includes(`\`${DEFAULT_DATABASE_URL}\``)))
})

test('server stores: defaults, and each URL is read only for its own store', () => {
  assert.equal(parseConfig({ SESSION_STORE: 'redis' }).serverUrl, 'redis://127.0.0.1:6379')
  assert.equal(parseConfig({ SESSION_STORE: 'memcached' }).serverUrl, '127.0.0.1:11211')
  assert.equal(
    parseConfig({ SESSION_STORE: 'postgres' }).serverUrl,
    'postgres://postgres@127.0.0.1:5432/postgres',
  )
  assert.equal(parseConfig({}).serverUrl, undefined)
  assert.equal(parseConfig({}).storeTimeout, 5)
  const redis = parseConfig({
    SESSION_STORE: 'redis',
    REDIS_URL: 'rediss://user:pw@cache.example:6380/2',
    SESSION_STORE_TIMEOUT: '0.5',
    DATABASE_URL: 'not checked: another store',
  })
  assert.equal(redis.store, 'redis')
  assert.equal(redis.serverUrl, 'rediss://user:pw@cache.example:6380/2')
  assert.equal(redis.storeTimeout, 0.5)
  const postgres = parseConfig({
    SESSION_STORE: 'postgres',
    DATABASE_URL: 'postgresql://app@db.internal/sessions',
    REDIS_URL: 'not checked either',
  })
  assert.equal(postgres.serverUrl, 'postgresql://app@db.internal/sessions')
  const memcached = parseConfig({ SESSION_STORE: 'memcached', MEMCACHED_URL: 'cache:11311' })
  assert.equal(memcached.serverUrl, 'cache:11311')
})

test('invalid server store values are refused with a clear message', () => {
  refused({ SESSION_STORE: 'mongodb' }, /SESSION_STORE must be sqlite, .*postgres, got "mongodb"/)
  refused({ SESSION_STORE: 'redis', REDIS_URL: 'http://127.0.0.1:6379' }, /REDIS_URL must start/)
  refused({ SESSION_STORE: 'redis', REDIS_URL: 'redis://' }, /REDIS_URL must name a host/)
  // An unparsable URL is not echoed: it may hold a password.
  refused({ SESSION_STORE: 'redis', REDIS_URL: 'pass word' }, /^REDIS_URL is not a valid URL;/)
  refused({ SESSION_STORE: 'postgres', DATABASE_URL: 'mysql://a@b/c' }, /DATABASE_URL must start/)
  for (const value of ['cache', 'cache:', ':11211', 'cache:0', 'cache:65536', 'a b:1', 'x:1:2']) {
    refused({ SESSION_STORE: 'memcached', MEMCACHED_URL: value }, /MEMCACHED_URL must be host:port/)
  }
  for (const value of ['0', '-1', 'abc', '1e3', '3601', '.5', '5s']) {
    refused({ SESSION_STORE_TIMEOUT: value }, /SESSION_STORE_TIMEOUT must be a number of seconds/)
  }
})

test('passwords are masked in what the demo shows', () => {
  assert.equal(displayUrl('redis://:s3cret@127.0.0.1:6379/1'), 'redis://:***@127.0.0.1:6379/1')
  assert.equal(displayUrl('postgres://app:s3cret@db/sessions'), 'postgres://app:***@db/sessions')
  assert.equal(displayUrl('postgres://app@db/sessions'), 'postgres://app@db/sessions')
})

test('npm run demo exits with code 2 and a message for an invalid store URL', async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH, SESSION_STORE: 'redis', REDIS_URL: 'ftp://x', PORT: '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 20_000,
  })
  let stderr = ''
  child.stderr.on('data', (chunk) => {
    stderr += chunk
  })
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
  assert.equal(code, 2, stderr)
  assert.match(stderr, /invalid configuration: REDIS_URL must start with redis:\/\/ or rediss:\/\//)
})

test('SESSION_COMPAT: each library brings its storage, codec and cookie name by default', () => {
  const aiohttp = parseConfig({ SESSION_COMPAT: 'aiohttp', SESSION_KEYS: 'k' }, '/tmp')
  assert.deepEqual(
    [aiohttp.store, aiohttp.codec, aiohttp.cookieName],
    ['cookie', 'fernet', 'AIOHTTP_SESSION'],
  )
  const asgi = parseConfig({ SESSION_COMPAT: 'asgi' }, '/tmp')
  assert.deepEqual([asgi.store, asgi.codec, asgi.cookieName], ['cookie', 'jwt', 'session'])
  for (const compat of ['starsessions', 'starlette']) {
    assert.equal(parseConfig({ SESSION_COMPAT: compat }, '/tmp').codec, 'itsdangerous')
  }
  const redis = parseConfig({ SESSION_COMPAT: 'aiohttp', SESSION_STORE: 'redis' }, '/tmp')
  assert.equal(redis.serverUrl, DEFAULT_REDIS_URL)
  // Python keys are taken in the Python form: no 32-character minimum.
  assert.deepEqual(
    parseConfig({ SESSION_COMPAT: 'starlette', SESSION_KEYS: 'secret' }, '/tmp').keys,
    ['secret'],
  )
  assert.equal(parseConfig({}, '/tmp').compat, undefined)
})

test('SESSION_COMPAT: unknown libraries, and stores or codecs a library does not have, are refused', () => {
  refused(
    { SESSION_COMPAT: 'django' },
    /SESSION_COMPAT must be aiohttp, starsessions, starlette or asgi/,
  )
  refused(
    { SESSION_COMPAT: 'starlette', SESSION_STORE: 'redis' },
    /works with SESSION_STORE cookie/,
  )
  refused({ SESSION_COMPAT: 'starsessions', SESSION_STORE: 'postgres' }, /cookie, redis/)
  refused({ SESSION_COMPAT: 'asgi', SESSION_CODEC: 'nacl' }, /jwt, fernet, base64/)
  refused({ SESSION_COMPAT: 'aiohttp', SESSION_CODEC: 'sealed' }, /fernet, nacl, simple/)
  refused({ SESSION_CODEC: 'rot13' }, /SESSION_CODEC must be one of/)
  refused({ SESSION_CODEC: 'sealed', SESSION_KEYS: 'short' }, /at least 32/)
})
