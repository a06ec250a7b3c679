import type { RouteDirectives } from '../exchange/types.js'
import { createRateLimiter, type RateLimiter } from '../limits/rate-limiter.js'
import { createRedisCounterStore } from '../limits/redis-counter-store.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { RedisClient } from '../store/redis-client.js'
import { RouteLimiters } from './route-limits.js'

/**
 * The rate limits a request is counted against: its route's own
 * (`route.rateLimit`), none, or the engine's (`rateLimit`). Counters are in
 * memory until Redis is connected, then in Redis, shared by every instance.
 */
export class RequestLimits {
  readonly #options: ResolvedAiCacheOptions
  #limiter: RateLimiter | undefined
  readonly #routeLimiters: RouteLimiters

  constructor(options: ResolvedAiCacheOptions) {
    this.#options = options
    this.#limiter = options.rateLimit ? createRateLimiter(options.rateLimit) : undefined
    this.#routeLimiters = new RouteLimiters(Object.keys(options.upstreamApiKeys).length > 0 && options.scope === 'credential')
  }

  /** The limiter for a request on `route` (none for a request outside a route: the engine's). */
  for(route: RouteDirectives | undefined): RateLimiter | undefined {
    return route === undefined ? this.#limiter : this.#routeLimiters.for(route, this.#limiter)
  }

  /**
   * From now on, counters live in Redis. The limiters' Redis calls keep the
   * Redis layer's deadline (`storeTimeoutMs`) when one was set (else the
   * limiter's own, 200 ms).
   */
  useRedis(client: RedisClient, storeTimeoutMs: number | undefined): void {
    const { rateLimit } = this.#options
    if (rateLimit) this.#limiter = createRateLimiter(rateLimit, { store: createRedisCounterStore(client), storeTimeoutMs })
    this.#routeLimiters.useStore((prefix) => createRedisCounterStore(client, { prefix }), storeTimeoutMs)
  }
}
