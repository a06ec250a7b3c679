import type { TokenUsage } from '../exchange/types.js'
import type { SseEvent } from '../stream/sse.js'

/**
 * One stored answer. Versioned so that a future layout is never read as
 * this one. Only complete, successful answers become entries.
 */
export interface CacheEntry {
  readonly version: 1
  /** `json`: a whole body; `sse`: the recorded events of a stream. */
  readonly format: 'json' | 'sse'
  readonly status: number
  /** The allowlisted response headers ({@link storedHeaderNames}). */
  readonly headers: Readonly<Record<string, string>>
  /** The body of a `json` entry; empty for `sse`. */
  readonly body: Buffer
  /** The events of an `sse` entry, `[DONE]` included. */
  readonly events: readonly SseEvent[] | undefined
  readonly model: string | undefined
  /** What producing this answer cost; a hit saves this much. */
  readonly usage: TokenUsage | undefined
  /** Epoch milliseconds when the answer was produced. */
  readonly createdAt: number
  readonly ttlMs: number
}

/**
 * Response headers kept with an entry. Per-call headers (request ids,
 * rate-limit counters, dates) would be wrong on a replay, so they are not.
 */
export const storedHeaderNames: readonly string[] = ['content-type', 'openai-version']

// Heap of one entry beyond its body (entry object, headers, the LRU's node,
// the key string), as measured by `pnpm bench -- --only memory`: about 1 KB.
const entryOverheadBytes = 1024

/** What an entry costs the memory tier, in bytes. */
export function entrySizeBytes(entry: CacheEntry): number {
  let bytes = entry.body.byteLength + entryOverheadBytes
  // Strings are UTF-16 in memory: two bytes a character, plus the event object.
  for (const event of entry.events ?? []) bytes += event.data.length * 2 + 48
  return bytes
}

/** Age in whole seconds, as the `Age` header states it (RFC 9111 section 5.1). */
export function entryAgeSeconds(entry: CacheEntry, nowMs: number): number {
  return Math.max(0, Math.floor((nowMs - entry.createdAt) / 1000))
}

/** Seconds of freshness left. */
export function entryTtlSeconds(entry: CacheEntry, nowMs: number): number {
  return Math.max(0, Math.floor((entry.createdAt + entry.ttlMs - nowMs) / 1000))
}
