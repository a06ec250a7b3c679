import type { RouteDirectives } from '../exchange/types.js'
import type { CounterStore } from '../limits/counter-store.js'
import { type RateLimitOptions, type ResolvedRateLimitOptions, resolveRateLimitOptions } from '../limits/rate-limit-options.js'
import { createRateLimiter, type RateLimiter } from '../limits/rate-limiter.js'
import { canonicalJson } from '../request/canonical.js'
import { digest } from '../request/key.js'

/** Makes the counter store of a route's limits, given the prefix of its keys (Redis), or none for memory. */
export type RouteCounterStoreFactory = (prefix: string) => CounterStore

/**
 * The rate limiters of routes that set limits of their own
 * (`route.rateLimit`), one per distinct set of limits, made on first use.
 * A route's counters are kept apart from the engine's: its scopes spend
 * from the route's budgets only, and in Redis under a prefix of their own,
 * the same on every instance (it is derived from the limits). Routes with
 * identical limits share counters.
 */
export class RouteLimiters {
  readonly #limiters = new Map<string, RateLimiter>()
  // Adapters hand the same options object on every request: it is resolved once.
  #byObject = new WeakMap<object, RateLimiter>()
  #storeFactory: RouteCounterStoreFactory | undefined
  #storeTimeoutMs: number | undefined
  readonly #uncheckedCredentials: boolean

  /**
   * `uncheckedCredentials`: the engine sends its own upstream key and scopes
   * by credential, so a credential scope is a label callers can mint (see
   * `rateLimit.identity`): routes then count by address, as the engine does.
   */
  constructor(uncheckedCredentials = false) {
    this.#uncheckedCredentials = uncheckedCredentials
  }

  /** The limiter for a request on `route`: the route's own, none (`false`), or the engine's. */
  for(route: RouteDirectives | undefined, engineLimiter: RateLimiter | undefined): RateLimiter | undefined {
    const limits = route?.rateLimit
    if (limits === undefined) return engineLimiter
    if (limits === false) return undefined
    let limiter = this.#byObject.get(limits)
    if (limiter === undefined) {
      const resolved = this.#resolve(limits)
      const id = canonicalJson(resolved)
      limiter = this.#limiters.get(id)
      if (limiter === undefined) {
        const prefix = `aicache:rate:route:${digest(id).slice(0, 16)}:`
        limiter = createRateLimiter(resolved, this.#storeFactory ? { store: this.#storeFactory(prefix), storeTimeoutMs: this.#storeTimeoutMs } : {})
        this.#limiters.set(id, limiter)
      }
      this.#byObject.set(limits, limiter)
    }
    return limiter
  }

  #resolve(limits: RateLimitOptions): ResolvedRateLimitOptions {
    if (!this.#uncheckedCredentials) return resolveRateLimitOptions(limits, 'route.rateLimit')
    const resolved = resolveRateLimitOptions(limits, 'route.rateLimit', 'address')
    if (resolved.identity !== 'scope') return resolved
    // Route options were checked when mounted, without the engine: refusing now would fail every request.
    console.warn("aicache: route.rateLimit.identity 'scope' cannot hold with upstreamApiKey and the credential scope; counting by address")
    return { ...resolved, identity: 'address' }
  }

  /** From now on, counters live where `factory` puts them (Redis once connected); limiters are made anew. */
  useStore(factory: RouteCounterStoreFactory, storeTimeoutMs?: number): void {
    this.#storeFactory = factory
    this.#storeTimeoutMs = storeTimeoutMs
    this.#limiters.clear()
    this.#byObject = new WeakMap()
  }
}
