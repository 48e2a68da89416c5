/**
 * Internal: HChaCha20, the key derivation of XChaCha20 (draft-irtf-cfrg-xchacha §2.2): ChaCha20's
 * 20 rounds over the constants, a 32-byte key and the first 16 bytes of a 24-byte nonce, keeping
 * words 0–3 and 12–15 with no final addition. The node:crypto back end of the sealed codec needs it
 * because OpenSSL offers ChaCha20-Poly1305 with 12-byte nonces only; XChaCha20-Poly1305 is then
 * ChaCha20-Poly1305 under the HChaCha20 sub-key with the nonce `0⁴ ‖ nonce[16..24]`. Checked
 * against the draft's vector and, on random inputs, against libsodium and `@noble/ciphers`.
 * Never exported from the package.
 *
 * Subpath: none (internal to `sessionware`).
 *
 * @module
 */

/** "expand 32-byte k" as four little-endian words. */
const SIGMA0 = 0x61707865
const SIGMA1 = 0x3320646e
const SIGMA2 = 0x79622d32
const SIGMA3 = 0x6b206574

/** The 32-bit little-endian word of `bytes` at `offset`. */
function word(bytes: Uint8Array, offset: number): number {
  return (
    (bytes[offset] as number) |
    ((bytes[offset + 1] as number) << 8) |
    ((bytes[offset + 2] as number) << 16) |
    ((bytes[offset + 3] as number) << 24)
  )
}

/** Rotates the 32-bit `value` left by `bits`. */
function rotl(value: number, bits: number): number {
  return (value << bits) | (value >>> (32 - bits))
}

/**
 * The 32-byte HChaCha20 sub-key of `key` (32 bytes) and `nonce16` (the first 16 bytes of an
 * XChaCha20 nonce), written into `out` (32 bytes) and returned.
 */
export function hchacha20(key: Uint8Array, nonce16: Uint8Array, out: Uint8Array): Uint8Array {
  const s = new Uint32Array(16)
  s[0] = SIGMA0
  s[1] = SIGMA1
  s[2] = SIGMA2
  s[3] = SIGMA3
  for (let i = 0; i < 8; i++) s[4 + i] = word(key, i * 4)
  for (let i = 0; i < 4; i++) s[12 + i] = word(nonce16, i * 4)
  for (let round = 0; round < 10; round++) {
    quarter(s, 0, 4, 8, 12)
    quarter(s, 1, 5, 9, 13)
    quarter(s, 2, 6, 10, 14)
    quarter(s, 3, 7, 11, 15)
    quarter(s, 0, 5, 10, 15)
    quarter(s, 1, 6, 11, 12)
    quarter(s, 2, 7, 8, 13)
    quarter(s, 3, 4, 9, 14)
  }
  const view = new DataView(out.buffer, out.byteOffset, 32)
  for (let i = 0; i < 4; i++) {
    view.setUint32(i * 4, s[i] as number, true)
    view.setUint32(16 + i * 4, s[12 + i] as number, true)
  }
  return out
}

/** ChaCha's quarter round on the words `a`, `b`, `c`, `d` of `s`, in place. */
function quarter(s: Uint32Array, a: number, b: number, c: number, d: number): void {
  let va = s[a] as number
  let vb = s[b] as number
  let vc = s[c] as number
  let vd = s[d] as number
  va = (va + vb) | 0
  vd = rotl(vd ^ va, 16)
  vc = (vc + vd) | 0
  vb = rotl(vb ^ vc, 12)
  va = (va + vb) | 0
  vd = rotl(vd ^ va, 8)
  vc = (vc + vd) | 0
  vb = rotl(vb ^ vc, 7)
  s[a] = va
  s[b] = vb
  s[c] = vc
  s[d] = vd
}
