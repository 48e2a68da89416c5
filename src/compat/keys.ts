/**
 * Key lists and asgi-sessions' Fernet key derivation, shared by the presets. Internal to
 * `sessionware/compat`.
 *
 * @module
 */
import { SessionConfigError } from '../errors.ts'

/** A single key or a list (newest first). */
export type KeyInput = string | Uint8Array | ReadonlyArray<string | Uint8Array>

/** `input` as a non-empty list; throws naming `option` when it is missing. */
export function keyList(input: KeyInput | undefined, option: string): Array<string | Uint8Array> {
  if (input === undefined || input === null) {
    throw new SessionConfigError(`${option} is required`)
  }
  const list = typeof input === 'string' || input instanceof Uint8Array ? [input] : [...input]
  if (list.length === 0) throw new SessionConfigError(`${option} must not be empty`)
  return list
}

/**
 * The Fernet key asgi-sessions derives from its text secret: the secret cut or padded with `=` to
 * 32 characters, url-safe base64 of that. A secret over 32 characters or with non-ASCII text fails
 * on every request there, so it is refused here.
 */
export function asgiFernetKey(secret: string): string {
  if (!/^[\x20-\x7e]{1,32}$/.test(secret)) {
    throw new SessionConfigError(
      'asgi-sessions fernet secrets must be 1 to 32 ASCII characters (a longer or non-ASCII one fails on every request in asgi-sessions)',
    )
  }
  const padded = secret + '='.repeat(32 - secret.length)
  let binary = ''
  for (const char of padded) binary += char
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_')
}
