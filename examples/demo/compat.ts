/**
 * The demo's storage when SESSION_COMPAT names a Python library: that library's preset from
 * `sessionware/compat`, with its cookie store or, for SESSION_STORE=redis or memcached, its server
 * layout. See `compat-config.ts` for the settings each library takes.
 *
 * @module
 */
import {
  aiohttpCompat,
  asgiSessionsCompat,
  starletteCompat,
  starsessionsCompat,
} from '../../src/compat.ts'
import type { SessionOptions } from '../../src/index.ts'
import { cookieKeys, type DemoConfig } from './config.ts'
import { openServerStore } from './stores.ts'

/** The options a compatibility preset gives, and what the demo shows and closes. */
export interface CompatBuilt {
  readonly options: SessionOptions
  readonly description: string
  close(): Promise<void>
}

/** Builds the preset for `config.compat` (which must be set). */
export async function buildCompat(
  config: DemoConfig,
  log: (message: string) => void,
): Promise<CompatBuilt> {
  const compat = config.compat as NonNullable<DemoConfig['compat']>
  const idle = config.idleTimeout
  const name = config.cookieName
  if (config.store !== 'cookie') {
    const server = await openServerStore(config, log)
    const options =
      compat === 'aiohttp'
        ? aiohttpCompat({ store: server.store, maxAge: idle ?? null, cookieName: name })
        : starsessionsCompat({ store: server.store, lifetime: idle ?? 0, cookieName: name })
    return { options, description: `${server.description}, ${compat} layout`, close: server.close }
  }
  const keys =
    config.codec === 'base64' || config.codec === 'simple' ? [] : await cookieKeys(config, log)
  let options: SessionOptions
  if (compat === 'aiohttp') {
    const storage = config.codec as 'fernet' | 'nacl' | 'simple'
    options = aiohttpCompat({ storage, key: keys, maxAge: idle ?? null, cookieName: name })
  } else if (compat === 'starsessions') {
    options = starsessionsCompat({ secret: keys, lifetime: idle ?? 0, cookieName: name })
  } else if (compat === 'starlette') {
    options = starletteCompat({ secret: keys, maxAge: idle, cookieName: name })
  } else {
    const type = config.codec as 'jwt' | 'fernet' | 'base64'
    options = asgiSessionsCompat({ type, secret: keys[0], maxAge: idle, cookieName: name })
  }
  return {
    options,
    description: `cookie (${compat}, ${config.codec} codec)`,
    close: async () => {},
  }
}
