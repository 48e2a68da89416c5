/**
 * Type tests of the Python layout stores and the encrypted serializer: compiled by
 * `npm run typecheck` (tsc -p test-d), never run. The real clients of every supported library fit
 * the stores' structural client types; wrong options do not compile.
 */
import { Cluster, Redis } from 'ioredis'
import { MemcacheClient } from 'memcache-client'
import { createClient, createCluster } from 'redis'
import { createServerStorage, type Serializer, type SessionStore } from '../src/index.ts'
import { createEncryptedSerializer } from '../src/serializers/encrypted.ts'
import { createAiohttpMemcachedStore } from '../src/stores/aiohttp-memcached.ts'
import { createAiohttpRedisStore, pythonServerStorageOptions } from '../src/stores/aiohttp-redis.ts'
import {
  createAesGcmEncryptor,
  createFernetEncryptor,
  createStarsessionsRedisStore,
} from '../src/stores/starsessions-redis.ts'

const nodeRedis = createClient()
const nodeCluster = createCluster({ rootNodes: [] })
const ioRedis = new Redis()
const ioCluster = new Cluster([])

export const stores: SessionStore[] = [
  createAiohttpRedisStore(nodeRedis),
  createAiohttpRedisStore(nodeCluster, { cookieName: 'SID', maxAge: 3600 }),
  createAiohttpRedisStore(ioRedis, { maxAge: null, idFormat: /^[0-9a-f]{32}$/ }),
  createStarsessionsRedisStore(ioCluster, {
    lifetime: 3600,
    rolling: true,
    encryptor: createFernetEncryptor({ keys: [`${'k'.repeat(43)}=`] }),
  }),
  createStarsessionsRedisStore(nodeRedis, {
    encryptor: createAesGcmEncryptor({ keys: [new Uint8Array(32)] }),
  }),
  createAiohttpMemcachedStore(new MemcacheClient({ server: '127.0.0.1:11211' })),
]

export const storage = createServerStorage({
  store: stores[0] as SessionStore,
  ...pythonServerStorageOptions,
})

export const serializer: Serializer = createEncryptedSerializer({
  keys: ['k'.repeat(32), new Uint8Array(32)],
  acceptPlaintext: true,
})

// @ts-expect-error maxAge is seconds or null
createAiohttpRedisStore(nodeRedis, { maxAge: '3600' })
// @ts-expect-error a URL is not a client
createAiohttpRedisStore('redis://127.0.0.1')
// @ts-expect-error AES-GCM keys are bytes
createAesGcmEncryptor({ keys: ['k'.repeat(32)] })
// @ts-expect-error keys are required
createEncryptedSerializer({})
