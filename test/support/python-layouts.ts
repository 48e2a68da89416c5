/**
 * The Python side of the layout interop tests, under Debian's /usr/bin/python3:
 * - {@link runAiohttp}: a real aiohttp application with aiohttp-session's own `RedisStorage` or
 *   `MemcachedStorage` on 127.0.0.1, driven over HTTP by aiohttp's client, one step per request.
 *   aiohttp-session 2.11 (Debian) imports `aioredis`, which Debian lacks: `redis.asyncio` is
 *   registered under that name first (the API aiohttp-session 2.12 uses). `MemcachedStorage`
 *   talks to `aiomcache`, also missing: a small `aiomcache.Client` over pymemcache (`get`, and
 *   `set` with `exptime`) stands in, so MemcachedStorage's own code runs.
 * - {@link runStarsessions}: starsessions is not packaged, so its load and save of a session in
 *   Redis are done as starsessions 2.3 does them (FORMATS.md §2.2): `json.dumps` of the user's
 *   keys with `__metadata__` appended, the encryptor (cryptography's Fernet or AESGCM), `SET key
 *   value EX max(1, ttl)`; reading: `GET`, decrypt and `json.loads`, any failure an empty session.
 *
 * Not part of the package.
 *
 * @module
 */

import { runPython } from './python.ts'

/** Session data with what breaks naive encoders: non-ASCII, emoji, nesting, floats, null, `;,"`. */
export const INTEROP_DATA = {
  name: 'Zoë Ångström 日本語 🎉👩‍👩‍👧',
  nested: { list: [1, 2.5, null, { deep: 'x;y,z"q' }], empty: {}, flag: false },
  float: 0.1,
  negative: -3.75,
  tiny: 1e-7,
  integer: 42,
  nothing: null,
  yes: true,
  semicolon: 'a;b',
  comma: 'a,b',
  quote: 'say "hi"',
  backslash: 'C:\\path',
  line: 'two\nlines\u2028',
} as const

const AIOHTTP_APP = `
import asyncio, json, sys, types, warnings
warnings.simplefilter('ignore')
import redis, redis.asyncio
redis.asyncio.__version__ = redis.__version__
sys.modules['aioredis'] = redis.asyncio
from pymemcache.client.base import Client as Pymemcache

class McClient:
    def __init__(self, host, port):
        self._client = Pymemcache((host, port))
    async def get(self, key):
        return self._client.get(key)
    async def set(self, key, value, exptime=0):
        return self._client.set(key, value, expire=exptime, noreply=False)

aiomcache = types.ModuleType('aiomcache')
aiomcache.Client = McClient
sys.modules['aiomcache'] = aiomcache

import aiohttp
from aiohttp import web
from aiohttp_session import get_session, new_session, setup

cfg = json.load(sys.stdin)
name = cfg['cookieName']

def shape(session):
    data = dict(session)
    return {'identity': session.identity, 'new': session.new, 'created': session.created,
            'data': data, 'dumps': json.dumps(data)}

async def read(request):
    return web.json_response(shape(await get_session(request)))

async def write(request):
    body = await request.json()
    session = await (new_session(request) if body.get('new') else get_session(request))
    for key, value in body.get('set', {}).items():
        session[key] = value
    for key, text in body.get('setJson', {}).items():
        session[key] = json.loads(text)
    for key in body.get('delete', []):
        del session[key]
    return web.json_response(shape(session))

async def invalidate(request):
    session = await get_session(request)
    session.invalidate()
    return web.json_response(shape(session))

async def main():
    if cfg['backend'] == 'redis':
        from aiohttp_session.redis_storage import RedisStorage
        client = redis.asyncio.Redis(host='127.0.0.1', port=cfg['port'])
        storage = RedisStorage(client, cookie_name=name, max_age=cfg.get('maxAge'))
    else:
        from aiohttp_session.memcached_storage import MemcachedStorage
        storage = MemcachedStorage(McClient('127.0.0.1', cfg['port']), cookie_name=name,
                                   max_age=cfg.get('maxAge'))
    app = web.Application()
    setup(app, storage)
    app.router.add_get('/read', read)
    app.router.add_post('/write', write)
    app.router.add_post('/invalidate', invalidate)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, '127.0.0.1', 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    results = []
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        for step in cfg['steps']:
            headers = {}
            if step.get('cookie') is not None:
                headers['Cookie'] = name + '=' + step['cookie']
            url = 'http://127.0.0.1:%d%s' % (port, step['path'])
            async with http.request(step['method'], url, json=step.get('body'), headers=headers) as resp:
                results.append({'status': resp.status, 'body': await resp.json(),
                                'setCookie': resp.headers.getall('Set-Cookie', [])})
    await runner.cleanup()
    if cfg['backend'] == 'redis':
        await client.close()
    print(json.dumps(results))

asyncio.run(main())
`

/** One request to the aiohttp application. */
export interface AiohttpStep {
  readonly method: 'GET' | 'POST'
  /**
   * `/read`, `/write` (body `{ set?, setJson?, delete?, new? }`; `setJson` holds JSON texts that
   * Python parses, for values JavaScript cannot carry: `2.0`, integers beyond 2^53) or
   * `/invalidate`.
   */
  readonly path: '/read' | '/write' | '/invalidate'
  /** The session cookie's value to send, if any. */
  readonly cookie?: string
  readonly body?: {
    set?: Record<string, unknown>
    setJson?: Record<string, string>
    delete?: string[]
    new?: boolean
  }
}

/** What aiohttp-session's session looked like after a step. */
export interface AiohttpSession {
  readonly identity: string | null
  readonly new: boolean
  readonly created: number
  readonly data: Record<string, unknown>
  /** `json.dumps(dict(session))`: the data exactly as Python holds it (floats, big ints). */
  readonly dumps: string
}

/** The answer to one step. */
export interface AiohttpResult {
  readonly status: number
  readonly body: AiohttpSession
  readonly setCookie: string[]
}

/** Runs the steps against a fresh aiohttp application on the given backend. */
export function runAiohttp(config: {
  backend: 'redis' | 'memcached'
  port: number
  cookieName: string
  maxAge?: number | null
  steps: AiohttpStep[]
}): AiohttpResult[] {
  return runPython<AiohttpResult[]>(AIOHTTP_APP, config)
}

/** The session id in an aiohttp `Set-Cookie` (empty for a deletion), or undefined. */
export function aiohttpCookie(result: AiohttpResult, name: string): string | undefined {
  for (const header of result.setCookie) {
    const match = new RegExp(`^${name}=("?)([^";]*)\\1`).exec(header)
    if (match) return match[2]
  }
  return undefined
}

const STARSESSIONS = `
import json, os, sys, time
from redis import Redis
from cryptography.fernet import Fernet
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

cfg = json.load(sys.stdin)
r = Redis(host='127.0.0.1', port=cfg['port'])
prefix = cfg.get('prefix', 'starsessions.')
lifetime = cfg.get('lifetime', 0)
rolling = cfg.get('rolling', False)
gc_ttl = 3600 * 24 * 30

spec = cfg.get('encryptor')
if spec is None:
    encrypt = lambda data: data
    decrypt = lambda data: data
elif spec['kind'] == 'fernet':
    fernet = Fernet(spec['key'].encode())
    encrypt, decrypt = fernet.encrypt, fernet.decrypt
else:
    aesgcm = AESGCM(bytes.fromhex(spec['key']))
    def encrypt(data):
        nonce = os.urandom(12)
        return nonce + aesgcm.encrypt(nonce, data, None)
    def decrypt(data):
        if len(data) < 12:
            return b''
        return aesgcm.decrypt(data[:12], data[12:], None)

def load(session_id):
    raw = r.get(prefix + session_id)
    if raw is None:
        raw = b''
    try:
        plain = decrypt(raw)
        data = json.loads(plain) if plain else {}
    except Exception:
        data = {}
    now = time.time()
    metadata = {'lifetime': lifetime, 'created': now, 'last_access': now}
    metadata.update(data.pop('__metadata__', {}))
    metadata.update({'last_access': time.time(), 'lifetime': lifetime})
    return data, metadata

def save(session_id, data, metadata):
    data['__metadata__'] = metadata
    if lifetime == 0:
        ttl = gc_ttl
    elif rolling:
        ttl = lifetime
    else:
        ttl = int(metadata['created'] + lifetime - time.time())
    r.set(prefix + session_id, encrypt(json.dumps(data).encode('utf-8')), ex=max(1, ttl))

out = []
for step in cfg['steps']:
    sid = step['id']
    if step['op'] == 'request':
        data, metadata = load(sid)
        loaded = {'data': dict(data), 'dumps': json.dumps(data), 'metadata': metadata}
        for key, value in step.get('set', {}).items():
            data[key] = value
        for key in step.get('delete', []):
            data.pop(key, None)
        if data:
            save(sid, data, metadata)
        elif loaded['data']:
            r.delete(prefix + sid)
        out.append(loaded)
    elif step['op'] == 'write':
        save(sid, dict(step['data']), {'lifetime': lifetime, 'created': step['created'],
                                       'last_access': step['created']})
        out.append(None)
    elif step['op'] == 'raw':
        raw = r.get(prefix + sid)
        out.append(None if raw is None else {'hex': raw.hex(), 'ttl': r.ttl(prefix + sid)})
print(json.dumps(out))
`

/** starsessions' encryptor as Python builds it: Fernet key text, or an AES key in hex. */
export type PythonEncryptor = { kind: 'fernet'; key: string } | { kind: 'aes-gcm'; key: string }

/** One starsessions operation. */
export type StarsessionsStep =
  /** A request that loads the session, changes it, and saves it (as every response does). */
  | { op: 'request'; id: string; set?: Record<string, unknown>; delete?: string[] }
  /** A session written afresh with pinned `created` and `last_access` (epoch seconds). */
  | { op: 'write'; id: string; data: Record<string, unknown>; created: number }
  /** The stored bytes in hex and the key's TTL. */
  | { op: 'raw'; id: string }

/** What a `request` step loaded. */
export interface StarsessionsLoad {
  readonly data: Record<string, unknown>
  /** `json.dumps` of the loaded data (without `__metadata__`). */
  readonly dumps: string
  readonly metadata: Record<string, unknown>
}

/** Runs starsessions' load/save against the Redis on `port`. */
export function runStarsessions(config: {
  port: number
  prefix?: string
  lifetime?: number
  rolling?: boolean
  encryptor?: PythonEncryptor
  steps: StarsessionsStep[]
}): Array<StarsessionsLoad | { hex: string; ttl: number } | null> {
  return runPython(STARSESSIONS, config)
}
