import { crc32 } from 'node:zlib'
import { LRUCache } from 'lru-cache'

/** Options of {@link BodyMemo}. */
export interface BodyMemoOptions {
  /** Bytes of bodies the memo keeps in all. @default 16 MiB */
  maxBytes?: number
  /** A body larger than this is never remembered. @default 256 KiB */
  maxBodyBytes?: number
}

interface Remembered<T> {
  readonly kind: string
  readonly body: Buffer
  readonly value: T
}

// Bodies up to this size get a key of their own (see memoKey).
const maxKeyedBodyBytes = 2 ** 21 - 1
// What an entry costs besides its body: the entry objects and lru-cache's slots.
const entryOverheadBytes = 160

/**
 * Remembers what was worked out from a request body, by the body's exact
 * bytes. Lookup hashes the bytes with CRC-32 (native, about three times
 * faster than SHA-256 for a 1 KB body) and then compares them with the
 * remembered body, so two bodies with the same CRC never share a result: a
 * collision, made on purpose or not, only costs a recomputation. The bodies
 * are copied, so a remembered body never pins the socket buffer it came in.
 */
export class BodyMemo<T extends object> {
  readonly #cache: LRUCache<number, Remembered<T>>
  readonly #maxBodyBytes: number

  constructor(options: BodyMemoOptions = {}) {
    const maxBytes = options.maxBytes ?? 16 * 1024 * 1024
    this.#maxBodyBytes = Math.min(options.maxBodyBytes ?? 256 * 1024, maxBytes, maxKeyedBodyBytes)
    this.#cache = new LRUCache<number, Remembered<T>>({
      maxSize: maxBytes,
      sizeCalculation: (remembered) => remembered.body.byteLength + entryOverheadBytes,
    })
  }

  /** What was remembered for exactly these bytes in this namespace of results (`kind`). */
  get(kind: string, body: Buffer): T | undefined {
    if (body.byteLength > this.#maxBodyBytes) return undefined
    const remembered = this.#cache.get(memoKey(body), getOptions)
    return remembered !== undefined && remembered.kind === kind && remembered.body.equals(body) ? remembered.value : undefined
  }

  /** Remembers `value` for these bytes; a different body (or kind) with the same length and CRC is replaced. */
  set(kind: string, body: Buffer, value: T): void {
    if (body.byteLength > this.#maxBodyBytes) return
    this.#cache.set(memoKey(body), { kind, body: Buffer.from(body), value })
  }
}

// One options object for every get, instead of the default `{}` lru-cache makes per call.
const getOptions = {}

// Length and CRC in one number (a length below 2^21 and 32 bits of CRC fit a
// double exactly): a number key spares building a string per lookup.
function memoKey(body: Buffer): number {
  return body.byteLength * 0x1_0000_0000 + crc32(body)
}
