import { createCachingFetch } from '../client/fetch.js'
import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import { Production } from '../flight/production.js'
import { SingleFlight } from '../flight/single-flight.js'
import type { ApiFormat } from '../formats/format.js'
import { formatOfPath } from '../formats/registry.js'
import { callerOf } from '../limits/caller-identity.js'
import { createRateLimiter, type RateLimiter } from '../limits/rate-limiter.js'
import { createRedisCounterStore } from '../limits/redis-counter-store.js'
import { type AiCacheOptions, type ResolvedAiCacheOptions, resolveOptions } from '../options.js'
import { createPricing } from '../pricing/pricing.js'
import { parseDirectives, type RequestDirectives } from '../request/directives.js'
import { cacheKeyOf, resolveScope } from '../request/key.js'
import { type CacheEntry, entryAgeSeconds } from '../store/entry.js'
import { createMemoryTier, type MemoryTier } from '../store/memory-tier.js'
import { NamespaceGenerations } from '../store/namespaces.js'
import { allNamespaces, createRedisLayer, type RedisLayer } from '../store/redis-layer.js'
import type { RedisLayerOptions } from '../store/redis-layer-options.js'
import { recordQueued } from '../telemetry/end-of-turn.js'
import { type RequestObservation, Telemetry } from '../telemetry/telemetry.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'
import { createFetchUpstream } from '../upstream/fetch-upstream.js'
import { forwardRequestHeaders } from '../upstream/headers.js'
import { createHttpUpstream } from '../upstream/http-upstream.js'
import { upstreamPathOf } from '../upstream/upstream-path.js'
import { createResilientUpstream, type ResilienceHooks } from '../upstream/resilient-upstream.js'
import type { Upstream } from '../upstream/types.js'
import { captureHandler } from './capture.js'
import type { ForwardReason, Tier } from './cache-status.js'
import { type Claim, feedFromClaim, followProduction } from './follow.js'
import { internalError } from './internal-error.js'
import { forwardedBody } from './passthrough-body.js'
import { errorOutcome, hitOutcome, pacedHitOutcome, streamOutcome, withHeaders } from './outcomes.js'
import { type PreparedRequest, RequestPreparer } from './prepare.js'
import { pumpUpstream, upstreamTarget } from './pump.js'
import { admitHit, admitMiss } from './rate-limit-gate.js'
import { RouteLimiters } from './route-limits.js'
import type { StorePlan } from './recording.js'
import { represent } from './representation.js'
import { type AiCacheStats, StatsRecorder } from './stats.js'

/** Where a miss is answered from: an upstream, or the app's own handler. */
type Producer = Upstream | 'handler'


const gatewayPrefix = '/v1/'
// The same symbol in the ESM and the CommonJS build (decision 0015).
const engineBrand = Symbol.for('aicache.engine')
const noBody = Buffer.alloc(0)

/**
 * The engine: the one place that knows the order of a request's stages.
 * Adapters translate their framework to {@link ExchangeRequest} and carry out
 * the {@link Outcome}; the client-mode `fetch` uses it the same way.
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
  readonly #preparer: RequestPreparer
  readonly #memory: MemoryTier
  readonly #generations = new NamespaceGenerations()
  readonly #flights = new SingleFlight<Production>()
  readonly #stats = new StatsRecorder()
  readonly #upstream: Upstream | undefined
  readonly #telemetry: Telemetry
  #limiter: RateLimiter | undefined
  readonly #routeLimiters: RouteLimiters
  #redis: RedisLayer | undefined
  #closed = false
  readonly #ready: Promise<void>
  readonly #resilienceHooks: ResilienceHooks
  #breakerState: CircuitState | undefined
  #fetchUpstream: Upstream | undefined
  #warnedReserialised = false

  constructor(options: AiCacheOptions = {}) {
    this.options = resolveOptions(options)
    this.#preparer = new RequestPreparer(this.options, (parsed) => this.#serialiseParsed(parsed))
    this.#memory = this.options.memoryTier ? createMemoryTier({ maxBytes: this.options.maxBytes }) : noMemoryTier
    this.#resilienceHooks = { onBreakerStateChange: (state) => (this.#breakerState = state) }
    this.#upstream = this.options.upstream
      ? createResilientUpstream(
          createHttpUpstream({ baseUrl: this.options.upstream, timeoutMs: this.options.upstreamTimeoutMs }),
          this.options.resilience,
          this.#resilienceHooks,
        )
      : undefined
    this.#limiter = this.options.rateLimit ? createRateLimiter(this.options.rateLimit) : undefined
    this.#routeLimiters = new RouteLimiters(this.options.upstreamApiKey !== undefined && this.options.scope === 'credential')
    this.fetch = createCachingFetch(this, this.options.fetch)
    this.#telemetry = new Telemetry(this.options.telemetry, createPricing({ overrides: this.options.prices }), this.#stats, {
      memory: () => ({ bytes: this.#memory.bytes, entries: this.#memory.entries }),
      breakerState: () => (this.#breakerState === undefined ? undefined : breakerGauge[this.#breakerState]),
      redisErrors: () => this.#redis?.errors,
      redis: () => this.#redis,
    })
    this.#ready = this.options.redis ? this.#connectRedis(this.options.redis) : Promise.resolve()
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

  async #connectRedis(options: RedisLayerOptions): Promise<void> {
    try {
      const layer = await createRedisLayer({
        ...options,
        // Once per state change, not once per request (RFC-style fail-open).
        onStateChange: (state, error) => {
          if (options.onStateChange) options.onStateChange(state, error)
          else console.warn(`aicache: Redis circuit ${state}${error ? `: ${(error as Error).message}` : ''}`)
        },
      })
      if (this.#closed) return void (await layer.close())
      this.#redis = layer
      // Another instance deleted a key: drop our copy too. Namespace bumps need
      // nothing here: the generation is part of every key.
      layer.onInvalidate((message) => {
        if (message.kind === 'key') this.#memory.delete(message.key)
      })
      // The limiter's Redis calls keep the layer's deadline when one was set (else the limiter's own, 200 ms).
      const storeTimeoutMs = options.timeoutMs
      if (this.options.rateLimit) {
        this.#limiter = createRateLimiter(this.options.rateLimit, { store: createRedisCounterStore(layer.client), storeTimeoutMs })
      }
      this.#routeLimiters.useStore((prefix) => createRedisCounterStore(layer.client, { prefix }), storeTimeoutMs)
    } catch (error) {
      console.warn(`aicache: Redis is not used: ${(error as Error).message}`)
    }
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
      if (this.#upstream === undefined) return this.#caught(request, this.#handleWrapped(request))
      if (!request.path.startsWith(gatewayPrefix)) return { type: 'next' }
      const upstream = this.#upstream
      const format = request.method === 'POST' ? formatOfPath(request.path) : undefined
      if (format === undefined) return this.#caught(request, this.#passthrough(request, upstream))
      const prepared = this.#preparer.openAi(request, format)
      if (isPromise(prepared)) {
        return prepared.then(
          (ready) => this.#serveCaught(request, ready, upstream),
          (error: unknown) => this.#failed(request, error),
        )
      }
      return this.#serveCaught(request, prepared, upstream)
    } catch (error) {
      return this.#failed(request, error)
    }
  }

  #serveCaught(request: ExchangeRequest, prepared: PreparedRequest, upstream: Upstream): Outcome | Promise<Outcome> {
    try {
      const served = this.#serve(request, prepared, upstream)
      return isPromise(served) ? this.#caught(request, served) : served
    } catch (error) {
      return this.#failed(request, error)
    }
  }

  /** Handles one client-mode call of an API format's operation. */
  async handleClientCall(
    request: ExchangeRequest,
    format: ApiFormat,
    fetch: typeof globalThis.fetch,
  ): Promise<Outcome> {
    this.#fetchUpstream ??= createResilientUpstream(
      createFetchUpstream({ fetch, timeoutMs: this.options.upstreamTimeoutMs }),
      this.options.resilience,
      this.#resilienceHooks,
    )
    try {
      const prepared = await this.#preparer.openAi(request, format)
      return await this.#serve(request, prepared, this.#fetchUpstream)
    } catch (error) {
      return this.#failed(request, error, 'throw')
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
    const layer = this.#redis
    const server = layer?.server
    const redis = layer && { connected: layer.connected, state: layer.state, errors: layer.errors, ...(server && { server }) }
    return this.#stats.snapshot({ entries: this.#memory.entries, bytes: this.#memory.bytes }, redis)
  }

  /**
   * Invalidates every entry of a namespace (the default one when omitted),
   * in O(1): its generation, part of every key, is bumped. `{ all: true }`
   * invalidates every namespace, including ones never seen here: it bumps
   * the epoch, which is part of every namespace's generation. With Redis,
   * every instance sees the new generation.
   */
  async invalidate(target: { namespace?: string; all?: boolean } = {}): Promise<void> {
    if (target.all === true && target.namespace !== undefined) {
      throw new AiCacheError('invalid_value', "Invalidate either one 'namespace' or 'all', not both.", { param: 'all' })
    }
    const namespace = target.all === true ? allNamespaces : (target.namespace ?? this.options.namespace)
    if (namespace === allNamespaces && target.all !== true) {
      throw new AiCacheError('invalid_value', `'${allNamespaces}' is not a namespace; invalidate with { all: true }.`, { param: 'namespace' })
    }
    if (this.#redis) await this.#redis.bumpGeneration(namespace)
    else this.#generations.bump(namespace)
  }

  /** Drops every entry of the memory tier. */
  clear(): void {
    this.#memory.clear()
  }

  /** Closes upstream and Redis connections. */
  async close(): Promise<void> {
    this.#closed = true
    // Spans and latency points still waiting for the end of this turn go to the SDK now, before it may shut down too.
    recordQueued()
    this.#upstream?.close()
    await this.#redis?.close()
  }

  async #handleWrapped(request: ExchangeRequest): Promise<Outcome> {
    const prepared = await this.#preparer.wrapped(request)
    if ('notCached' in prepared) return { type: 'next', body: prepared.body }
    return this.#serve(request, prepared, 'handler')
  }

  /** Serves a cacheable request, observed from start to the end of its answer. */
  #serve(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Outcome | Promise<Outcome> {
    const observation = this.#telemetry.request(prepared.format, prepared.model, prepared.stream)
    try {
      const served = this.#serveObserved(request, prepared, producer, observation)
      return isPromise(served) ? served.catch((error: unknown) => serveFailed(request, observation, error)) : served
    } catch (error) {
      return serveFailed(request, observation, error)
    }
  }

  #serveObserved(
    request: ExchangeRequest,
    prepared: PreparedRequest,
    producer: Producer,
    observation: RequestObservation,
  ): Outcome | Promise<Outcome> {
    const directives = parseDirectives(request.headers, request.route)
    const scope = resolveScope(this.options.scope, request)
    const limiter = request.route === undefined ? this.#limiter : this.#routeLimiters.for(request.route, this.#limiter)
    const caller = limiter === undefined ? scope : callerOf(limiter.options.identity, request, scope)
    const serving: Serving = { request, prepared, producer, observation, directives, scope, caller, limiter }
    if (directives.noStore) return this.#serveUnstored(serving)
    const namespace = directives.namespace ?? this.options.namespace
    const generation = this.#generationOf(namespace)
    return typeof generation === 'number'
      ? this.#lookUp(serving, namespace, generation)
      : generation.then((loaded) => this.#lookUp(serving, namespace, loaded))
  }

  /** `Cache-Control: no-store`: forwarded, neither looked up nor stored. */
  async #serveUnstored(serving: Serving): Promise<Outcome> {
    const { request, prepared, producer, observation, caller, limiter } = serving
    observation.result = 'bypass'
    const { admission, estimatedTokens } = await admitMiss(limiter, caller, prepared, observation)
    // The answer is passed through unread: keep the estimate as what it spent.
    void admission?.settle(estimatedTokens)
    return observation.settle(withHeaders(await this.#bypass(request, prepared, producer), admission?.headers))
  }

  /** Looks the key up in the memory tier, then in Redis; without a usable entry, a miss. */
  #lookUp(serving: Serving, namespace: string, generation: number): Outcome | Promise<Outcome> {
    const { observation, prepared } = serving
    const key = cacheKeyOf(prepared.keySlot, namespace, generation, serving.scope, prepared.requestDigest)
    observation.namespace = namespace
    observation.key = key
    if (serving.directives.noCache) return this.#serveMiss(serving, key, 'request')
    const nowMs = Date.now()
    const entry = this.#memory.get(key, nowMs)
    if (entry !== undefined) return this.#serveEntry(serving, key, entry, 'l1', nowMs)
    const redis = this.#redis
    return redis === undefined ? this.#serveMiss(serving, key, 'uri-miss') : this.#lookUpRemote(serving, key, redis)
  }

  async #lookUpRemote(serving: Serving, key: string, redis: RedisLayer): Promise<Outcome> {
    const lookupStartedAt = performance.now()
    const entry = await redis.get(key)
    serving.observation.lookedUp('l2', lookupStartedAt, entry !== undefined)
    return entry === undefined ? this.#serveMiss(serving, key, 'uri-miss') : this.#serveEntry(serving, key, entry, 'l2', Date.now())
  }

  /** A stored entry: a hit, unless it is too old for the request or cannot be shown the way it asks. */
  #serveEntry(serving: Serving, key: string, entry: CacheEntry, tier: Tier, nowMs: number): Outcome | Promise<Outcome> {
    if (isTooOld(entry, serving.directives, nowMs)) return this.#serveMiss(serving, key, 'stale')
    const hit = this.#hit(entry, serving.prepared, nowMs, tier)
    if (hit === undefined) return this.#serveMiss(serving, key, 'uri-miss')
    // An L2 hit is promoted to L1 for the rest of its freshness (or redis.localTtlMs).
    if (tier === 'l2') this.#memory.set(key, this.#locallyBounded(entry, nowMs))
    const { observation } = serving
    const admitted = admitHit(serving.limiter, serving.caller, entry.usage, observation)
    if (admitted === undefined) return answerHit(observation, hit, entry, tier, undefined)
    return admitted.then((rateLimitHeaders) => answerHit(observation, hit, entry, tier, rateLimitHeaders))
  }

  /** No fresh entry (`reason` says why): the request is answered by the upstream or the handler, or follows a call in flight. */
  async #serveMiss(serving: Serving, key: string, reason: ForwardReason): Promise<Outcome> {
    const { request, prepared, producer, observation, directives, caller, limiter } = serving
    if (directives.onlyIfCached) {
      throw new AiCacheError('not_cached', 'The request said only-if-cached and no fresh answer is stored.')
    }
    const { admission, estimatedTokens } = limiter
      ? await admitMiss(limiter, caller, prepared, observation)
      : { admission: undefined, estimatedTokens: 0 }
    if (!directives.noCache) {
      const flight = this.#flights.join(key)
      if (flight !== undefined) {
        observation.result = 'coalesced'
        if (producer !== 'handler') flight.attach(request.signal)
        // Sharing another request's call spends no tokens.
        void admission?.settle(0)
        const followed = await followProduction(prepared, flight.value, { reason: 'uri-miss', collapsed: true })
        return observation.settle(withHeaders(followed, admission?.headers))
      }
    }

    const ttlMs = directives.ttlMs ?? this.options.ttlMs
    const plan: StorePlan | undefined =
      ttlMs > 0
        ? { key, ttlMs, format: prepared.format, model: prepared.model, requestBody: () => prepared.body() }
        : undefined
    const production = new Production()
    const flight = this.#flights.start(key, production)
    const finish = () => flight.finish()
    production.result().then(finish, finish)
    if (admission) {
      production.result().then(
        (result) => admission.settle(result.usage ? result.usage.inputTokens + result.usage.outputTokens : estimatedTokens),
        () => admission.settle(0),
      )
    }
    if (producer === 'handler') {
      const claim = plan ? await this.#claim(key) : {}
      if (claim.entry !== undefined || claim.failure !== undefined) {
        // Another instance's handler answered meanwhile.
        observation.result = 'coalesced'
        feedFromClaim(production, claim)
        const followed = await followProduction(prepared, production, { reason, collapsed: true })
        return observation.settle(withHeaders(followed, admission?.headers))
      }
      const captured = withHeaders(
        captureHandler({
          prepared,
          production,
          plan,
          reason,
          lock: claim.lock,
          maxBytes: this.options.maxBytes,
          keep: (storePlan, entry, counted) => this.#keep(storePlan, entry, counted),
          onStored: (entry) => this.#handlerSpent(entry),
        }),
        admission?.headers,
      )
      return observation.settle(captured, production.result())
    }
    flight.attach(request.signal)
    void pumpUpstream({
      request,
      prepared,
      upstream: producer,
      upstreamApiKey: this.options.upstreamApiKey,
      production,
      signal: flight.signal,
      plan,
      startCall: () => observation.upstream(upstreamTarget(request, prepared, this.options.upstream)),
      onRemoteAnswer: () => (observation.result = 'coalesced'),
      claim: (claimKey) => this.#claim(claimKey),
      keep: (storePlan, entry, counted) => this.#keep(storePlan, entry, counted),
    })
    return observation.settle(withHeaders(await followProduction(prepared, production, { reason }), admission?.headers))
  }

  /**
   * The entry as the memory tier keeps it: with `l1TtlMs` (or
   * `redis.localTtlMs`), for at most that long from now, so hot answers live
   * briefly in memory and an instance that cannot hear invalidations (Redis
   * down) serves an invalidated entry for a known time at most. Redis keeps
   * the entry's own freshness.
   */
  #locallyBounded(entry: CacheEntry, nowMs: number): CacheEntry {
    const localTtlMs = this.options.l1TtlMs
    if (localTtlMs === undefined || entry.createdAt + entry.ttlMs <= nowMs + localTtlMs) return entry
    return { ...entry, ttlMs: nowMs + localTtlMs - entry.createdAt }
  }

  /** The entry as this request wants it, or `undefined` if it cannot be shown that way. */
  #hit(entry: CacheEntry, prepared: PreparedRequest, nowMs: number, tier: Tier): Outcome | undefined {
    const representation = represent(entry, prepared)
    if (representation === undefined) return undefined
    if (representation.events && this.options.replayPacing === 'recorded' && entry.format === 'sse') {
      return pacedHitOutcome(entry, { ...representation, events: representation.events }, tier, nowMs)
    }
    return hitOutcome(entry, representation, tier, nowMs)
  }

  /** The namespace's generation; read from Redis first when this instance may have missed a bump. */
  #generationOf(namespace: string): number | Promise<number> {
    const redis = this.#redis
    if (redis === undefined) return this.#generations.get(namespace)
    return redis.isGenerationSynced(namespace) ? redis.generation(namespace) : redis.loadGeneration(namespace)
  }

  /**
   * Cross-instance single-flight: waits while another instance makes the
   * same call. Returns its entry once written, its failure if it failed, or
   * the lock to make the call here (none without Redis, or when waiting took
   * longer than lockWaitMs).
   */
  async #claim(key: string): Promise<Claim> {
    const redis = this.#redis
    if (redis === undefined) return {}
    const deadline = Date.now() + this.options.lockWaitMs
    for (;;) {
      const lock = await redis.acquire(key)
      if (lock !== undefined) return { lock }
      const remainingMs = deadline - Date.now()
      if (remainingMs <= 0) return {}
      // The entry the holder wrote, or the failure it ended with (answered
      // as it is, not called again); if it died, try to take over.
      const answer = await redis.waitForAnswer(key, remainingMs)
      if (answer !== undefined) return answer
    }
  }

  /** What a wrapped handler's answer cost, as far as it told (its usage and model). */
  #handlerSpent(entry: CacheEntry | undefined): void {
    const costUsd = entry && this.#telemetry.priceOf(entry.model, entry.usage)
    if (costUsd !== undefined) this.#stats.spent(costUsd)
  }

  /**
   * Stores an entry: in L1 at once, in L2 in the background (never on the
   * response's path). Resolves when L2 has it (or gave up: fail-open). With
   * `counted` (a stream whose usage is being counted), the counted entry
   * replaces it when it arrives, unless the memory tier no longer holds this
   * one (it was deleted, invalidated or replaced meanwhile, and must stay so).
   */
  async #keep(plan: StorePlan | undefined, entry: CacheEntry | undefined, counted?: Promise<CacheEntry | undefined>): Promise<void> {
    if (plan === undefined || entry === undefined) return
    const local = this.#locallyBounded(entry, Date.now())
    this.#memory.set(plan.key, local)
    if (this.#redis) await this.#redis.set(plan.key, entry)
    const countedEntry = await counted
    if (countedEntry === undefined) return
    if (this.options.memoryTier && this.#memory.get(plan.key) !== local) return
    await this.#keep(plan, countedEntry)
  }

  async #bypass(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Promise<Outcome> {    if (producer === 'handler') {
      return { type: 'next', body: prepared.body(), headers: { 'cache-status': 'aicache; fwd=request; detail=no-store' } }
    }
    const response = await producer.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.options.upstreamApiKey),
      body: prepared.raw,
      signal: request.signal,
    })
    return streamOutcome(response, { reason: 'request', detail: 'no-store' })
  }

  /**
   * Any other `/v1/` route: forwarded untouched and uncached, after checking
   * that its path stays under the upstream's base path and framing its body
   * exactly (docs/security.md).
   */
  async #passthrough(request: ExchangeRequest, upstream: Upstream): Promise<Outcome> {
    this.#stats.passthrough++
    // Refused here, before the body is touched or the upstream's breaker sees it.
    upstreamPathOf('', request.url)
    const { body, bodyLength } = forwardedBody(request, (parsed) => this.#serialiseParsed(parsed))
    const response = await upstream.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.options.upstreamApiKey),
      body,
      bodyLength,
      signal: request.signal,
    })
    return streamOutcome(response, { reason: 'bypass' })
  }

  /**
   * A body a framework parser read before aicache, whose bytes are gone
   * (`express.json()` mounted first, without a `verify` hook keeping them):
   * serialised again to be forwarded, which can change it. Said once per
   * engine, with the fix.
   */
  #serialiseParsed(parsed: unknown): Buffer {
    if (!this.#warnedReserialised) {
      this.#warnedReserialised = true
      console.warn(
        'aicache: a body parser before aicache consumed the request body, so it is forwarded serialised again ' +
          '(big integers can lose digits, and malformed JSON goes to the app instead of an OpenAI-style 400). ' +
          'Mount aicache before the body parser, or keep the bytes: express.json({ verify: (req, res, buffer) => { req.rawBody = buffer } }). ' +
          'See docs/express.md.',
      )
    }
    return Buffer.from(JSON.stringify(parsed))
  }

  #caught(request: ExchangeRequest, served: Promise<Outcome>): Promise<Outcome> {
    return served.catch((error: unknown) => this.#failed(request, error))
  }

  /**
   * The answer to an error while serving. An error aicache did not expect
   * becomes a logged 500 in the OpenAI shape on a server (`unexpected:
   * 'answer'`), and is rethrown in client mode, where the caller's `fetch`
   * rejects with it.
   */
  #failed(request: ExchangeRequest, error: unknown, unexpected: 'answer' | 'throw' = 'answer'): Outcome {
    if (AiCacheError.isInstance(error)) {
      this.#stats.errors++
      return errorOutcome(error)
    }
    // The client left: nobody reads this answer.
    if (request.signal.aborted) return { type: 'respond', status: 499, headers: {}, body: noBody }
    if (unexpected === 'throw') throw error
    this.#stats.errors++
    return errorOutcome(internalError(request, error))
  }
}

const breakerGauge: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }


/** The memory tier when it is turned off: Redis alone. */
const noMemoryTier: MemoryTier = {
  get: () => undefined,
  set: () => {},
  delete: () => false,
  clear: () => {},
  entries: 0,
  bytes: 0,
}




/** A hit's answer, recorded as one. The entry is what the hit saved (its usage, priced by its model). */
function answerHit(
  observation: RequestObservation,
  hit: Outcome,
  entry: CacheEntry,
  tier: Tier,
  rateLimitHeaders: Readonly<Record<string, string>> | undefined,
): Outcome {
  observation.result = 'hit'
  observation.tier = tier
  observation.saved = entry
  return observation.settle(withHeaders(hit, rateLimitHeaders))
}

/** What one request is being served with, passed along its stages. */
interface Serving {
  request: ExchangeRequest
  prepared: PreparedRequest
  producer: Producer
  observation: RequestObservation
  directives: RequestDirectives
  /** The cache key's scope. */
  scope: string
  /** Who the rate limits count this request against (`rateLimit.identity`). */
  caller: string
  limiter: RateLimiter | undefined
}

function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise
}

/** An error while serving: an aicache error becomes its answer, anything else is rethrown; either way the observation ends. */
function serveFailed(request: ExchangeRequest, observation: RequestObservation, error: unknown): Outcome {
  if (AiCacheError.isInstance(error)) {
    observation.fail(error.code)
    return errorOutcome(error)
  }
  observation.fail(request.signal.aborted ? 'client_aborted' : (error as Error)?.name ?? 'error')
  throw error
}

function isTooOld(entry: CacheEntry, directives: RequestDirectives, nowMs: number): boolean {
  return directives.maxAgeSeconds !== undefined && entryAgeSeconds(entry, nowMs) > directives.maxAgeSeconds
}





