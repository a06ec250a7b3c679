import { CapacityMonitor, type CapacityReport } from '../capacity/capacity-monitor.js'
import { LoadSignals } from '../capacity/load-signals.js'
import { createCachingFetch } from '../client/fetch.js'
import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import { SingleFlight } from '../flight/single-flight.js'
import { PerInputEmbeddings } from '../embeddings/per-input-embeddings.js'
import { embeddings } from '../formats/embeddings.js'
import type { ApiFormat } from '../formats/format.js'
import { formatOfPath, providerFormatOf } from '../formats/registry.js'
import { Freshness } from '../freshness/freshness.js'
import { type Rescue, rescued } from '../freshness/stale-answer.js'
import { callerOf } from '../limits/caller-identity.js'
import { type AiCacheOptions, type ResolvedAiCacheOptions, resolveOptions } from '../options.js'
import { createPricing } from '../pricing/pricing.js'
import { parseDirectives } from '../request/directives.js'
import { semanticLookupOf, type SemanticLookup } from '../semantic/semantic-query.js'
import { createSemanticTier, type SemanticTier, similarityHeader } from '../semantic/semantic-tier.js'
import { cacheKeyOf, resolveScope } from '../request/key.js'
import type { CacheEntry } from '../store/entry.js'
import { recordQueued } from '../telemetry/end-of-turn.js'
import { type RequestObservation, Telemetry } from '../telemetry/telemetry.js'
import { TieredCache } from '../tiers/tiered-cache.js'
import { createWarmUp, type WarmUp, type WarmUpReport } from '../warm/warm-up.js'
import { type WarmOptions, type WarmReport, type WarmRequest, warmRequests } from '../warm/warm-requests.js'
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
import { type UpstreamProducers, Upstreams } from './upstreams.js'

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
  readonly #proxy: UpstreamProducers | undefined
  /** Where misses are answered in wrap mode (no `upstream`): the app's handler. */
  readonly #handler: HandlerProducer
  readonly #telemetry: Telemetry
  readonly #limits: RequestLimits
  readonly #freshness: Freshness
  readonly #ready: Promise<void>
  /** Embeddings cached input by input; `undefined` with `embeddings: false`. */
  readonly #perInput: PerInputEmbeddings | undefined
  /** The semantic cache, when the `semantic` option is given (docs/semantic-cache.md). */
  readonly #semantic: SemanticTier | undefined
  /** Hot-key ranking and warm-up from Redis (`warmUp`), when on. */
  readonly #warmUp: WarmUp | undefined
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
    const { embeddings: embeddingsOptions, ttlMs, normalize } = this.options
    this.#perInput =
      embeddingsOptions &&
      new PerInputEmbeddings({
        embeddings: embeddingsOptions,
        tiers: this.#tiers,
        telemetry: this.#telemetry,
        stats: this.#stats.embeddings,
        ttlMs,
        normalize,
        wholeRequest: (serving, namespace, generation) => this.#lookUpWhole(serving, namespace, generation),
      })
    this.#semantic = createSemanticTier(this.options, this.#tiers, this.#telemetry)
    this.#freshness = new Freshness({
      options: this.options,
      tiers: this.#tiers,
      telemetry: this.#telemetry,
      upstreamOpen: () => this.#upstreams.breakerGauge === 2,
    })
    this.#handler = new HandlerProducer({ tiers: this.#tiers, maxBytes: this.options.maxBytes, telemetry: this.#telemetry, stats: this.#stats })
    const { redis } = this.options
    this.#warmUp = createWarmUp(this.options)
    const connected = redis
      ? this.#tiers.connect(redis, (client) => {
          this.#limits.useRedis(client, redis.timeoutMs)
          this.#capacity?.useRedis(client, redis.prefix ?? 'aicache')
        })
      : Promise.resolve()
    this.#ready = this.#warmUp ? connected.then(() => this.#warmUp?.start(this.#tiers)) : connected
  }

  /**
   * Resolves once the Redis layer is connected (or given up on, after about
   * a second: it keeps connecting in the background) and, with `warmUp`,
   * the memory tier is filled with the hottest entries (or `warmUp.timeoutMs`
   * passed). Requests before that are served without L2, or cold. Never rejects.
   */
  ready(): Promise<void> {
    return this.#ready
  }

  /** How the warm-up from Redis at start went, once it ended (`warmUp`); `undefined` otherwise. */
  get warmUpReport(): WarmUpReport | undefined {
    return this.#warmUp?.report
  }

  /**
   * Pre-populates the cache: runs each request through the engine as a
   * client's would (misses go to the upstream, within its concurrency cap
   * and budget; cached ones are hits) and counts what became of each. A
   * string item is parsed as JSON; an item that is not a request is counted
   * as `invalid`, not thrown. Proxy mode only (misses need the upstream).
   * See docs/warm-up.md.
   *
   * @example
   * ```ts
   * const report = await cache.warm([{ format: 'chat', body: { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Hi' }] } }])
   * // { total: 1, stored: 1, cached: 0, uncached: 0, failed: 0, invalid: 0, skipped: 0, durationMs: 412 }
   * ```
   */
  async warm(requests: Iterable<WarmRequest | string>, options?: WarmOptions): Promise<WarmReport> {
    if (this.#proxy === undefined) {
      throw new AiCacheError('invalid_option', "warm() needs proxy mode (the 'upstream' option): misses are answered by the upstream.", { param: 'upstream' })
    }
    return warmRequests((request) => this.respond(request), requests, options)
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
    let format: ApiFormat | undefined
    try {
      const proxy = this.#proxy
      if (proxy === undefined) return this.#caught(request, this.#handleWrapped(request))
      if (!request.path.startsWith(gatewayPrefix)) return { type: 'next' }
      format = request.method === 'POST' ? formatOfPath(request.path) : undefined
      if (format === undefined) return this.#passthrough(request, proxy)
      // Each provider's calls go to its own upstream; one with none configured is the app's.
      const upstream = format.upstream === 'anthropic' ? proxy.anthropic : proxy.openai
      if (upstream === undefined) return { type: 'next' }
      const prepared = this.#preparer.openAi(request, format)
      if (isPromise(prepared)) {
        return prepared.then(
          (ready) => this.#serveCaught(request, ready, upstream),
          (error: unknown) => failedOutcome(this.#stats, request, error, 'answer', format),
        )
      }
      return this.#serveCaught(request, prepared, upstream)
    } catch (error) {
      return failedOutcome(this.#stats, request, error, 'answer', format)
    }
  }

  /** Handles one client-mode call of an API format's operation. */
  async handleClientCall(request: ExchangeRequest, format: ApiFormat, fetch: typeof globalThis.fetch): Promise<Outcome> {
    const upstream = this.#upstreams.forFetch(fetch, format.upstream)
    try {
      const prepared = await this.#preparer.openAi(request, format)
      return await this.#serve(request, prepared, upstream)
    } catch (error) {
      return failedOutcome(this.#stats, request, error, 'throw', format)
    }
  }

  /**
   * The answer to an error the framework found before the engine saw the
   * request (Fastify's own body limit, say): the same body (in the error
   * shape of the format at `path`, else OpenAI's) and `Cache-Status` as the
   * engine's own refusals, and counted with them in `stats().errors`.
   */
  refused(error: AiCacheError, path?: string): Outcome {
    this.#stats.errors++
    return errorOutcome(error, path === undefined ? undefined : formatOfPath(path))
  }

  /** Counters since creation. */
  stats(): AiCacheStats {
    const { memory, redis: layer } = this.#tiers
    const server = layer?.server
    const redis = layer && { connected: layer.connected, state: layer.state, errors: layer.errors, ...(server && { server }) }
    return this.#stats.snapshot({ entries: memory.entries, bytes: memory.bytes }, redis, this.#semantic?.stats())
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
    this.#freshness.close()
    this.#capacity?.close()
    this.#upstreams.close()
    this.#semantic?.close()
    await this.#warmUp?.close()
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
      return isPromise(served) ? this.#caught(request, served, prepared.format) : served
    } catch (error) {
      return failedOutcome(this.#stats, request, error, 'answer', prepared.format)
    }
  }

  /** Serves a cacheable request, observed from start to the end of its answer. */
  #serve(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Outcome | Promise<Outcome> {
    const observation = this.#telemetry.request(prepared.format, prepared.model, prepared.stream)
    try {
      const served = this.#serveObserved(request, prepared, producer, observation)
      return isPromise(served) ? served.catch((error: unknown) => observedFailure(request, observation, error, prepared.format)) : served
    } catch (error) {
      return observedFailure(request, observation, error, prepared.format)
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

  /** Looks the key up, fastest tier first; without a usable entry, a miss. Embeddings go input by input (docs/embeddings.md). */
  #lookUp(serving: Serving, namespace: string, generation: number): Outcome | Promise<Outcome> {
    if (serving.prepared.format === embeddings && this.#perInput !== undefined) {
      const served = this.#perInput.serve(serving, namespace, generation)
      if (served !== undefined) return served
    }
    return this.#lookUpWhole(serving, namespace, generation)
  }

  /** The request's own key, fastest tier first; without a usable entry, a miss. */
  #lookUpWhole(serving: Serving, namespace: string, generation: number): Outcome | Promise<Outcome> {
    const { observation, prepared } = serving
    const key = cacheKeyOf(prepared.keySlot, namespace, generation, serving.scope, prepared.requestDigest)
    observation.namespace = namespace
    observation.key = key
    this.#warmUp?.count(namespace, generation, key)
    if (serving.directives.noCache) return this.#serveMiss(serving, key, 'request')
    const nowMs = Date.now()
    const found = this.#tiers.lookUp(key, nowMs, observation)
    if (found === undefined) return this.#missed(serving, key, namespace, generation)
    if (!(found instanceof Promise)) return this.#serveEntry(serving, key, found, 'l1', nowMs)
    return found.then((remote) =>
      remote === undefined ? this.#missed(serving, key, namespace, generation) : this.#serveEntry(serving, key, remote.entry, remote.tier, Date.now()),
    )
  }

  /** No entry under the key: looked up by meaning when the semantic cache is on for the request, else a miss. */
  #missed(serving: Serving, key: string, namespace: string, generation: number): Outcome | Promise<Outcome> {
    const semantic = this.#semantic
    // An identical request already in flight answers this one exactly.
    if (semantic === undefined || this.#flights.join(key) !== undefined) return this.#serveMiss(serving, key, 'uri-miss')
    const { request, prepared, scope } = serving
    const lookup = semanticLookupOf(semantic.options, this.options.normalize, {
      format: prepared.format,
      body: () => prepared.body(),
      headers: request.headers,
      route: request.route,
      scope,
      namespace,
      generation,
    })
    return lookup === undefined ? this.#serveMiss(serving, key, 'uri-miss') : this.#serveSemantic(serving, key, semantic, lookup)
  }

  /** A semantic lookup: a neighbour's entry served as a hit (`detail=semantic`), else a miss whose answer joins the index. */
  async #serveSemantic(serving: Serving, key: string, semantic: SemanticTier, lookup: SemanticLookup): Promise<Outcome> {
    const { request, prepared, observation, directives } = serving
    const found = await semantic.find(lookup, {
      observation,
      signal: request.signal,
      caller: { headers: request.headers, native: request.native, fetch: this.fetch, upstream: this.options.upstream },
      show: (entry) => {
        const nowMs = Date.now()
        // Only a fresh entry: a stale one is served by the freshness rules of its own key, never to another question.
        return isTooOld(entry, directives, nowMs) || entry.createdAt + entry.ttlMs <= nowMs
          ? undefined
          : hitOf(entry, prepared, nowMs, 'semantic', this.options.replayPacing)
      },
    })
    if (found === undefined) return this.#serveMiss(serving, key, 'uri-miss', lookup)
    if (found.foundIn !== 'l1') this.#tiers.promote(found.key, found.entry, Date.now())
    const hit = withHeaders(found.outcome, { [similarityHeader]: found.similarity.toFixed(4) })
    const rateLimitHeaders = await admitHit(serving.limiter, serving.caller, found.entry.usage, observation)
    return answerHit(observation, hit, found.entry, 'semantic', rateLimitHeaders)
  }

  /** A stored entry: a hit, unless it is too old for the request, expired, or cannot be shown the way it asks. */
  #serveEntry(serving: Serving, key: string, entry: CacheEntry, tier: Tier, nowMs: number): Outcome | Promise<Outcome> {
    if (isTooOld(entry, serving.directives, nowMs)) return this.#serveMiss(serving, key, 'stale')
    if (entry.createdAt + entry.ttlMs <= nowMs) return this.#serveExpired(serving, key, entry, tier, nowMs)
    const hit = hitOf(entry, serving.prepared, nowMs, tier, this.options.replayPacing)
    if (hit === undefined) return this.#serveMiss(serving, key, 'uri-miss')
    if (tier !== 'l1') this.#tiers.promote(key, entry, nowMs, this.#freshness.graceOf(serving))
    if (this.#freshness.refreshAhead !== undefined) this.#freshness.refreshIfHot(serving, key, entry, nowMs)
    return this.#answerHit(serving, hit, entry, tier)
  }

  /**
   * An entry kept past its freshness (docs/freshness.md): answered at once
   * and refreshed in the background within stale-while-revalidate, kept to
   * answer if the upstream fails within stale-if-error; otherwise a miss.
   */
  #serveExpired(serving: Serving, key: string, entry: CacheEntry, tier: Tier, nowMs: number): Outcome | Promise<Outcome> {
    const use = this.#freshness.useOf(serving, entry, nowMs)
    if (use === 'revalidate') {
      const stale = this.#freshness.answerRevalidating(serving, entry, tier)
      if (stale !== undefined) {
        this.#freshness.refresh(serving, key, entry, 'revalidate')
        return this.#answerHit(serving, stale, entry, tier)
      }
    }
    return this.#serveMiss(serving, key, 'stale', undefined, use === undefined ? undefined : this.#freshness.rescueOf(serving, entry, tier))
  }

  /** A hit's answer, once the rate limit admitted it. */
  #answerHit(serving: Serving, hit: Outcome, entry: CacheEntry, tier: Tier): Outcome | Promise<Outcome> {
    const { observation } = serving
    const admitted = admitHit(serving.limiter, serving.caller, entry.usage, observation)
    if (admitted === undefined) return answerHit(observation, hit, entry, tier, undefined)
    return admitted.then((rateLimitHeaders) => answerHit(observation, hit, entry, tier, rateLimitHeaders))
  }

  /**
   * No fresh entry (`reason` says why): the request follows a production in
   * flight here, or starts one; `lookup` adds its answer to the semantic
   * index once stored; `rescue` answers from a stale entry if it fails.
   */
  async #serveMiss(serving: Serving, key: string, reason: ForwardReason, lookup?: SemanticLookup, rescue?: Rescue): Promise<Outcome> {
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
        const followed = await rescued(followProduction(prepared, flight.value, { reason: 'uri-miss', collapsed: true }), rescue)
        return observation.settle(withHeaders(followed, admission?.headers))
      }
    }

    const ttlMs = directives.ttlMs ?? this.options.ttlMs
    const plan: StorePlan | undefined =
      ttlMs > 0
        ? { key, ttlMs, format: prepared.format, model: prepared.model, requestBody: () => prepared.body(), graceMs: this.#freshness.graceOf(serving) }
        : undefined
    const flight = startProduction(this.#flights, key, admission, estimatedTokens)
    if (producer.stopsWhenAbandoned) flight.attach(request.signal)
    const { value: production, signal } = flight
    if (lookup !== undefined && plan !== undefined) this.#semantic?.addWhenStored(lookup, key, production, ttlMs)
    return producer.produce({ request, prepared, observation, reason, production, signal, plan, rateLimitHeaders: admission?.headers, rescue })
  }

  /**
   * Any other `/v1/` route: forwarded untouched and uncached, to the
   * upstream of the provider it belongs to (`providerFormatOf`), whose
   * error shape aicache's own errors take.
   */
  #passthrough(request: ExchangeRequest, proxy: UpstreamProducers): Promise<Outcome> {
    const provider = providerFormatOf(request.path, request.headers)
    const upstream = (provider?.upstream === 'anthropic' ? proxy.anthropic : undefined) ?? proxy.openai ?? proxy.anthropic
    this.#stats.passthrough++
    return this.#caught(request, (upstream as UpstreamProducer).passThrough(request, this.#serialiseParsed), provider)
  }

  #caught(request: ExchangeRequest, served: Promise<Outcome>, format?: ApiFormat): Promise<Outcome> {
    return served.catch((error: unknown) => failedOutcome(this.#stats, request, error, 'answer', format))
  }
}
