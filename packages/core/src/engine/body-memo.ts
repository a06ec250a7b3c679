import { crc32 } from 'node:zlib'
import { LRUCache } from 'lru-cache'

/** Options of {@link BodyMemo}. */
export interface BodyMemoOptions {
  /** Bytes of bodies the memo keeps in all, each counted with its overhead; 0 keeps none. @default 16 MiB */
  maxBytes?: number
  /** A body larger than this is never remembered. @default 256 KiB */
  maxBodyBytes?: number
}

interface Remembered<T> {
  readonly kind: string
  readonly body: Buffer
  readonly value: T
  /** Its key in the sampled index, or -1 when the body is too short to sample. */
  readonly sampledKey: number
}

// Bodies up to this size get a key of their own (see memoKey).
const maxKeyedBodyBytes = 2 ** 21 - 1
// What an entry costs besides its body: the entry objects, lru-cache's slots and the sampled index.
const entryOverheadBytes = 200
// Words read for the sampled key; bodies shorter than this many bytes are not sampled.
const sampledWords = 8
const minSampledBytes = sampledWords * 4

/**
 * Remembers what was worked out from a request body, by the body's exact
 * bytes; two different bodies never share a result, however they collide.
 *
 * Two indexes lead to a remembered body, and either is only a lead: the
 * bytes are then compared with the remembered body's. The sampled index,
 * first, keys a body by its length and eight words read across it (a few
 * dozen nanoseconds, whatever the size): a repeated body is found there,
 * for the price of a Map lookup and one comparison. Bodies of one length
 * that differ only between the sampled words share a sampled key; for
 * them, and for anything the sampled index does not hold, the CRC-32 index
 * (the whole body hashed, natively) decides, and the body found there takes
 * over the sampled key. The CRC-32 index owns the entries and bounds them
 * by bytes, least recently used out first; the sampled index holds only
 * entries it holds. The bodies are copied, so a remembered body never pins
 * the socket buffer it came in.
 */
export class BodyMemo<T extends object> {
  readonly #cache: LRUCache<number, Remembered<T>>
  readonly #sampled = new Map<number, Remembered<T>>()
  readonly #maxBodyBytes: number

  constructor(options: BodyMemoOptions = {}) {
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024
    // 0 turns the memo off: no body is small enough (-1), and lru-cache wants a positive size.
    this.#maxBodyBytes = maxBytes > 0 ? Math.min(options.maxBodyBytes ?? 256 * 1024, maxBytes, maxKeyedBodyBytes) : -1
    this.#cache = new LRUCache<number, Remembered<T>>({
      maxSize: Math.max(1, maxBytes),
      sizeCalculation: (remembered) => remembered.body.byteLength + entryOverheadBytes,
      // An entry leaving the memo leaves the sampled index too.
      dispose: (remembered) => {
        if (this.#sampled.get(remembered.sampledKey) === remembered) this.#sampled.delete(remembered.sampledKey)
      },
    })
  }

  /** What was remembered for exactly these bytes in this namespace of results (`kind`). */
  get(kind: string, body: Buffer): T | undefined {
    if (body.byteLength > this.#maxBodyBytes) return undefined
    const sampledKey = sampledKeyOf(body)
    const lead = this.#sampled.get(sampledKey)
    if (lead !== undefined && lead.kind === kind && lead.body.equals(body)) return lead.value
    const remembered = this.#cache.get(memoKey(body), getOptions)
    if (remembered === undefined || remembered.kind !== kind || !remembered.body.equals(body)) return undefined
    if (sampledKey >= 0) this.#sampled.set(sampledKey, remembered)
    return remembered.value
  }

  /** Remembers `value` for these bytes; a different body (or kind) with the same length and CRC is replaced. */
  set(kind: string, body: Buffer, value: T): void {
    if (body.byteLength > this.#maxBodyBytes) return
    const sampledKey = sampledKeyOf(body)
    const remembered: Remembered<T> = { kind, body: Buffer.from(body), value, sampledKey }
    const key = memoKey(body)
    this.#cache.set(key, remembered)
    // Indexed only if the CRC index kept it (it may be larger than the whole memo).
    if (sampledKey >= 0 && this.#cache.peek(key) === remembered) this.#sampled.set(sampledKey, remembered)
  }

  /** Bytes held, as counted against `maxBytes`: each body and a fixed overhead per entry. */
  get bytes(): number {
    return this.#cache.calculatedSize
  }

  /** Entries in the sampled index (never more than the memo holds). */
  get sampledEntries(): number {
    return this.#sampled.size
  }
}

// One options object for every get, instead of the default `{}` lru-cache makes per call.
const getOptions = {}

// Length and CRC in one number (a length below 2^21 and 32 bits of CRC fit a
// double exactly): a number key spares building a string per lookup.
function memoKey(body: Buffer): number {
  return body.byteLength * 0x1_0000_0000 + crc32(body)
}

/** Length and eight 32-bit words spread over the body (first and last included), mixed into one number; -1 for a short body. */
function sampledKeyOf(body: Buffer): number {
  const length = body.byteLength
  if (length < minSampledBytes) return -1
  const step = Math.floor((length - 4) / (sampledWords - 1))
  let hash = 0x811c9dc5
  for (let word = 0; word < sampledWords; word++) {
    const offset = word === sampledWords - 1 ? length - 4 : word * step
    hash = Math.imul(hash ^ body.readUInt32LE(offset), 0x01000193)
  }
  return length * 0x1_0000_0000 + (hash >>> 0)
}
