import { promisify } from 'node:util'
import { brotliCompress, brotliDecompress, constants as zlibConstants } from 'node:zlib'
import type { CacheEntry } from './entry.js'
import { parseEntryMetadata, type EntryMetadata } from './entry-metadata.js'

/**
 * The bytes of an entry in a remote store:
 *
 * ```
 * 0xAC 0x1E      magic: a value anyone else wrote is recognised as foreign
 * version        1 (this layout)
 * flags          bit 0: the payload is brotli-compressed; other bits must be 0
 * payload        uint32 big-endian metadata length, metadata JSON (UTF-8), body bytes
 * ```
 *
 * The body stays binary (no base64), and the metadata is plain JSON parsed
 * with `JSON.parse` and checked field by field: decoding never evaluates
 * anything, and anything unexpected is a miss.
 */
const magic = [0xac, 0x1e] as const
const codecVersion = 1
const headerBytes = 4
const lengthBytes = 4
const flagCompressed = 0b0000_0001

// Brotli's default quality (11) costs tens of ms on 100 KB; 5 compresses
// JSON nearly as well at a fraction of the time.
const compressionQuality = 5
// A corrupt or hostile value must not inflate without bound (a zip bomb).
const maxDecodedBytes = 256 * 1024 * 1024

const compress = promisify(brotliCompress)
const decompress = promisify(brotliDecompress)

/** Options of {@link encodeEntry}. */
export interface EncodeEntryOptions {
  /** Payloads larger than this are compressed (when that makes them smaller). @default 4096 */
  compressAboveBytes?: number
}

/**
 * Encodes an entry into the versioned envelope.
 *
 * @example
 * ```ts
 * const bytes = await encodeEntry(entry, { compressAboveBytes: 4096 })
 * const same = await decodeEntry(bytes)
 * ```
 */
export async function encodeEntry(entry: CacheEntry, options: EncodeEntryOptions = {}): Promise<Buffer> {
  const compressAboveBytes = options.compressAboveBytes ?? 4096
  const metadata: EntryMetadata = {
    format: entry.format,
    status: entry.status,
    headers: entry.headers,
    events: entry.events,
    model: entry.model,
    usage: entry.usage,
    createdAt: entry.createdAt,
    ttlMs: entry.ttlMs,
  }
  const metadataBytes = Buffer.from(JSON.stringify(metadata), 'utf8')
  const length = Buffer.allocUnsafe(lengthBytes)
  length.writeUInt32BE(metadataBytes.byteLength)
  let payload = Buffer.concat([length, metadataBytes, entry.body])
  let flags = 0
  if (payload.byteLength > compressAboveBytes) {
    const compressed = await compress(payload, {
      params: {
        [zlibConstants.BROTLI_PARAM_QUALITY]: compressionQuality,
        [zlibConstants.BROTLI_PARAM_SIZE_HINT]: payload.byteLength,
      },
    })
    // Already-compressed bodies can grow; then storing them plain is cheaper to read.
    if (compressed.byteLength < payload.byteLength) {
      payload = compressed
      flags |= flagCompressed
    }
  }
  return Buffer.concat([Buffer.from([magic[0], magic[1], codecVersion, flags]), payload])
}

/**
 * Decodes an envelope written by {@link encodeEntry}. A value that is not one
 * (foreign, truncated, of another version, with invalid metadata) decodes to
 * `undefined`, never to an exception; the caller treats it as a miss.
 */
export async function decodeEntry(bytes: Buffer): Promise<CacheEntry | undefined> {
  try {
    if (bytes.byteLength < headerBytes) return undefined
    if (bytes[0] !== magic[0] || bytes[1] !== magic[1] || bytes[2] !== codecVersion) return undefined
    const flags = bytes[3]!
    // Unknown flags mean a newer writer: its payload cannot be read safely.
    if ((flags & ~flagCompressed) !== 0) return undefined
    let payload = bytes.subarray(headerBytes)
    if (flags & flagCompressed) payload = await decompress(payload, { maxOutputLength: maxDecodedBytes })
    if (payload.byteLength < lengthBytes) return undefined
    const metadataLength = payload.readUInt32BE(0)
    if (lengthBytes + metadataLength > payload.byteLength) return undefined
    const metadataText = payload.subarray(lengthBytes, lengthBytes + metadataLength).toString('utf8')
    const metadata = parseEntryMetadata(JSON.parse(metadataText))
    if (metadata === undefined) return undefined
    return {
      version: 1,
      ...metadata,
      body: payload.subarray(lengthBytes + metadataLength),
    }
  } catch {
    // Bad JSON, a broken brotli stream, or an oversized one: a miss.
    return undefined
  }
}
