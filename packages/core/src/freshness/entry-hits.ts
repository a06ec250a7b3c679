import type { CacheEntry } from '../store/entry.js'
import { entryMemo, existingMemo } from '../store/entry-memo.js'

/** What an entry's hits in this process say: how many, the last one, and the recent rate. */
export interface EntryHits {
  /** Hits since the entry was kept here. */
  hits: number
  /** Epoch ms of the last hit; `undefined` before the first. */
  lastHitMs: number | undefined
  /** Hits a minute over about the last minute (a sliding estimate over two one-minute windows). */
  hitsPerMinute: number
}

const windowMs = 60_000

/**
 * Counts a hit of `entry` at `nowMs`. The counts live in the entry's memo
 * (which a hit's headers already made), updated in place: a hit allocates
 * nothing for them. The window starts when the entry was produced, so the
 * first minute's rate is hits over the entry's age.
 */
export function countHit(entry: CacheEntry, nowMs: number): void {
  const memo = entryMemo(entry)
  const counts = memo.hits
  if (counts === undefined) {
    memo.hits = { count: 1, lastHitMs: nowMs, windowStartMs: entry.createdAt, windowHits: 1, previousWindowHits: 0 }
    return
  }
  counts.count++
  counts.lastHitMs = nowMs
  const elapsedMs = nowMs - counts.windowStartMs
  if (elapsedMs >= windowMs) {
    // The window that just ended is the previous one only if it was the last minute.
    counts.previousWindowHits = elapsedMs < 2 * windowMs ? counts.windowHits : 0
    counts.windowStartMs = nowMs - (elapsedMs % windowMs)
    counts.windowHits = 0
  }
  counts.windowHits++
}

/**
 * Hits a minute of `entry` at `nowMs`: the current window's hits plus the
 * previous window's, weighted by how much of it is still within the last
 * minute. In the first minute of an entry (no previous window) the hits are
 * scaled up from the time elapsed since it was produced (at least a second).
 */
export function hitsPerMinute(entry: CacheEntry, nowMs: number): number {
  const counts = existingMemo(entry)?.hits
  if (counts === undefined) return 0
  const elapsedMs = nowMs - counts.windowStartMs
  if (elapsedMs >= 2 * windowMs) return 0
  if (elapsedMs >= windowMs) return counts.windowHits * ((2 * windowMs - elapsedMs) / windowMs)
  if (counts.previousWindowHits === 0 && counts.windowStartMs === entry.createdAt) {
    return (counts.windowHits * windowMs) / Math.max(elapsedMs, 1_000)
  }
  return counts.windowHits + counts.previousWindowHits * ((windowMs - elapsedMs) / windowMs)
}

/** The hits of `entry` in this process. */
export function entryHits(entry: CacheEntry, nowMs = Date.now()): EntryHits {
  const counts = existingMemo(entry)?.hits
  return { hits: counts?.count ?? 0, lastHitMs: counts?.lastHitMs, hitsPerMinute: hitsPerMinute(entry, nowMs) }
}
