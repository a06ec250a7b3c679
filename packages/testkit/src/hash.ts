import { createHash } from 'node:crypto'

const SHA256_BYTES = 32

/** Pseudo-random bytes derived from a JSON value, so fake output is reproducible across runs and processes. */
export function hashBytes(value: unknown, byteCount = SHA256_BYTES): Buffer {
  const seed = JSON.stringify(value) ?? 'undefined'
  const blocks: Buffer[] = []
  for (let block = 0; blocks.length * SHA256_BYTES < byteCount; block++) {
    blocks.push(createHash('sha256').update(`${block}:${seed}`).digest())
  }
  return Buffer.concat(blocks).subarray(0, byteCount)
}
