import type { UpstreamName } from '../formats/format.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'
import { createFetchUpstream } from '../upstream/fetch-upstream.js'
import { createHttpUpstream } from '../upstream/http-upstream.js'
import { createResilientUpstream, type ResilienceHooks, type ResilientUpstream, type ResilientUpstreamLoad } from '../upstream/resilient-upstream.js'
import type { Upstream } from '../upstream/types.js'
import { UpstreamProducer } from './upstream-producer.js'

const breakerGauge: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

/** One producer per provider's upstream; a provider without one is left out. */
export type UpstreamProducers = Readonly<Partial<Record<UpstreamName, UpstreamProducer>>>

/**
 * The engine's upstreams as producers, each behind the resilience layer
 * (retries, circuit breaker, concurrency cap): proxy mode's HTTP upstreams,
 * one per provider's base URL, made at once, and client mode's, over the
 * `fetch` of the first client call. Their breakers report one state, the
 * last one that changed.
 */
export class Upstreams {
  /** Proxy mode's producers by provider; `undefined` without the `upstream` option (wrap mode). */
  readonly proxy: UpstreamProducers | undefined
  readonly #options: ResolvedAiCacheOptions
  readonly #tiers: TieredCache
  readonly #hooks: ResilienceHooks
  /** Every resilient upstream made: proxy mode's, then client mode's as they are made. */
  readonly #resilient: ResilientUpstream[] = []
  readonly #http: Upstream[] = []
  #fetch: Partial<Record<UpstreamName, UpstreamProducer>> | undefined
  #breakerState: CircuitState | undefined

  constructor(options: ResolvedAiCacheOptions, tiers: TieredCache) {
    this.#options = options
    this.#tiers = tiers
    this.#hooks = { onBreakerStateChange: (state) => (this.#breakerState = state) }
    if (options.mode !== 'proxy') return
    const proxy: Partial<Record<UpstreamName, UpstreamProducer>> = {}
    // One upstream per distinct URL: a single `upstream` string serves every provider with one pool and one breaker.
    const byUrl = new Map<string, ResilientUpstream>()
    for (const [name, baseUrl] of Object.entries(options.upstreams) as Array<[UpstreamName, URL]>) {
      let upstream = byUrl.get(baseUrl.href)
      if (upstream === undefined) {
        upstream = createResilientUpstream(createHttpUpstream({ baseUrl, timeoutMs: options.upstreamTimeoutMs }), options.resilience, this.#hooks)
        byUrl.set(baseUrl.href, upstream)
        this.#http.push(upstream)
        this.#resilient.push(upstream)
      }
      proxy[name] = this.#producerOf(upstream, name, baseUrl)
    }
    this.proxy = proxy
  }

  /** Client mode's producer for a provider, over the `fetch` of the first call (later calls share it). */
  forFetch(fetch: typeof globalThis.fetch, name: UpstreamName = 'openai'): UpstreamProducer {
    this.#fetch ??= {}
    let producer = this.#fetch[name]
    if (producer === undefined) {
      const upstream = createResilientUpstream(
        createFetchUpstream({ fetch, timeoutMs: this.#options.upstreamTimeoutMs }),
        this.#options.resilience,
        this.#hooks,
      )
      this.#resilient.push(upstream)
      producer = this.#fetch[name] = this.#producerOf(upstream, name, undefined)
    }
    return producer
  }

  /** The breaker's state as a gauge: 0 closed, 1 half-open, 2 open; `undefined` until it first changes. */
  get breakerGauge(): number | undefined {
    return this.#breakerState === undefined ? undefined : breakerGauge[this.#breakerState]
  }

  /** Calls in flight and waiting, over proxy and client mode; undefined in wrap mode before any client call. */
  load(): ResilientUpstreamLoad | undefined {
    const upstreams = this.#resilient
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
    for (const upstream of this.#http) upstream.close()
  }

  #producerOf(upstream: Upstream, name: UpstreamName, upstreamUrl: URL | undefined): UpstreamProducer {
    const upstreamApiKey = this.#options.upstreamApiKeys[name]
    const apiKeyHeader = name === 'anthropic' ? 'x-api-key' : 'authorization'
    return new UpstreamProducer({ upstream, upstreamApiKey, apiKeyHeader, upstreamUrl, tiers: this.#tiers })
  }
}
