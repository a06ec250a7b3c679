import { randomUUID } from 'node:crypto'
import type { CacheEntry } from './entry.js'
import { type BreakerState, GuardedRemote } from './guarded-remote.js'
import { type InvalidationMessage, keyDeletedMessage, parseInvalidation } from './invalidation-messages.js'
import { openRedisClient, type RedisClient, waitUntilReady } from './redis-client.js'
import { RedisGenerations } from './redis-generations.js'
import { RedisInfo, type RedisServerFacts } from './redis-info.js'
export { allNamespaces } from './redis-generations.js'
import { redisKeys } from './redis-keys.js'
import { resolveRedisLayerOptions, type RedisLayerOptions } from './redis-layer-options.js'
import { type LockHandle, RedisLocks, type WaitedAnswer } from './redis-locks.js'
import { RedisSubscriber } from './redis-subscriber.js'
import { RedisTier } from './redis-tier.js'

export type { BreakerState } from './guarded-remote.js'
export type { InvalidationMessage } from './invalidation-messages.js'
export type { RedisLayerOptions, RedisSentinel, RedisTlsOptions } from './redis-layer-options.js'
export type { RedisServerFacts } from './redis-info.js'
export type { LockHandle, WaitedAnswer } from './redis-locks.js'
export type { SharedFailure } from './shared-failure.js'

/**
 * Everything the engine uses Redis for: the L2 tier, namespace generations,
 * the invalidation bus and cross-instance single-flight. Fail-open
 * throughout: no method rejects because Redis is slow or down.
 */
export interface RedisLayer {
  /** The fresh stored entry; `undefined` on a miss, a corrupt value (deleted), a stale entry, or Redis unavailable. */
  get(key: string): Promise<CacheEntry | undefined>
  /** The stored entry, fresh or kept past its freshness for its grace period. */
  getRetained(key: string): Promise<CacheEntry | undefined>
  /**
   * Stores for the entry's remaining freshness plus `graceMs` (capped by
   * `maxTtlMs`) and wakes waiters; dropped if Redis is unavailable.
   */
  set(key: string, entry: CacheEntry, graceMs?: number): Promise<void>
  /** Deletes in Redis and tells every instance (this one at once) through `onInvalidate`. */
  delete(key: string): Promise<void>
  /** The local copy of a namespace's generation (0 if unknown); an unknown namespace is read in the background. */
  generation(namespace: string): number
  /**
   * Whether `generation(namespace)` is known to be current: read since the
   * bus subscription was last (re)established, so no bump can have been
   * missed. While false, memory-tier entries of the namespace may be stale:
   * skip them, or `await loadGeneration(namespace)` first.
   */
  isGenerationSynced(namespace: string): boolean
  /** Reads the generation from Redis (bounded by `timeoutMs`); the local copy when Redis is unavailable. */
  loadGeneration(namespace: string): Promise<number>
  /**
   * Bumps in Redis and broadcasts; applies here at once (and, with Redis
   * down, retries until Redis has it). `allNamespaces` bumps the epoch that
   * is part of every namespace's generation.
   */
  bumpGeneration(namespace: string): Promise<number>
  /** Namespaces whose generation this instance remembers (at most `maxNamespaces` plus those invalidated). */
  readonly trackedNamespaces: number
  /** The `localTtlMs` option: longest life of an entry in this instance's memory tier, if set. */
  readonly localTtlMs: number | undefined
  /** Evict-from-L1 messages, from other instances and from this one. Returns a function that removes the handler. */
  onInvalidate(handler: (message: InvalidationMessage) => void): () => void
  /**
   * The cross-instance lock of `key`; `undefined` while another instance
   * holds it. With Redis unavailable: a stand-in handle (`held: false`), so
   * the caller goes ahead alone instead of waiting.
   */
  acquire(key: string): Promise<LockHandle | undefined>
  /**
   * The entry once written, or the failure its holder released the lock
   * with; `undefined` on timeout, when the lock is gone with neither, or
   * with Redis down.
   */
  waitForAnswer(key: string, timeoutMs: number): Promise<WaitedAnswer | undefined>
  /** The Redis connection the layer uses (shared with the rate limiter's store). */
  readonly client: RedisClient
  /** The circuit breaker's state. */
  readonly state: BreakerState
  /**
   * Whether the connection is up now. The breaker stays closed until calls
   * fail, so a Redis that never answered has a closed breaker and is not
   * connected.
   */
  readonly connected: boolean
  /** Failed Redis calls so far (errors and timeouts). */
  readonly errors: number
  /** What Redis said about itself at the last `INFO` read (`infoIntervalMs`); `undefined` before the first. */
  readonly server: RedisServerFacts | undefined
  /** Stops the layer; closes the connections it opened (not a client passed in). */
  close(): Promise<void>
}

// How long start-up waits for Redis before going on without it (it connects later).
const startupWaitMs = 1_000

/**
 * Connects the Redis layer. Resolves within about a second even when Redis
 * is down (the layer then works as a miss until Redis is reachable).
 *
 * @example
 * ```ts
 * const layer = await createRedisLayer({
 *   redis: 'redis://127.0.0.1:6379',
 *   onStateChange: (state) => console.warn(`redis: ${state}`),
 * })
 * layer.onInvalidate((message) => (message.kind === 'key' ? memory.delete(message.key) : undefined))
 * const entry = await layer.get(key)
 * await layer.close()
 * ```
 */
export async function createRedisLayer(input: RedisLayerOptions): Promise<RedisLayer> {
  const options = resolveRedisLayerOptions(input)
  const { client, owned } = await openRedisClient(options)
  const origin = randomUUID()
  const keys = redisKeys(options.prefix)
  const remote = new GuardedRemote(options)
  const handlers = new Set<(message: InvalidationMessage) => void>()
  const emit = (message: InvalidationMessage) => {
    for (const handler of handlers) {
      try {
        handler(message)
      } catch {
        // One failing handler must not keep the others from evicting.
      }
    }
  }
  const { compressAboveBytes, maxTtlMs } = options
  const tier = new RedisTier({ client, remote, keys, compressAboveBytes, maxTtlMs })
  const locks = new RedisLocks({ client, remote, keys, tier, lockTtlMs: options.lockTtlMs })
  const onBumped = (namespace: string, generation: number) => emit({ kind: 'namespace', namespace, generation })
  const generations = new RedisGenerations({ client, remote, keys, origin, onBumped, maxNamespaces: options.maxNamespaces })

  let firstSubscription: () => void = () => {}
  const subscribedOnce = new Promise<void>((resolve) => (firstSubscription = resolve))
  const subscriber = new RedisSubscriber({
    client,
    channels: [keys.invalidationChannel, keys.writtenChannel],
    onMessage(channel, text) {
      if (channel === keys.writtenChannel) return locks.written(text)
      const received = parseInvalidation(text)
      // Our own messages were applied when we sent them.
      if (received === undefined || received.origin === origin) return
      const { message } = received
      if (message.kind === 'namespace') generations.received(message.namespace, message.generation)
      else emit(message)
    },
    onSubscribed() {
      generations.subscribed()
      firstSubscription()
    },
    onLost: () => generations.lost(),
  })
  await waitForStartup(Promise.all([waitUntilReady(client, startupWaitMs), subscribedOnce]))
  const info = new RedisInfo({
    client,
    intervalMs: options.infoIntervalMs,
    warn: options.onWarning ?? ((message) => console.warn(message)),
  })

  return {
    get: (key) => tier.get(key),
    getRetained: (key) => tier.getRetained(key),
    async set(key, entry, graceMs) {
      await tier.set(key, entry, graceMs)
      locks.written(key)
    },
    async delete(key) {
      emit({ kind: 'key', key })
      await tier.delete(key, keyDeletedMessage(origin, key))
    },
    generation: (namespace) => generations.get(namespace),
    isGenerationSynced: (namespace) => generations.isSynced(namespace),
    loadGeneration: (namespace) => generations.load(namespace),
    bumpGeneration: (namespace) => generations.bump(namespace),
    get trackedNamespaces() {
      return generations.trackedNamespaces
    },
    localTtlMs: options.localTtlMs,
    onInvalidate(handler) {
      handlers.add(handler)
      return () => handlers.delete(handler)
    },
    client,
    acquire: (key) => locks.acquire(key),
    waitForAnswer: (key, timeoutMs) => locks.waitForAnswer(key, timeoutMs),
    get state() {
      return remote.state
    },
    get connected() {
      return client.status === 'ready'
    },
    get errors() {
      return remote.errors
    },
    get server() {
      return info.facts
    },
    async close() {
      info.close()
      remote.close()
      locks.close()
      generations.close()
      subscriber.close()
      handlers.clear()
      if (owned) client.disconnect()
    },
  }
}

async function waitForStartup(ready: Promise<unknown>): Promise<void> {
  let timer: NodeJS.Timeout | undefined
  const giveUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, startupWaitMs)))
  await Promise.race([ready, giveUp])
  clearTimeout(timer)
}
