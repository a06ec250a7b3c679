import { CapacityMonitor, type CapacityReport } from '../capacity/capacity-monitor.js'
import { LoadSignals } from '../capacity/load-signals.js'
import { createCachingFetch } from '../client/fetch.js'
import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import { SingleFlight } from '../flight/single-flight.js'
import type { ApiFormat } from '../formats/format.js'
import { formatOfPath } from '../formats/registry.js'
import { callerOf } from '../limits/caller-identity.js'
import { type AiCacheOptions, type ResolvedAiCacheOptions, resolveOptions } from '../options.js'
import { createPricing } from '../pricing/pricing.js'
import { parseDirectives } from '../request/directives.js'
import { cacheKeyOf, resolveScope } from '../request/key.js'
import type { CacheEntry } from '../store/entry.js'
import { recordQueued } from '../telemetry/end-of-turn.js'
import { type RequestObservation, Telemetry } from '../telemetry/telemetry.js'
import { TieredCache } from '../tiers/tiered-cache.js'
import type { ForwardReason, Tier } from './cache-status.js'
import { failedOutcome, observedFailure } from './failures.js'
import { followProduction } from './follow.js'
import { HandlerProducer } from './handler-producer.js'
import { answerHit, hitOf, isTooOld } from './hit.js'
import { errorOutcome, withHeaders } from './outcomes.js'
import { type PreparedRequest, RequestPreparer } from './prepare.js'
import { type Producer, startProduction } from './producer.js'
import { admitHit, admitMiss } from './rate-limit-gate.js'
import type { StorePlan } from './recording.js'
import { RequestLimits } from './request-limits.js'
import { reserialiser } from './reserialise.js'
import { type AiCacheStats, StatsRecorder } from './stats.js'
import { isPromise, type Serving } from './serving.js'
import type { UpstreamProducer } from './upstream-producer.js'
import { Upstreams } from './upstreams.js'

const gatewayPrefix = '/v1/'
// The same symbol in the ESM and the CommonJS build (decision 0015).
const engineBrand = Symbol.for('aicache.engine')

/**
 * The engine: the one place that knows the order of a request's stages.
 * Adapters translate their framework to {@link ExchangeRequest} and carry out
 * the {@link Outcome}; the client-mode `fetch` uses it the same way. The
 * tiers are {@link TieredCache}'s (decision 0027); a miss's answer comes
 * from a {@link Producer}: the upstream, or the app's handler in wrap mode.
 */
export class AiCache {
  /** Marks engines of either module build; see {@link AiCache.isInstance}. */
  readonly [engineBrand] = true
  readonly options: ResolvedAiCacheOptions
  /**
   * Client mode: a drop-in `fetch` for `new OpenAI({ fetch: cache.fetch })`
   * that answers OpenAI-compatible calls from this cache.
   */
  readonly fetch: typeof globalThis.fetch
  readonly #serialiseParsed = reserialiser()
  readonly #preparer: RequestPreparer
  readonly #tiers: TieredCache
  readonly #flights = new SingleFlight<Production>()
  readonly #stats = new StatsRecorder()
  /** Where misses are answered in proxy and client mode. */
  readonly #upstreams: Upstreams
  readonly #proxy: UpstreamProducer | undefined
  /** Where misses are answered in wrap mode (no `upstream`): the app's handler. */
  readonly #handler: HandlerProducer
  readonly #telemetry: Telemetry
  readonly #limits: RequestLimits
  readonly #ready: Promise<void>
  readonly #capacity: CapacityMonitor | undefined

  constructor(options: AiCacheOptions = {}) {
    this.options = resolveOptions(options)
    this.#preparer = new RequestPreparer(this.options, this.#serialiseParsed)
    this.#tiers = new TieredCache(this.options)
    this.#upstreams = new Upstreams(this.options, this.#tiers)
    this.#proxy = this.#upstreams.proxy
    this.#limits = new RequestLimits(this.options)
    this.fetch = createCachingFetch(this, this.options.fetch)
    const signals = new LoadSignals()
    const upstreamLoad = () => this.#upstreams.load()
    const { upstreamBudget } = this.options.resilience
    if (this.options.capacity) {
      this.#capacity = new CapacityMonitor(this.options.capacity, signals, () => upstreamLoad() ?? { inFlight: 0, queued: 0, budgetQueued: 0 })
    }
    this.#telemetry = new Telemetry(this.options.telemetry, createPricing({ overrides: this.options.prices }), this.#stats, {
      memory: () => ({ bytes: this.#tiers.memory.bytes, entries: this.#tiers.memory.entries }),
      breakerState: () => this.#upstreams.breakerGauge,
      redisErrors: () => this.#tiers.remote?.errors,
      redis: () => this.#tiers.redis,
      capacity: { signals, upstreamLoad, budget: upstreamBudget || undefined, forecast: () => this.#capacity?.latest },
    })
    this.#handler = new HandlerProducer({ tiers: this.#tiers, maxBytes: this.options.maxBytes, telemetry: this.#telemetry, stats: this.#stats })
    const { redis } = this.options
    this.#ready = redis
      ? this.#tiers.connect(redis, (client) => {
          this.#limits.useRedis(client, redis.timeoutMs)
          this.#capacity?.useRedis(client, redis.prefix ?? 'aicache')
        })
      : Promise.resolve()
  }

  /**
   * Resolves once the Redis layer is connected (or given up on, after about
   * a second: it keeps connecting in the background). Requests before that
   * are served without L2.
   */
  ready(): Promise<void> {
    return this.#ready
  }

  /**
   * Whether `value` is an engine, made by this build of `@aicache/core` or
   * the other one (an app can load the ESM and the CommonJS build side by
   * side, and `instanceof` is false across them).
   *
   * @example
   * ```ts
   * const engine = AiCache.isInstance(input) ? input : createAiCache(input)
   * ```
   */
  static isInstance(value: unknown): value is AiCache {
    return typeof value === 'object' && value !== null && (value as { [engineBrand]?: unknown })[engineBrand] === true
  }

  /**
   * Handles one request of a server framework. In proxy mode the gateway
   * routes (`/v1/*`) are answered, other paths go on to the app; in wrap
   * mode `POST` requests that are LLM calls (or any JSON `POST` of a route
   * the middleware is mounted on) are served from the cache or captured.
   */
  async handle(request: ExchangeRequest): Promise<Outcome> {
    return this.respond(request)
  }

  /**
   * {@link handle}, answering at once when nothing has to be waited for: a
   * memory-tier hit whose body the adapter already holds (`readBody`
   * returned bytes, not a promise) and that no Redis call or rate limit
   * delays comes back as an outcome, not a promise, so a hit costs no
   * promise and no microtask. Adapters call this one; it throws only what
   * `handle` would reject with.
   */
  respond(request: ExchangeRequest): Outcome | Promise<Outcome> {
    try {
      if (this.#proxy === undefined) return this.#caught(request, this.#handleWrapped(request))
      if (!request.path.startsWith(gatewayPrefix)) return { type: 'next' }
      const upstream = this.#proxy
      const format = request.method === 'POST' ? formatOfPath(request.path) : undefined
      if (format === undefined) return this.#caught(request, this.#passthrough(request, upstream))
      const prepared = this.#preparer.openAi(request, format)
      if (isPromise(prepared)) {
        return prepared.then(
          (ready) => this.#serveCaught(request, ready, upstream),
          (error: unknown) => failedOutcome(this.#stats, request, error),
        )
      }
      return this.#serveCaught(request, prepared, upstream)
    } catch (error) {
      return failedOutcome(this.#stats, request, error)
    }
  }

  /** Handles one client-mode call of an API format's operation. */
  async handleClientCall(request: ExchangeRequest, format: ApiFormat, fetch: typeof globalThis.fetch): Promise<Outcome> {
    const upstream = this.#upstreams.forFetch(fetch)
    try {
      const prepared = await this.#preparer.openAi(request, format)
      return await this.#serve(request, prepared, upstream)
    } catch (error) {
      return failedOutcome(this.#stats, request, error, 'throw')
    }
  }

  /**
   * The answer to an error the framework found before the engine saw the
   * request (Fastify's own body limit, say): the same OpenAI-style body and
   * `Cache-Status` as the engine's own refusals, and counted with them in
   * `stats().errors`.
   */
  refused(error: AiCacheError): Outcome {
    this.#stats.errors++
    return errorOutcome(error)
  }

  /** Counters since creation. */
  stats(): AiCacheStats {
    const { memory, redis: layer } = this.#tiers
    const server = layer?.server
    const redis = layer && { connected: layer.connected, state: layer.state, errors: layer.errors, ...(server && { server }) }
    return this.#stats.snapshot({ entries: memory.entries, bytes: memory.bytes }, redis)
  }

  /**
   * The load forecast, the recommended instances and upstream concurrency,
   * and the history they came from; `undefined` without the `capacity`
   * option. See docs/capacity.md.
   */
  capacity(): CapacityReport | undefined {
    return this.#capacity?.report()
  }

  /**
   * Invalidates every entry of a namespace (the default one when omitted),
   * in O(1): its generation, part of every key, is bumped. `{ all: true }`
   * invalidates every namespace, including ones never seen here: it bumps
   * the epoch, which is part of every namespace's generation. With Redis,
   * every instance sees the new generation.
   */
  async invalidate(target: { namespace?: string; all?: boolean } = {}): Promise<void> {
    await this.#tiers.invalidate(target, this.options.namespace)
  }

  /** Drops every entry of the memory tier. */
  clear(): void {
    this.#tiers.clear()
  }

  /** Closes upstream and Redis connections. */
  async close(): Promise<void> {
    // Spans and latency points still waiting for the end of this turn go to the SDK now, before it may shut down too.
    recordQueued()
    this.#capacity?.close()
    this.#upstreams.close()
    await this.#tiers.close()
  }

  // ---- A request's stages, in order ----

  async #handleWrapped(request: ExchangeRequest): Promise<Outcome> {
    const prepared = await this.#preparer.wrapped(request)
    if ('notCached' in prepared) return { type: 'next', body: prepared.body }
    return this.#serve(request, prepared, this.#handler)
  }

  #serveCaught(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Outcome | Promise<Outcome> {
    try {
      const served = this.#serve(request, prepared, producer)
      return isPromise(served) ? this.#caught(request, served) : served
    } catch (error) {
      return failedOutcome(this.#stats, request, error)
    }
  }

  /** Serves a cacheable request, observed from start to the end of its answer. */
  #serve(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Outcome | Promise<Outcome> {
    const observation = this.#telemetry.request(prepared.format, prepared.model, prepared.stream)
    try {
      const served = this.#serveObserved(request, prepared, producer, observation)
      return isPromise(served) ? served.catch((error: unknown) => observedFailure(request, observation, error)) : served
    } catch (error) {
      return observedFailure(request, observation, error)
    }
  }

  /** Directives, scope and limits; then no-store, or the namespace's generation and the lookup. */
  #serveObserved(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer, observation: RequestObservation): Outcome | Promise<Outcome> {
    const directives = parseDirectives(request.headers, request.route)
    const scope = resolveScope(this.options.scope, request)
    const limiter = this.#limits.for(request.route)
    const caller = limiter === undefined ? scope : callerOf(limiter.options.identity, request, scope)
    const serving: Serving = { request, prepared, producer, observation, directives, scope, caller, limiter }
    if (directives.noStore || prepared.uncached === true) return this.#serveUnstored(serving)
    const namespace = directives.namespace ?? this.options.namespace
    const generation = this.#tiers.generation(namespace)
    return typeof generation === 'number' ? this.#lookUp(serving, namespace, generation) : generation.then((loaded) => this.#lookUp(serving, namespace, loaded))
  }

  /** `Cache-Control: no-store`, or a request its format never caches: forwarded, neither looked up nor stored. */
  async #serveUnstored(serving: Serving): Promise<Outcome> {
    const { request, prepared, producer, observation, caller, limiter } = serving
    observation.result = 'bypass'
    const { admission, estimatedTokens } = await admitMiss(limiter, caller, prepared, observation)
    // The answer is passed through unread: keep the estimate as what it spent.
    void admission?.settle(estimatedTokens)
    return observation.settle(withHeaders(await producer.bypass(request, prepared), admission?.headers))
  }

  /** Looks the key up, fastest tier first; without a usable entry, a miss. */
  #lookUp(serving: Serving, namespace: string, generation: number): Outcome | Promise<Outcome> {
    const { observation, prepared } = serving
    const key = cacheKeyOf(prepared.keySlot, namespace, generation, serving.scope, prepared.requestDigest)
    observation.namespace = namespace
    observation.key = key
    if (serving.directives.noCache) return this.#serveMiss(serving, key, 'request')
    const nowMs = Date.now()
    const found = this.#tiers.lookUp(key, nowMs, observation)
    if (found === undefined) return this.#serveMiss(serving, key, 'uri-miss')
    if (!(found instanceof Promise)) return this.#serveEntry(serving, key, found, 'l1', nowMs)
    return found.then((remote) =>
      remote === undefined ? this.#serveMiss(serving, key, 'uri-miss') : this.#serveEntry(serving, key, remote.entry, remote.tier, Date.now()),
    )
  }

  /** A stored entry: a hit, unless it is too old for the request or cannot be shown the way it asks. */
  #serveEntry(serving: Serving, key: string, entry: CacheEntry, tier: Tier, nowMs: number): Outcome | Promise<Outcome> {
    if (isTooOld(entry, serving.directives, nowMs)) return this.#serveMiss(serving, key, 'stale')
    const hit = hitOf(entry, serving.prepared, nowMs, tier, this.options.replayPacing)
    if (hit === undefined) return this.#serveMiss(serving, key, 'uri-miss')
    if (tier !== 'l1') this.#tiers.promote(key, entry, nowMs)
    const { observation } = serving
    const admitted = admitHit(serving.limiter, serving.caller, entry.usage, observation)
    if (admitted === undefined) return answerHit(observation, hit, entry, tier, undefined)
    return admitted.then((rateLimitHeaders) => answerHit(observation, hit, entry, tier, rateLimitHeaders))
  }

  /** No fresh entry (`reason` says why): the request follows a production in flight here, or starts one. */
  async #serveMiss(serving: Serving, key: string, reason: ForwardReason): Promise<Outcome> {
    const { request, prepared, producer, observation, directives, caller, limiter } = serving
    if (directives.onlyIfCached) {
      throw new AiCacheError('not_cached', 'The request said only-if-cached and no fresh answer is stored.')
    }
    const { admission, estimatedTokens } = limiter ? await admitMiss(limiter, caller, prepared, observation) : { admission: undefined, estimatedTokens: 0 }
    if (!directives.noCache) {
      const flight = this.#flights.join(key)
      if (flight !== undefined) {
        observation.result = 'coalesced'
        if (producer.stopsWhenAbandoned) flight.attach(request.signal)
        // Sharing another request's call spends no tokens.
        void admission?.settle(0)
        const followed = await followProduction(prepared, flight.value, { reason: 'uri-miss', collapsed: true })
        return observation.settle(withHeaders(followed, admission?.headers))
      }
    }

    const ttlMs = directives.ttlMs ?? this.options.ttlMs
    const plan: StorePlan | undefined =
      ttlMs > 0 ? { key, ttlMs, format: prepared.format, model: prepared.model, requestBody: () => prepared.body() } : undefined
    const flight = startProduction(this.#flights, key, admission, estimatedTokens)
    if (producer.stopsWhenAbandoned) flight.attach(request.signal)
    const { value: production, signal } = flight
    return producer.produce({ request, prepared, observation, reason, production, signal, plan, rateLimitHeaders: admission?.headers })
  }

  /** Any other `/v1/` route: forwarded untouched and uncached. */
  async #passthrough(request: ExchangeRequest, upstream: UpstreamProducer): Promise<Outcome> {
    this.#stats.passthrough++
    return upstream.passThrough(request, this.#serialiseParsed)
  }

  #caught(request: ExchangeRequest, served: Promise<Outcome>): Promise<Outcome> {
    return served.catch((error: unknown) => failedOutcome(this.#stats, request, error))
  }
}
