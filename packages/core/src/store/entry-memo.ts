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
  /** Whose pricing worked `savedCost` out (an entry can be shared by engines). */
  savedCostBy?: object
}

const memos = new WeakMap<CacheEntry, EntryMemo>()

export function entryMemo(entry: CacheEntry): EntryMemo {
  let memo = memos.get(entry)
  if (memo === undefined) memos.set(entry, (memo = {}))
  return memo
}
