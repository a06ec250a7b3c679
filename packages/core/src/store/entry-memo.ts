import type { CacheEntry } from './entry.js'

/**
 * What the hits of one entry would otherwise each work out again: the
 * headers of its last hit (reused while they come out the same) and the
 * dollars a hit saves. One side table, so a hit makes one lookup for both;
 * weak, so an entry leaving the cache takes its memo with it.
 */
export interface EntryMemo {
  hitHeaders?: unknown
  savedCost?: { usd: number | undefined }
  /** How long (ms) past its freshness the tier keeps this entry to serve stale (`freshness/`). */
  graceMs?: number
  /** Hits of this entry in this process (`freshness/entry-hits.ts`). */
  hits?: EntryHitCounts
}

/** Hits of one entry in this process, counted in place (no allocation per hit). */
export interface EntryHitCounts {
  /** Hits since the entry was kept here. */
  count: number
  /** Epoch ms of the last hit. */
  lastHitMs: number
  /** Start of the current one-minute window, and its hits; the previous window's hits. */
  windowStartMs: number
  windowHits: number
  previousWindowHits: number
}

/** The memo of `entry` when it has one, without making one. */
export function existingMemo(entry: CacheEntry): EntryMemo | undefined {
  return entry === lastEntry ? lastMemo : memos.get(entry)
}

const memos = new WeakMap<CacheEntry, EntryMemo>()

// The entry asked for last, in front of the table: a hit asks twice (for its
// headers, then for its saved cost), and hits of a hot entry come in runs.
// It keeps that one entry alive until another is asked for, even once the
// cache has dropped it.
let lastEntry: CacheEntry | undefined
let lastMemo: EntryMemo = {}

export function entryMemo(entry: CacheEntry): EntryMemo {
  if (entry === lastEntry) return lastMemo
  let memo = memos.get(entry)
  if (memo === undefined) memos.set(entry, (memo = {}))
  lastEntry = entry
  lastMemo = memo
  return memo
}
