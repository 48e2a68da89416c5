/**
 * What the nacl codec's test files share: libsodium as a reference, the FORMATS.md vectors, keys,
 * back-end selection, child-process scripts, and Python's PyNaCl run as a peer. Not part of the
 * package.
 *
 * @module
 */
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { type Backends, installedBackends, type NaclBackendName } from '../../src/lib/secretbox.ts'
import { runPython } from './python.ts'

/** libsodium itself, as a reference (sodium-native ships no types). */
export const sodium = createRequire(import.meta.url)('sodium-native') as {
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean
}

/** Bytes 0..31 and 0..23: the key and nonce of the FORMATS.md vectors (§1.2 V5, V6). */
export const VECTOR_BYTES = Uint8Array.from({ length: 32 }, (_, i) => i)
export const VECTOR_HEX = Buffer.from(VECTOR_BYTES).toString('hex')
export const VECTOR_NONCE = Uint8Array.from({ length: 24 }, (_, i) => i)
export const V5_PAYLOAD = '{"created": 1700000000, "session": {"user": "alice", "n": 1}}'
export const V5 =
  'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXPnIDSeSvJtMNeA7iz+6fziXdWz2iq9Z13x61Hlm4eqdilXbvvBUTzzXRAucmrs6PoeHVrmfFhmfLr9q5WAfHKkAkSrPTtbJthj8WwGc='
export const V6_PAYLOAD = '{"created": 1700000000, "session": {"user": "alice"}}'
export const V6 =
  'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXNFp3gB+WEGGJ69OvkCqU4CXdWz2iq9Z13x61Hlm4eqdilXbvvBUTzzXRAucmrs6PoeHVrmfFhmfLr9q5WAfHKkAkSuKO'

/** Fixed test keys (64 hex digits, as `nacl.utils.random(32).hex()` prints). */
export const KEY = '6d0b1f5c2a8e4f3b9c7d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b'
export const OLD_KEY = '0f1e2d3c4b5a69788796a5b4c3d2e1f00112233445566778899aabbccddeeff0'
export const OTHER_KEY = 'a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0'
export const LARGE = JSON.stringify({
  created: 1700000000,
  session: { blob: 'é😀;,"'.repeat(250) },
})
export const SPECIAL = '{"created": 1700000000, "session": {"q": "a;b,c\\"d", "f": 1.5, "n": null}}'
export const BACKENDS: readonly NaclBackendName[] = ['sodium', 'js']

export const fixedNonce = (nonce: Uint8Array) => () => Uint8Array.from(nonce)
export const raw = (value: string) => Buffer.from(value, 'base64')
export const b64 = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64')

/** Runtime back ends with one or both pretended missing. */
export function without(...missing: NaclBackendName[]): Backends {
  const real = installedBackends()
  const gone = { error: new Error('Cannot find module (pretended missing in this test)') }
  return {
    sodium: missing.includes('sodium') ? gone : real.sodium,
    js: missing.includes('js') ? gone : real.js,
  }
}

/** True where this runtime loads `.ts` files itself (Bun, Deno, Node with type stripping). */
export const loadsTypeScript =
  'bun' in process.versions ||
  'deno' in process.versions ||
  typeof (process.features as { typescript?: unknown }).typescript === 'string'

/**
 * Runs an ES module script (it may import `.ts` sources by absolute path) in a child process of the
 * runtime running this test, and returns the JSON it prints. The script goes to a file: Deno's
 * emulation of Node's command line runs `--eval` code as CommonJS.
 */
export function runScript(
  script: string,
  env: Record<string, string> = {},
): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'sessionware-nacl-script-'))
  try {
    const file = join(dir, 'script.mjs')
    writeFileSync(file, script)
    const child = spawnSync(
      process.execPath,
      [...(loadsTypeScript ? [] : ['--import', 'tsx']), file],
      {
        encoding: 'utf8',
        env: { ...process.env, ...env },
        cwd: fileURLToPath(new URL('../../', import.meta.url)),
        timeout: 30_000,
      },
    )
    assert.equal(child.status, 0, child.stderr)
    return JSON.parse(child.stdout) as Record<string, string>
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

export const PY_ENCRYPT = `
import json, sys
import nacl.secret, nacl.encoding
req = json.load(sys.stdin)
box = nacl.secret.SecretBox(bytes.fromhex(req["key"]))
nonce = bytes.fromhex(req["nonce"]) if req.get("nonce") else None
out = [box.encrypt(p.encode("utf-8"), nonce, encoder=nacl.encoding.Base64Encoder).decode("ascii")
       for p in req["payloads"]]
print(json.dumps(out))
`

export const PY_DECRYPT = `
import json, sys, binascii
import nacl.secret, nacl.encoding, nacl.exceptions
req = json.load(sys.stdin)
box = nacl.secret.SecretBox(bytes.fromhex(req["key"]))
out = []
for t in req["tokens"]:
    try:
        out.append({"payload": box.decrypt(t.encode("ascii"), encoder=nacl.encoding.Base64Encoder).decode("utf-8")})
    except (nacl.exceptions.CryptoError, binascii.Error):
        out.append(None)  # what aiohttp's NaClCookieStorage catches: a new session
    except Exception as e:
        out.append({"error": type(e).__name__})
print(json.dumps(out))
`

export function pyEncrypt(key: string, payloads: string[], nonce?: Uint8Array): string[] {
  const hexNonce = nonce === undefined ? undefined : Buffer.from(nonce).toString('hex')
  return runPython<string[]>(PY_ENCRYPT, { key, payloads, nonce: hexNonce })
}

export type PyResult = { payload: string } | { error: string } | null
export function pyDecrypt(key: string, tokens: string[]): PyResult[] {
  return runPython<PyResult[]>(PY_DECRYPT, { key, tokens })
}
