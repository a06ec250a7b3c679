import type { CacheEntry } from './entry.js'
import { decodeEntry, encodeEntry } from './entry-codec.js'
import type { GuardedRemote } from './guarded-remote.js'
import type { RedisClient } from './redis-client.js'
import type { RedisKeys } from './redis-keys.js'
import { deleteEntryScript, runScript, writeEntryScript } from './redis-scripts.js'

/** What {@link RedisTier} needs. */
export interface RedisTierOptions {
  client: RedisClient
  remote: GuardedRemote
  keys: RedisKeys
  /** Encoded entries larger than this are compressed. @default 4096 */
  compressAboveBytes?: number
  /** Upper bound of the TTL an entry gets in Redis (ms); none by default. */
  maxTtlMs?: number | undefined
  /** The clock. @default Date.now */
  now?: () => number
}

// GET on a key holding a hash or a list answers WRONGTYPE: that value is foreign too.
const wrongType = Symbol('wrong type')

/**
 * The L2 tier: entries in Redis as {@link encodeEntry} envelopes, each
 * expiring with the entry's remaining freshness (capped by `maxTtlMs`).
 * Every call goes through the guard: a slow or unreachable Redis is a miss
 * or a dropped write, never an exception.
 */
export class RedisTier {
  readonly #client: RedisClient
  readonly #remote: GuardedRemote
  readonly #keys: RedisKeys
  readonly #compressAboveBytes: number
  readonly #maxTtlMs: number
  readonly #now: () => number

  constructor(options: RedisTierOptions) {
    this.#client = options.client
    this.#remote = options.remote
    this.#keys = options.keys
    this.#compressAboveBytes = options.compressAboveBytes ?? 4096
    this.#maxTtlMs = options.maxTtlMs ?? Number.POSITIVE_INFINITY
    this.#now = options.now ?? Date.now
  }

  /**
   * The fresh entry under `key`; a corrupt or foreign value is deleted and
   * is a miss, an entry past its freshness (kept for its grace period) is a
   * miss too.
   */
  async get(key: string): Promise<CacheEntry | undefined> {
    const entry = await this.getRetained(key)
    return entry === undefined || entry.createdAt + entry.ttlMs > this.#now() ? entry : undefined
  }

  /** The entry under `key`, fresh or kept past its freshness for its grace period (stale-if-error, stale-while-revalidate). */
  async getRetained(key: string): Promise<CacheEntry | undefined> {
    const entryKey = this.#keys.entry(key)
    const stored = await this.#remote.call(async () => {
      try {
        return await this.#client.getBuffer(entryKey)
      } catch (error) {
        if (error instanceof Error && error.message.startsWith('WRONGTYPE')) return wrongType
        throw error
      }
    }, null)
    if (stored === null) return undefined
    const entry = stored === wrongType ? undefined : await decodeEntry(stored)
    // Awaited, so that a set right after this miss is never undone by it.
    if (entry === undefined) await this.#remote.call(() => this.#client.del(entryKey), 0)
    return entry
  }

  /**
   * Stores `entry` for its remaining freshness plus `graceMs` (kept for
   * stale answers), at most `maxTtlMs` in all; an entry already stale is
   * not stored. Wakes cross-instance waiters when the key's lock is held.
   */
  async set(key: string, entry: CacheEntry, graceMs = 0): Promise<void> {
    const remainingMs = entry.createdAt + entry.ttlMs - this.#now()
    if (!(remainingMs > 0)) return
    const ttlMs = Math.ceil(Math.min(remainingMs + graceMs, this.#maxTtlMs))
    let value: Buffer
    try {
      value = await encodeEntry(entry, { compressAboveBytes: this.#compressAboveBytes })
    } catch {
      // An entry that cannot be encoded is simply not shared.
      return
    }
    const keys = [this.#keys.entry(key), this.#keys.lock(key)]
    const args = [value, ttlMs, this.#keys.writtenChannel, key]
    await this.#remote.call(() => runScript(this.#client, writeEntryScript, keys, args), undefined)
  }

  /** Deletes the entry and publishes `message` on the invalidation channel in the same step. */
  async delete(key: string, message: string): Promise<void> {
    const args = [this.#keys.invalidationChannel, message]
    await this.#remote.call(() => runScript(this.#client, deleteEntryScript, [this.#keys.entry(key)], args), undefined)
  }
}
