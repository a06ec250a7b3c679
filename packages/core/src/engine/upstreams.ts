import type { ResolvedAiCacheOptions } from '../options.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'
import { createFetchUpstream } from '../upstream/fetch-upstream.js'
import { createHttpUpstream } from '../upstream/http-upstream.js'
import { createResilientUpstream, type ResilienceHooks, type ResilientUpstream, type ResilientUpstreamLoad } from '../upstream/resilient-upstream.js'
import type { Upstream } from '../upstream/types.js'
import { UpstreamProducer } from './upstream-producer.js'

const breakerGauge: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

/**
 * The engine's upstreams as producers, each behind the resilience layer
 * (retries, circuit breaker, concurrency cap): proxy mode's HTTP upstream,
 * made at once, and client mode's, over the `fetch` of the first client
 * call. Their breaker reports one state.
 */
export class Upstreams {
  /** Proxy mode's producer; `undefined` without the `upstream` option (wrap mode). */
  readonly proxy: UpstreamProducer | undefined
  readonly #options: ResolvedAiCacheOptions
  readonly #tiers: TieredCache
  readonly #hooks: ResilienceHooks
  readonly #http: ResilientUpstream | undefined
  #fetch: UpstreamProducer | undefined
  #fetchUpstream: ResilientUpstream | undefined
  #breakerState: CircuitState | undefined

  constructor(options: ResolvedAiCacheOptions, tiers: TieredCache) {
    this.#options = options
    this.#tiers = tiers
    this.#hooks = { onBreakerStateChange: (state) => (this.#breakerState = state) }
    this.#http = options.upstream
      ? createResilientUpstream(createHttpUpstream({ baseUrl: options.upstream, timeoutMs: options.upstreamTimeoutMs }), options.resilience, this.#hooks)
      : undefined
    this.proxy = this.#http && this.#producerOf(this.#http)
  }

  /** Client mode's producer, over the `fetch` of the first call (later calls share it). */
  forFetch(fetch: typeof globalThis.fetch): UpstreamProducer {
    if (this.#fetch === undefined) {
      this.#fetchUpstream = createResilientUpstream(
        createFetchUpstream({ fetch, timeoutMs: this.#options.upstreamTimeoutMs }),
        this.#options.resilience,
        this.#hooks,
      )
      this.#fetch = this.#producerOf(this.#fetchUpstream)
    }
    return this.#fetch
  }

  /** The breaker's state as a gauge: 0 closed, 1 half-open, 2 open; `undefined` until it first changes. */
  get breakerGauge(): number | undefined {
    return this.#breakerState === undefined ? undefined : breakerGauge[this.#breakerState]
  }

  /** Calls in flight and waiting, over proxy and client mode; undefined in wrap mode before any client call. */
  load(): ResilientUpstreamLoad | undefined {
    const upstreams = [this.#http, this.#fetchUpstream].filter((upstream) => upstream !== undefined)
    if (upstreams.length === 0) return undefined
    const total = { inFlight: 0, queued: 0, budgetQueued: 0 }
    for (const upstream of upstreams) {
      const load = upstream.load()
      total.inFlight += load.inFlight
      total.queued += load.queued
      total.budgetQueued += load.budgetQueued
    }
    return total
  }

  /** Closes proxy mode's connections. */
  close(): void {
    this.#http?.close()
  }

  #producerOf(upstream: Upstream): UpstreamProducer {
    const { upstreamApiKey, upstream: upstreamUrl } = this.#options
    return new UpstreamProducer({ upstream, upstreamApiKey, upstreamUrl, tiers: this.#tiers })
  }
}
