import type { Attributes } from '@opentelemetry/api'

/**
 * Attribute sets an instrument keeps before new ones share one overflow set,
 * as the SDK's own cardinality limit does: models come from the client, so
 * their values are not bounded.
 */
export const maxSeries = 1000
export const overflowAttributes: Attributes = Object.freeze({ 'otel.metric.overflow': true })

/** One running total and its attributes. */
interface Count {
  readonly attributes: Attributes
  value: number
}

/**
 * Running totals by attribute set, read by an observable counter when a
 * metric reader collects (`instruments.ts`), at most {@link maxSeries} sets
 * plus the overflow set.
 */
export class Counts {
  readonly #series = new Map<string, Count>()

  /**
   * Adds `value` to the set named `key`; `attributes` makes its attributes
   * the first time. A value of 0 creates the set, so that a reader sees it
   * at zero before its first increment.
   */
  add(key: string, value: number, attributes: () => Attributes): void {
    let series = this.#series.get(key)
    if (series === undefined) {
      const overflow = this.#series.size >= maxSeries
      if (overflow) series = this.#series.get('overflow')
      if (series === undefined) {
        series = { attributes: overflow ? overflowAttributes : Object.freeze(attributes()), value: 0 }
        this.#series.set(overflow ? 'overflow' : key, series)
      }
    }
    series.value += value
  }

  /** Every set: its key, attributes and total. */
  entries(): IterableIterator<[string, Count]> {
    return this.#series.entries()
  }
}

/**
 * Attribute sets of one model-labelled histogram family, at most
 * {@link maxSeries} of them: the sets after that are recorded as the
 * overflow set.
 */
export class SeriesLimit {
  readonly #seen = new Set<string>()

  /** `attributes`, or the overflow set once `maxSeries` other keys were seen. */
  attributesOf(key: string, attributes: Attributes): Attributes {
    if (this.#seen.has(key)) return attributes
    if (this.#seen.size >= maxSeries) return overflowAttributes
    this.#seen.add(key)
    return attributes
  }
}

/**
 * The points of one metric at a collection, summed over the engines that
 * report the same attribute set (engines without a name, or with the same
 * one, count as one).
 */
export class Points {
  readonly #points = new Map<string, Count>()

  add(key: string, attributes: Attributes, value: number): void {
    const point = this.#points.get(key)
    if (point === undefined) this.#points.set(key, { attributes, value })
    else point.value += value
  }

  /** Keeps the largest value of the set (a state, where adding makes no sense). */
  max(key: string, attributes: Attributes, value: number): void {
    const point = this.#points.get(key)
    if (point === undefined) this.#points.set(key, { attributes, value })
    else point.value = Math.max(point.value, value)
  }

  entries(): IterableIterator<[string, Count]> {
    return this.#points.entries()
  }
}
