/** Order statistics of small samples. */

/** The value below which `percent`% of `sortedValues` lie (nearest rank), NaN for no values. */
export function percentile(sortedValues: ArrayLike<number>, percent: number): number {
  if (sortedValues.length === 0) return Number.NaN
  const rank = Math.ceil((percent / 100) * sortedValues.length)
  return sortedValues[Math.min(sortedValues.length, Math.max(1, rank)) - 1]!
}

/** Median; for an even count, the mean of the two middle values. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((left, right) => left - right)
  const middle = Math.floor(sorted.length / 2)
  if (sorted.length === 0) return Number.NaN
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2
}

/** Index of the item whose `score` is the median (the lower middle for an even count). */
export function medianIndex<T>(items: readonly T[], score: (item: T) => number): number {
  const order = items.map((item, index) => ({ index, value: score(item) })).sort((left, right) => left.value - right.value)
  return order[Math.floor((order.length - 1) / 2)]?.index ?? -1
}
