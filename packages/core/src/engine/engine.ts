import { createCachingFetch } from '../client/fetch.js'
import { AiCacheError } from '../errors.js'
import type { CapturedHeaders, CapturedResponse, ExchangeRequest, Outcome, RequestHeaders } from '../exchange/types.js'
import { Production } from '../flight/production.js'
import { SingleFlight } from '../flight/single-flight.js'
import { type AiCacheOptions, type ResolvedAiCacheOptions, resolveOptions } from '../options.js'
import { parseDirectives, type RequestDirectives } from '../request/directives.js'
import { cacheKey, resolveScope } from '../request/key.js'
import { type Operation, operationOfPath } from '../request/operation.js'
import { type CacheEntry, entryAgeSeconds } from '../store/entry.js'
import { createMemoryTier, type MemoryTier } from '../store/memory-tier.js'
import { NamespaceGenerations } from '../store/namespaces.js'
import { assembleCompletion } from '../stream/assemble.js'
import { doneData, SseParser, type SseEvent, serializeEvents } from '../stream/sse.js'
import { synthesizeStream } from '../stream/synthesize.js'
import { createFetchUpstream } from '../upstream/fetch-upstream.js'
import { forwardRequestHeaders, readAll } from '../upstream/headers.js'
import { createHttpUpstream } from '../upstream/http-upstream.js'
import type { CircuitState } from '../upstream/circuit-breaker.js'
import { createResilientUpstream, type ResilienceHooks } from '../upstream/resilient-upstream.js'
import { type Admission, createRateLimiter, type RateLimiter } from '../limits/rate-limiter.js'
import { createRedisCounterStore } from '../limits/redis-counter-store.js'
import { createRedisLayer, type LockHandle, type RedisLayer } from '../store/redis-layer.js'
import type { RedisLayerOptions } from '../store/redis-layer-options.js'
import { estimateRequestTokens } from '../limits/estimate-tokens.js'
import type { TokenUsage } from '../exchange/types.js'
import type { Upstream } from '../upstream/types.js'
import { headerText } from './answer.js'
import type { ForwardReason, ForwardStatus, Tier } from './cache-status.js'
import {
  errorOutcome,
  followOutcome,
  hitOutcome,
  pacedHitOutcome,
  respondOutcome,
  streamOutcome,
  withHeaders,
} from './outcomes.js'
import { type PreparedRequest, RequestPreparer } from './prepare.js'
import { jsonEntry, pickStoredHeaders, type StorePlan, streamEntry } from './recording.js'
import { eventStreamHeaders, represent } from './representation.js'
import { type AiCacheStats, StatsRecorder } from './stats.js'
import { createPricing } from '../pricing/pricing.js'
import { type RequestObservation, Telemetry, type UpstreamFacts, type UpstreamObservation } from '../telemetry/telemetry.js'
import { usageOf } from './answer.js'

/** Where a miss is answered from: an upstream, or the app's own handler. */
type Producer = Upstream | 'handler'

/** The handler of a wrapped route did not finish its response. */
class HandlerAbandoned extends Error {}

const gatewayPrefix = '/v1/'
const noBody = Buffer.alloc(0)

/**
 * The engine: the one place that knows the order of a request's stages.
 * Adapters translate their framework to {@link ExchangeRequest} and carry out
 * the {@link Outcome}; the client-mode `fetch` uses it the same way.
 */
export class AiCache {
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
  #redis: RedisLayer | undefined
  #closed = false
  readonly #ready: Promise<void>
  readonly #resilienceHooks: ResilienceHooks
  #breakerState: CircuitState | undefined
  #fetchUpstream: Upstream | undefined

  constructor(options: AiCacheOptions = {}) {
    this.options = resolveOptions(options)
    this.#preparer = new RequestPreparer(this.options)
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
    this.fetch = createCachingFetch(this, this.options.fetch)
    this.#telemetry = new Telemetry(this.options.telemetry, createPricing({ overrides: this.options.prices }), this.#stats, {
      memory: () => ({ bytes: this.#memory.bytes, entries: this.#memory.entries }),
      breakerState: () => (this.#breakerState === undefined ? undefined : breakerGauge[this.#breakerState]),
      redisErrors: () => this.#redis?.errors,
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
      if (this.options.rateLimit) {
        this.#limiter = createRateLimiter(this.options.rateLimit, { store: createRedisCounterStore(layer.client) })
      }
    } catch (error) {
      console.warn(`aicache: Redis is not used: ${(error as Error).message}`)
    }
  }

  /**
   * Handles one request of a server framework. In proxy mode the gateway
   * routes (`/v1/*`) are answered, other paths go on to the app; in wrap
   * mode LLM-shaped `POST` requests are served from the cache or captured.
   */
  async handle(request: ExchangeRequest): Promise<Outcome> {
    try {
      if (this.#upstream === undefined) return await this.#handleWrapped(request)
      if (!request.path.startsWith(gatewayPrefix)) return { type: 'next' }
      const operation = request.method === 'POST' ? operationOfPath(request.path) : undefined
      if (operation === undefined) return await this.#passthrough(request, this.#upstream)
      const prepared = await this.#preparer.openAi(request, operation)
      return await this.#serve(request, prepared, this.#upstream)
    } catch (error) {
      return this.#failed(request, error)
    }
  }

  /** Handles one client-mode call of an OpenAI-compatible operation. */
  async handleClientCall(
    request: ExchangeRequest,
    operation: Operation,
    fetch: typeof globalThis.fetch,
  ): Promise<Outcome> {
    this.#fetchUpstream ??= createResilientUpstream(
      createFetchUpstream({ fetch, timeoutMs: this.options.upstreamTimeoutMs }),
      this.options.resilience,
      this.#resilienceHooks,
    )
    try {
      const prepared = await this.#preparer.openAi(request, operation)
      return await this.#serve(request, prepared, this.#fetchUpstream)
    } catch (error) {
      return this.#failed(request, error)
    }
  }

  /** Counters since creation. */
  stats(): AiCacheStats {
    const redis = this.#redis && { state: this.#redis.state, errors: this.#redis.errors }
    return this.#stats.snapshot({ entries: this.#memory.entries, bytes: this.#memory.bytes }, redis)
  }

  /**
   * Invalidates every entry of a namespace (the default one when omitted),
   * in O(1): its generation, part of every key, is bumped. With Redis, every
   * instance sees the new generation.
   */
  async invalidate(target: { namespace?: string } = {}): Promise<void> {
    const namespace = target.namespace ?? this.options.namespace
    if (this.#redis) await this.#redis.bumpGeneration(namespace)
    else this.#generations.bump(namespace)
  }

  /** Deletes one entry, in both tiers and on every instance. */
  async delete(key: string): Promise<void> {
    this.#memory.delete(key)
    await this.#redis?.delete(key)
  }

  /** Drops every entry of the memory tier. */
  clear(): void {
    this.#memory.clear()
  }

  /** Closes upstream and Redis connections. */
  async close(): Promise<void> {
    this.#closed = true
    this.#upstream?.close()
    await this.#redis?.close()
  }

  async #handleWrapped(request: ExchangeRequest): Promise<Outcome> {
    const prepared = await this.#preparer.wrapped(request)
    if ('notCached' in prepared) return { type: 'next', body: prepared.body }
    return this.#serve(request, prepared, 'handler')
  }

  /** Serves a cacheable request, observed from start to the end of its answer. */
  async #serve(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Promise<Outcome> {
    const observation = this.#telemetry.request(prepared.operation, prepared.model, prepared.stream)
    try {
      return await this.#serveObserved(request, prepared, producer, observation)
    } catch (error) {
      if (error instanceof AiCacheError) {
        observation.fail(error.code)
        return errorOutcome(error)
      }
      observation.fail(request.signal.aborted ? 'client_aborted' : (error as Error)?.name ?? 'error')
      throw error
    }
  }

  async #serveObserved(
    request: ExchangeRequest,
    prepared: PreparedRequest,
    producer: Producer,
    observation: RequestObservation,
  ): Promise<Outcome> {
    const directives = parseDirectives(request.headers, request.route)
    const scope = resolveScope(this.options.scope, request)
    if (directives.noStore) {
      observation.result = 'bypass'
      const { admission, estimatedTokens } = await this.#admitMiss(scope, prepared, observation)
      // The answer is passed through unread: keep the estimate as what it spent.
      void admission?.settle(estimatedTokens)
      return observation.settle(withHeaders(await this.#bypass(request, prepared, producer), admission?.headers))
    }

    const namespace = directives.namespace ?? this.options.namespace
    const generation = this.#generationOf(namespace)
    const key = cacheKey({
      namespace,
      generation: typeof generation === 'number' ? generation : await generation,
      scope,
      requestDigest: prepared.requestDigest,
    })
    observation.namespace = namespace
    observation.keyHash = key.slice(0, 12)
    let reason: ForwardReason = directives.noCache ? 'request' : 'uri-miss'
    if (!directives.noCache) {
      let tier: Tier = 'l1'
      let lookupStartedAt = performance.now()
      let entry = this.#memory.get(key)
      observation.lookedUp('l1', lookupStartedAt, entry !== undefined)
      if (entry === undefined && this.#redis) {
        tier = 'l2'
        lookupStartedAt = performance.now()
        entry = await this.#redis.get(key)
        observation.lookedUp('l2', lookupStartedAt, entry !== undefined)
      }
      if (entry !== undefined) {
        const nowMs = Date.now()
        if (isTooOld(entry, directives, nowMs)) reason = 'stale'
        else {
          const hit = this.#hit(entry, prepared, nowMs, tier)
          if (hit !== undefined) {
            // An L2 hit is promoted to L1 for the rest of its freshness.
            if (tier === 'l2') this.#memory.set(key, entry)
            const rateLimitHeaders = await this.#admitHit(scope, entry.usage, observation)
            observation.result = 'hit'
            observation.tier = tier
            observation.saved = { usage: entry.usage, model: entry.model }
            return observation.settle(withHeaders(hit, rateLimitHeaders))
          }
        }
      }
    }
    if (directives.onlyIfCached) {
      throw new AiCacheError('not_cached', 'The request said only-if-cached and no fresh answer is stored.')
    }
    const { admission, estimatedTokens } = await this.#admitMiss(scope, prepared, observation)
    if (!directives.noCache) {
      const flight = this.#flights.join(key)
      if (flight !== undefined) {
        observation.result = 'coalesced'
        if (producer !== 'handler') flight.attach(request.signal)
        // Sharing another request's call spends no tokens.
        void admission?.settle(0)
        const followed = await this.#follow(prepared, flight.value, { reason: 'uri-miss', collapsed: true })
        return observation.settle(withHeaders(followed, admission?.headers))
      }
    }

    const ttlMs = directives.ttlMs ?? this.options.ttlMs
    const plan: StorePlan | undefined =
      ttlMs > 0
        ? { key, ttlMs, operation: prepared.operation, model: prepared.model, requestBody: prepared.body }
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
      if (claim.entry !== undefined) {
        // Another instance's handler answered meanwhile.
        observation.result = 'coalesced'
        feedFromEntry(production, claim.entry)
        const followed = await this.#follow(prepared, production, { reason, collapsed: true })
        return observation.settle(withHeaders(followed, admission?.headers))
      }
      const captured = withHeaders(this.#captureHandler(prepared, production, plan, reason, claim.lock), admission?.headers)
      return observation.settle(captured, production.result())
    }
    flight.attach(request.signal)
    const upstream = {
      producer,
      startCall: () => observation.upstream(this.#upstreamTarget(request, prepared)),
      onRemoteAnswer: () => (observation.result = 'coalesced'),
    }
    void this.#pump(request, prepared, upstream, production, flight.signal, plan)
    return observation.settle(withHeaders(await this.#follow(prepared, production, { reason }), admission?.headers))
  }

  /**
   * Inbound rate limit of a request that will (or may) reach the upstream:
   * one request and its estimated tokens are reserved now, settled with the
   * real usage later. Throws a 429 `AiCacheError` when over.
   */
  async #admitMiss(
    scope: string,
    prepared: PreparedRequest,
    observation: RequestObservation,
  ): Promise<{ admission: Admission | undefined; estimatedTokens: number }> {
    if (this.#limiter === undefined) return { admission: undefined, estimatedTokens: 0 }
    const estimatedTokens = await estimateRequestTokens(prepared.body(), {
      defaultMaxTokens: this.#limiter.options.defaultMaxTokens,
    })
    const verdict = await this.#limiter.admit(scope, { estimatedTokens })
    if (!verdict.allowed) this.#rejected(verdict, observation)
    return { admission: verdict, estimatedTokens }
  }

  /** Inbound rate limit of a hit: counted as `countHits` says. Returns the headers to answer with. */
  async #admitHit(
    scope: string,
    usage: TokenUsage | undefined,
    observation: RequestObservation,
  ): Promise<Readonly<Record<string, string>> | undefined> {
    const limiter = this.#limiter
    if (limiter === undefined || (!limiter.options.countHits.requests && !limiter.options.countHits.tokens)) return undefined
    const cachedTokens = usage ? usage.inputTokens + usage.outputTokens : 0
    const verdict = await limiter.admit(scope, { estimatedTokens: limiter.options.countHits.tokens ? cachedTokens : 0 })
    if (!verdict.allowed) this.#rejected(verdict, observation)
    void verdict.settleHit(cachedTokens)
    return verdict.headers
  }

  #rejected(verdict: { headers: Record<string, string>; retryAfterMs: number; requestTooLarge: boolean; limit: string }, observation: RequestObservation): never {
    observation.rateLimited = true
    const message = verdict.requestTooLarge
      ? `This request needs more tokens than the limit of this key allows per minute; shorten it or lower max_tokens.`
      : `Rate limit reached for ${verdict.limit} per minute. Try again in ${Math.ceil(verdict.retryAfterMs / 1000)}s.`
    throw new AiCacheError('rate_limited', message, { retryAfterMs: verdict.retryAfterMs, headers: verdict.headers })
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
   * same call. Returns its entry once written, or the lock to make the call
   * here (none without Redis, or when waiting took longer than lockWaitMs).
   */
  async #claim(key: string): Promise<{ lock?: LockHandle; entry?: CacheEntry }> {
    const redis = this.#redis
    if (redis === undefined) return {}
    const deadline = Date.now() + this.options.lockWaitMs
    for (;;) {
      const lock = await redis.acquire(key)
      if (lock !== undefined) return { lock }
      const remainingMs = deadline - Date.now()
      if (remainingMs <= 0) return {}
      const entry = await redis.waitForEntry(key, remainingMs)
      // Written by the instance that held the lock; if it died, try to take over.
      if (entry !== undefined) return { entry }
    }
  }

  /**
   * Sends the upstream's answer into the production: a stream event by event
   * as it arrives, anything else whole. Stores it only when it is complete.
   */
  async #pump(
    request: ExchangeRequest,
    prepared: PreparedRequest,
    { producer: upstream, startCall, onRemoteAnswer }: PumpUpstream,
    production: Production,
    signal: AbortSignal,
    plan: StorePlan | undefined,
  ): Promise<void> {
    const claim = plan ? await this.#claim(plan.key) : {}
    if (claim.entry !== undefined) {
      onRemoteAnswer()
      return feedFromEntry(production, claim.entry)
    }
    const call = startCall()
    let stored: Promise<void> = Promise.resolve()
    try {
      const response = await call.within(() =>
        upstream.send({
          method: request.method,
          url: request.url,
          headers: upstreamHeaders(request.headers, this.options.upstreamApiKey),
          body: prepared.stream ? withUsageRequested(prepared) : prepared.raw,
          signal,
          onRetry: (attempt, reason) => call.retried(attempt, reason),
        }),
      )
      const { status, headers } = response
      if (isSuccess(status) && isEventStream(headers)) {
        production.start({ status, headers, streaming: true })
        const parser = new SseParser()
        let done = false
        const take = (events: SseEvent[]) => {
          for (const event of events) {
            if (done) return
            production.append(event)
            done = event.data === doneData
          }
        }
        for await (const chunk of response.body) take(parser.push(chunk))
        take(parser.end())
        // A stream that ended without [DONE] was cut short: pass it on, never keep it.
        const completion = assembleCompletion(production.events)
        const entry = done && plan ? await streamEntry(plan, status, headers, production.events, undefined, completion) : undefined
        stored = this.#keep(plan, entry)
        const facts = answerFacts(completion)
        call.end({ status, ...facts, ...(done ? {} : { errorType: 'incomplete_stream' }) })
        production.finish({ body: noBody, stored: entry !== undefined, complete: done, usage: entry?.usage ?? facts.usage })
        return
      }
      const body = await readAll(response.body)
      production.start({ status, headers, streaming: false })
      const entry = plan && jsonEntry(plan, status, headers, body)
      stored = this.#keep(plan, entry)
      const facts = isSuccess(status) ? answerFacts(parseJson(body)) : {}
      call.end({ status, ...facts })
      production.finish({ body, stored: entry !== undefined, complete: true, usage: entry?.usage ?? facts.usage })
    } catch (error) {
      call.end({ errorType: error instanceof AiCacheError ? error.code : signal.aborted ? 'client_aborted' : 'error' })
      production.fail(error)
    } finally {
      // Instances waiting on the lock look for the entry when it is released.
      void stored.finally(() => claim.lock?.release())
    }
  }

  /** Where this request's upstream call goes, for the GenAI span. */
  #upstreamTarget(request: ExchangeRequest, prepared: PreparedRequest) {
    const url = this.options.upstream ?? new URL(request.url)
    const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80
    return {
      operation: prepared.operation ?? 'chat',
      model: prepared.model,
      providerName: url.hostname.endsWith('.openai.azure.com') ? 'azure.ai.openai' : 'openai',
      address: url.hostname,
      port,
      promptText: () => JSON.stringify((prepared.body() as { messages?: unknown; prompt?: unknown; input?: unknown }) ?? {}),
    }
  }

  /** The answer of a production, in the form this request asked for. */
  async #follow(prepared: PreparedRequest, production: Production, cacheStatus: ForwardStatus): Promise<Outcome> {
    let head
    try {
      head = await production.head()
    } catch (error) {
      // The handler that was to answer for everyone did not finish: run our own.
      if (error instanceof HandlerAbandoned) return { type: 'next', body: prepared.body() }
      throw error
    }
    const status = { ...cacheStatus, forwardStatus: head.status }
    if (head.streaming && prepared.stream) {
      return followOutcome(production, head.status, head.headers, prepared.includeUsage, status)
    }
    const result = await production.result()
    if (head.streaming) {
      const completion = result.complete ? assembleCompletion(production.events) : undefined
      if (completion === undefined) {
        throw new AiCacheError('upstream_unreachable', 'The upstream stream ended before it was complete.')
      }
      const json = { 'content-type': 'application/json' }
      return respondOutcome(head.status, json, Buffer.from(JSON.stringify(completion)), { ...status, stored: result.stored })
    }
    if (prepared.stream && isSuccess(head.status)) {
      const events = synthesizeFromBody(result.body, prepared.includeUsage)
      if (events !== undefined) {
        const body = Buffer.from(events)
        return respondOutcome(head.status, eventStreamHeaders, body, { ...status, stored: result.stored })
      }
    }
    return respondOutcome(head.status, head.headers, result.body, { ...status, stored: result.stored })
  }

  #captureHandler(
    prepared: PreparedRequest,
    production: Production,
    plan: StorePlan | undefined,
    reason: ForwardReason,
    lock: LockHandle | undefined,
  ): Outcome {
    const startedAt = Date.now()
    const chunks: Array<{ chunk: Buffer; atMs: number }> = []
    let bytes = 0
    // Adapters may see both an end and a close; only the first ending counts.
    let settled = false
    return {
      type: 'next',
      body: prepared.body(),
      headers: { 'cache-status': `aicache; fwd=${reason}` },
      capture: {
        write: (chunk) => {
          if (settled) return
          bytes += chunk.byteLength
          // Past the memory tier's size the answer could not be kept anyway.
          if (bytes <= this.options.maxBytes) chunks.push({ chunk: Buffer.from(chunk), atMs: Date.now() })
        },
        complete: (response: CapturedResponse) => {
          if (settled) return
          settled = true
          if (bytes > this.options.maxBytes) {
            void lock?.release()
            return production.fail(new HandlerAbandoned())
          }
          this.#completeCapture(production, plan, response, chunks, startedAt)
            .catch((error: unknown) => production.fail(error))
            .finally(() => lock?.release())
        },
        abandon: () => {
          if (settled) return
          settled = true
          void lock?.release()
          production.fail(new HandlerAbandoned())
        },
      },
    }
  }

  async #completeCapture(
    production: Production,
    plan: StorePlan | undefined,
    response: CapturedResponse,
    chunks: ReadonlyArray<{ chunk: Buffer; atMs: number }>,
    startedAt: number,
  ): Promise<void> {
    const { status } = response
    // Requests that share this answer get only the headers an entry keeps:
    // a handler's cookies or per-user headers are not theirs.
    const headers = pickStoredHeaders(response.headers)
    if (isEventStream(response.headers)) {
      const parser = new SseParser(startedAt)
      const events = chunks.flatMap(({ chunk, atMs }) => parser.push(chunk, atMs))
      events.push(...parser.end())
      production.start({ status, headers, streaming: true })
      for (const event of events) production.append(event)
      // A handler's clean end completes its stream, with or without [DONE].
      const entry = plan ? await streamEntry(plan, status, response.headers, events, response.meta) : undefined
      const stored = this.#keep(plan, entry)
      this.#handlerSpent(entry)
      production.finish({ body: noBody, stored: entry !== undefined, complete: true, usage: entry?.usage })
      return stored
    }
    const body = Buffer.concat(chunks.map(({ chunk }) => chunk))
    production.start({ status, headers, streaming: false })
    const entry = plan && jsonEntry(plan, status, response.headers, body, response.meta)
    const stored = this.#keep(plan, entry)
    this.#handlerSpent(entry)
    production.finish({ body, stored: entry !== undefined, complete: true, usage: entry?.usage })
    return stored
  }

  /** What a wrapped handler's answer cost, as far as it told (its usage and model). */
  #handlerSpent(entry: CacheEntry | undefined): void {
    const costUsd = entry && this.#telemetry.priceOf(entry.model, entry.usage)
    if (costUsd !== undefined) this.#stats.spent(costUsd)
  }

  /**
   * Stores an entry: in L1 at once, in L2 in the background (never on the
   * response's path). Resolves when L2 has it (or gave up: fail-open).
   */
  #keep(plan: StorePlan | undefined, entry: CacheEntry | undefined): Promise<void> {
    if (plan === undefined || entry === undefined) return Promise.resolve()
    this.#memory.set(plan.key, entry)
    return this.#redis ? this.#redis.set(plan.key, entry) : Promise.resolve()
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

  async #passthrough(request: ExchangeRequest, upstream: Upstream): Promise<Outcome> {
    this.#stats.passthrough++
    const hasBody = request.method !== 'GET' && request.method !== 'HEAD'
    const body = !hasBody
      ? undefined
      : request.parsedBody !== undefined
        ? Buffer.from(JSON.stringify(request.parsedBody))
        : request.bodyStream()
    const response = await upstream.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.options.upstreamApiKey),
      body,
      signal: request.signal,
    })
    return streamOutcome(response, { reason: 'bypass' })
  }

  #failed(request: ExchangeRequest, error: unknown): Outcome {
    if (error instanceof AiCacheError) {
      this.#stats.errors++
      return errorOutcome(error)
    }
    // The client left: nobody reads this answer.
    if (request.signal.aborted) return { type: 'respond', status: 499, headers: {}, body: noBody }
    throw error
  }
}

const breakerGauge: Record<CircuitState, number> = { closed: 0, 'half-open': 1, open: 2 }

/** How the pump reaches the upstream, and tells what it did. */
interface PumpUpstream {
  producer: Upstream
  /** Starts the upstream call's observation, when a call is really made. */
  startCall: () => UpstreamObservation
  /** Another instance answered: no call was made here. */
  onRemoteAnswer: () => void
}

/** The memory tier when it is turned off: Redis alone. */
const noMemoryTier: MemoryTier = {
  get: () => undefined,
  set: () => {},
  delete: () => false,
  clear: () => {},
  entries: 0,
  bytes: 0,
}

/** A production answered by an entry another instance stored. */
function feedFromEntry(production: Production, entry: CacheEntry): void {
  production.start({ status: entry.status, headers: { ...entry.headers }, streaming: entry.format === 'sse' })
  for (const event of entry.events ?? []) production.append(event)
  production.finish({ body: entry.body, stored: true, complete: true, usage: entry.usage })
}

function parseJson(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}

/** What an OpenAI answer says of itself, for the GenAI span. */
function answerFacts(answer: unknown): UpstreamFacts {
  if (answer === null || typeof answer !== 'object') return {}
  const record = answer as {
    id?: unknown
    model?: unknown
    usage?: unknown
    choices?: Array<{ finish_reason?: unknown; text?: unknown; message?: { content?: unknown } }>
  }
  const finishReasons = (record.choices ?? []).map((choice) => choice.finish_reason).filter((reason) => typeof reason === 'string')
  const first = record.choices?.[0]
  const text = first?.message?.content ?? first?.text
  return {
    ...(typeof text === 'string' ? { completionText: text } : {}),
    ...(typeof record.id === 'string' ? { responseId: record.id } : {}),
    ...(typeof record.model === 'string' ? { responseModel: record.model } : {}),
    ...(finishReasons.length > 0 ? { finishReasons: finishReasons as string[] } : {}),
    ...(record.usage === undefined ? {} : { usage: usageOf(record.usage) }),
  }
}

function isTooOld(entry: CacheEntry, directives: RequestDirectives, nowMs: number): boolean {
  return directives.maxAgeSeconds !== undefined && entryAgeSeconds(entry, nowMs) > directives.maxAgeSeconds
}

function isSuccess(status: number): boolean {
  return status >= 200 && status <= 299
}

function isEventStream(headers: CapturedHeaders): boolean {
  return headerText(headers, 'content-type').includes('text/event-stream')
}

function upstreamHeaders(headers: RequestHeaders, apiKey: string | undefined): Record<string, string> {
  // The answer is read and stored, so it must arrive uncompressed.
  return { ...forwardRequestHeaders(headers, apiKey), 'accept-encoding': 'identity' }
}

/**
 * The body to send upstream for a stream: with `stream_options.include_usage`
 * so the recording knows what the answer cost, whether or not the client
 * asked (its own answer is sent without the usage chunk then).
 */
function withUsageRequested(prepared: PreparedRequest): Buffer {
  if (prepared.includeUsage || prepared.operation === 'embeddings') return prepared.raw
  const body = prepared.body() as Record<string, unknown>
  const streamOptions = (body['stream_options'] as Record<string, unknown> | null | undefined) ?? {}
  return Buffer.from(JSON.stringify({ ...body, stream_options: { ...streamOptions, include_usage: true } }))
}

function synthesizeFromBody(body: Buffer, includeUsage: boolean): string | undefined {
  let parsed: unknown
  try {
    parsed = JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
  const events = synthesizeStream(parsed, includeUsage)
  return events && serializeEvents(events)
}
