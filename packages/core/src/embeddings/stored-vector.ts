import type { TokenUsage } from '../exchange/types.js'
import type { CacheEntry } from '../store/entry.js'

/**
 * One embedding as the tiers keep it: little-endian float32 bytes, the
 * layout OpenAI's `encoding_format: 'base64'` sends, behind one byte that
 * says how the `float` encoding writes its numbers. A vector of 1,536
 * dimensions is 6 KB, a third of its JSON text, and either encoding is
 * made from it without loss (docs/embeddings.md).
 */

const float32Bytes = 4
const headerBytes = 1

/**
 * How the upstream writes a float32 value in a `float` answer:
 * - `double`: the float32 value written as the double it is
 *   (`0.0123456791043281555`); what a client that decodes base64 sees too.
 * - `shortest`: the fewest digits that read back as the same float32
 *   (`0.012345679`), as OpenAI's `float` answers do.
 */
export type FloatText = 'double' | 'shortest'

const floatTextCode: Record<FloatText, number> = { double: 0, shortest: 1 }

/** The content type that marks a per-input entry, so it can never be mistaken for a whole answer. */
export const vectorContentType = 'application/x-aicache-float32'

/** One input's vector and what embedding it cost. */
export interface StoredVector {
  /** `[float text code][float32 little-endian...]`. */
  readonly bytes: Buffer
  /** The model that answered. */
  readonly model: string | undefined
  /** The input's share of the upstream call's tokens. */
  readonly tokens: number
}

/** The fewest significant digits that read back as the float32 `value` (a float32 value held in a double). */
function shortestFloat32(value: number): number {
  if (value === 0 || !Number.isFinite(value)) return value
  // More digits never stop a number reading back, so the shortest is found by bisection over 1 to 9.
  let low = 1
  let high = 9
  while (low < high) {
    const middle = (low + high) >> 1
    if (Math.fround(Number(value.toPrecision(middle))) === value) high = middle
    else low = middle + 1
  }
  return Number(value.toPrecision(low))
}

/**
 * The vector of one `float` answer item, or `undefined` when float32 bytes
 * cannot give the same numbers back (an upstream that sends doubles): such
 * a vector is answered but not stored.
 */
export function vectorFromFloats(values: readonly unknown[]): Buffer | undefined {
  const bytes = Buffer.allocUnsafe(headerBytes + values.length * float32Bytes)
  let double = true
  let shortest = true
  for (let index = 0; index < values.length; index++) {
    const value = values[index]
    if (typeof value !== 'number') return undefined
    const single = Math.fround(value)
    if (single !== value) double = false
    if (!double && shortestFloat32(single) !== value) shortest = false
    if (!double && !shortest) return undefined
    bytes.writeFloatLE(single, headerBytes + index * float32Bytes)
  }
  bytes[0] = double ? floatTextCode.double : floatTextCode.shortest
  return bytes
}

/**
 * The vector of one `base64` answer item (float32 little-endian bytes), or
 * `undefined` when it is not that. The float text is `double`: a client
 * that decodes base64 sees exactly those numbers.
 */
export function vectorFromBase64(text: string): Buffer | undefined {
  const decoded = Buffer.from(text, 'base64')
  if (decoded.byteLength % float32Bytes !== 0) return undefined
  const bytes = Buffer.allocUnsafe(headerBytes + decoded.byteLength)
  bytes[0] = floatTextCode.double
  decoded.copy(bytes, headerBytes)
  return bytes
}

/** The vector as `encoding_format: 'base64'` sends it. */
export function base64Of(bytes: Buffer): string {
  return bytes.toString('base64', headerBytes)
}

/** The vector as `encoding_format: 'float'` sends it: the JSON array text. */
export function floatTextOf(bytes: Buffer): string {
  const shortest = bytes[0] === floatTextCode.shortest
  const count = (bytes.byteLength - headerBytes) / float32Bytes
  let text = '['
  for (let index = 0; index < count; index++) {
    const single = bytes.readFloatLE(headerBytes + index * float32Bytes)
    if (index > 0) text += ','
    text += JSON.stringify(shortest ? shortestFloat32(single) : single)
  }
  return text + ']'
}

/** Whether an entry's body is a stored vector this build can read. */
export function isVectorEntry(entry: CacheEntry): boolean {
  const { body } = entry
  return (
    entry.headers['content-type'] === vectorContentType &&
    body.byteLength >= headerBytes &&
    (body.byteLength - headerBytes) % float32Bytes === 0 &&
    (body[0] === floatTextCode.double || body[0] === floatTextCode.shortest)
  )
}

/** The entry the tiers keep for one input. */
export function vectorEntry(vector: StoredVector, createdAt: number, ttlMs: number): CacheEntry {
  const usage: TokenUsage = { inputTokens: vector.tokens, outputTokens: 0 }
  return {
    version: 1,
    format: 'json',
    status: 200,
    headers: { 'content-type': vectorContentType },
    body: vector.bytes,
    events: undefined,
    model: vector.model,
    usage,
    createdAt,
    ttlMs,
  }
}

/** The vector an entry holds. */
export function vectorOfEntry(entry: CacheEntry): StoredVector {
  return { bytes: entry.body, model: entry.model, tokens: entry.usage?.inputTokens ?? 0 }
}
