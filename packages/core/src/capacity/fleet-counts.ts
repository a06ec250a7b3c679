import type { RedisClient } from '../store/redis-client.js'

/** One interval's counts: requests, upstream calls, their tokens, and their time. */
export interface IntervalCounts {
  requests: number
  calls: number
  tokens: number
  callsEnded: number
  callMs: number
}

const fields = ['requests', 'calls', 'tokens', 'callsEnded', 'callMs'] as const

/**
 * Per-interval counts of the whole fleet in Redis: every instance adds its
 * own counts of an interval to the interval's keys (`INCRBY`, one
 * transaction, with an expiry), and any instance reads the sums (`MGET`).
 * Keys: `<prefix>:{capacity}:<field>:<interval number>`; the hash tag puts
 * them in one slot, so `MGET` also works on a Redis Cluster.
 */
export class FleetCounts {
  readonly #client: RedisClient
  readonly #prefix: string
  readonly #ttlMs: number

  constructor(client: RedisClient, prefix: string, ttlMs: number) {
    this.#client = client
    this.#prefix = `${prefix}:{capacity}`
    this.#ttlMs = Math.ceil(ttlMs)
  }

  #key(field: (typeof fields)[number], interval: number): string {
    return `${this.#prefix}:${field}:${interval}`
  }

  /** Adds this instance's counts of `interval`. */
  async add(interval: number, counts: IntervalCounts): Promise<void> {
    const transaction = this.#client.multi()
    for (const field of fields) {
      const key = this.#key(field, interval)
      transaction.incrby(key, Math.round(counts[field]))
      transaction.pexpire(key, this.#ttlMs)
    }
    const replies = await transaction.exec()
    const failed = replies?.find(([error]) => error !== null)?.[0]
    if (failed) throw failed
  }

  /** The fleet's counts of `first`..`last`; `undefined` for an interval no instance counted. */
  async read(first: number, last: number): Promise<Array<IntervalCounts | undefined>> {
    const intervals = Array.from({ length: last - first + 1 }, (_, index) => first + index)
    const keys = intervals.flatMap((interval) => fields.map((field) => this.#key(field, interval)))
    const values = await this.#client.mget(keys)
    return intervals.map((_, index) => {
      const slice = values.slice(index * fields.length, (index + 1) * fields.length)
      if (slice.every((value) => value === null)) return undefined
      const number = (position: number) => Number(slice[position] ?? 0)
      return { requests: number(0), calls: number(1), tokens: number(2), callsEnded: number(3), callMs: number(4) }
    })
  }
}
