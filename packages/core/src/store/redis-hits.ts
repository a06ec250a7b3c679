import type { GuardedRemote } from './guarded-remote.js'
import type { RedisClient } from './redis-client.js'
import type { RedisKeys } from './redis-keys.js'

/** The hits of one cache key on every instance that shares Redis. */
export interface SharedHits {
  /** Hits written so far (each instance writes its own once per flush interval). */
  hits: number
  /** Epoch ms of the last flush that carried a hit: the last hit, to within the flush interval. */
  lastHitMs: number
}

/** What {@link RedisHits} needs. */
export interface RedisHitsOptions {
  client: RedisClient
  remote: GuardedRemote
  keys: RedisKeys
  /** How often counted hits are written. @default 1000 */
  flushIntervalMs?: number
  /** Keys written per flush at most; the others wait for the next one. @default 1000 */
  maxKeysPerFlush?: number
  /** The clock. @default Date.now */
  now?: () => number
}

interface Pending {
  hits: number
  retainedUntilMs: number
}

/**
 * Hit counts of entries, shared in Redis without a write per hit: hits are
 * added up here and written once per interval, each key as a hash
 * (`count`, `last`) that expires with its entry (its freshness plus its
 * grace period). A lost flush (Redis down) loses those counts, never a request.
 */
export class RedisHits {
  readonly #options: RedisHitsOptions
  readonly #pending = new Map<string, Pending>()
  readonly #flushIntervalMs: number
  readonly #maxKeysPerFlush: number
  readonly #now: () => number
  #timer: NodeJS.Timeout | undefined
  #flushing: Promise<void> | undefined
  #closed = false

  constructor(options: RedisHitsOptions) {
    this.#options = options
    this.#flushIntervalMs = options.flushIntervalMs ?? 1_000
    this.#maxKeysPerFlush = options.maxKeysPerFlush ?? 1_000
    this.#now = options.now ?? Date.now
  }

  /** Counts `hits` of `key`, whose entry is kept until `retainedUntilMs`. */
  add(key: string, hits: number, retainedUntilMs: number): void {
    if (this.#closed) return
    const pending = this.#pending.get(key)
    if (pending === undefined) this.#pending.set(key, { hits, retainedUntilMs })
    else {
      pending.hits += hits
      if (retainedUntilMs > pending.retainedUntilMs) pending.retainedUntilMs = retainedUntilMs
    }
    this.#timer ??= setTimeout(() => void this.flush(), this.#flushIntervalMs).unref()
  }

  /** Writes what was counted so far (at most `maxKeysPerFlush` keys). */
  async flush(): Promise<void> {
    this.#timer = undefined
    const { client, remote, keys } = this.#options
    const nowMs = this.#now()
    const writes: Array<Promise<unknown>> = []
    let waiting = false
    for (const [key, pending] of this.#pending) {
      // A key not hit since the last flush is dropped; a hot one keeps its record (no allocation per flush).
      if (pending.hits === 0) {
        this.#pending.delete(key)
        continue
      }
      if (writes.length >= this.#maxKeysPerFlush) {
        waiting = true
        continue
      }
      const hits = pending.hits
      pending.hits = 0
      const ttlMs = Math.ceil(pending.retainedUntilMs - nowMs)
      if (ttlMs <= 0) continue
      const hitsKey = keys.hits(key)
      // Three commands of one key, sent together on one connection (its node's, in a Cluster).
      writes.push(
        remote.call(() => Promise.all([client.hincrby(hitsKey, 'count', hits), client.hset(hitsKey, 'last', nowMs), client.pexpire(hitsKey, ttlMs)]), null),
      )
    }
    // Records stay for hot keys: the next flush is set by the next hit (or now, for keys left waiting).
    if (waiting) this.#timer ??= setTimeout(() => void this.flush(), this.#flushIntervalMs).unref()
    const flushing = Promise.all(writes).then(() => undefined)
    this.#flushing = flushing
    await flushing
  }

  /** The shared hits of `key`. */
  async read(key: string): Promise<SharedHits | undefined> {
    const { client, remote, keys } = this.#options
    const fields = await remote.call(() => client.hgetall(keys.hits(key)), {} as Record<string, string>)
    const hits = Number(fields['count'])
    const lastHitMs = Number(fields['last'])
    return Number.isFinite(hits) && Number.isFinite(lastHitMs) && fields['count'] !== undefined ? { hits, lastHitMs } : undefined
  }

  /** Writes what is pending, then stops. */
  async close(): Promise<void> {
    this.#closed = true
    clearTimeout(this.#timer)
    this.#timer = undefined
    await this.flush()
    await this.#flushing
    clearTimeout(this.#timer)
    this.#timer = undefined
  }
}
