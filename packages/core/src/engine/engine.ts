import { createCachingFetch } from '../client/fetch.js'
import { AiCacheError } from '../errors.js'
import type { CapturedResponse, ExchangeRequest, Outcome, RequestHeaders, ResponseHeaders } from '../exchange/types.js'
import { Flight, SingleFlight } from '../flight/single-flight.js'
import { type AiCacheOptions, type ResolvedAiCacheOptions, resolveOptions } from '../options.js'
import { parseDirectives, type RequestDirectives } from '../request/directives.js'
import { cacheKey, resolveScope } from '../request/key.js'
import { type Operation, operationOfPath } from '../request/operation.js'
import { type CacheEntry, entryAgeSeconds, storedHeaderNames } from '../store/entry.js'
import { createMemoryTier, type MemoryTier } from '../store/memory-tier.js'
import { NamespaceGenerations } from '../store/namespaces.js'
import { createFetchUpstream } from '../upstream/fetch-upstream.js'
import { forwardRequestHeaders, readAll } from '../upstream/headers.js'
import { createHttpUpstream } from '../upstream/http-upstream.js'
import type { Upstream } from '../upstream/types.js'
import { inspectAnswer } from './answer.js'
import type { ForwardReason } from './cache-status.js'
import { errorOutcome, hitOutcome, type Produced, producedOutcome, streamOutcome } from './outcomes.js'
import { type PreparedRequest, RequestPreparer } from './prepare.js'
import { type AiCacheStats, StatsRecorder } from './stats.js'

/** Where a miss is answered from: an upstream, or the app's own handler. */
type Producer = Upstream | 'handler'

/** Where and for how long a miss's answer is kept. */
interface StorePlan {
  key: string
  ttlMs: number
  operation: Operation | undefined
  model: string | undefined
}

/** The handler of a wrapped route did not finish its response. */
class HandlerAbandoned extends Error {}

const gatewayPrefix = '/v1/'

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
  readonly #flights = new SingleFlight<Produced>()
  readonly #stats = new StatsRecorder()
  readonly #upstream: Upstream | undefined
  #fetchUpstream: Upstream | undefined

  constructor(options: AiCacheOptions = {}) {
    this.options = resolveOptions(options)
    this.#preparer = new RequestPreparer(this.options)
    this.#memory = createMemoryTier({ maxBytes: this.options.maxBytes })
    this.#upstream = this.options.upstream
      ? createHttpUpstream({ baseUrl: this.options.upstream, timeoutMs: this.options.upstreamTimeoutMs })
      : undefined
    this.fetch = createCachingFetch(this, this.options.fetch)
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
    this.#fetchUpstream ??= createFetchUpstream({ fetch, timeoutMs: this.options.upstreamTimeoutMs })
    try {
      const prepared = await this.#preparer.openAi(request, operation)
      return await this.#serve(request, prepared, this.#fetchUpstream)
    } catch (error) {
      return this.#failed(request, error)
    }
  }

  /** Counters since creation. */
  stats(): AiCacheStats {
    return this.#stats.snapshot({ entries: this.#memory.entries, bytes: this.#memory.bytes })
  }

  /** Invalidates every entry of a namespace (the default one when omitted), in O(1). */
  invalidate(target: { namespace?: string } = {}): void {
    this.#generations.bump(target.namespace ?? this.options.namespace)
  }

  /** Drops every entry of the memory tier. */
  clear(): void {
    this.#memory.clear()
  }

  /** Closes upstream connections. */
  async close(): Promise<void> {
    this.#upstream?.close()
  }

  async #handleWrapped(request: ExchangeRequest): Promise<Outcome> {
    const prepared = await this.#preparer.wrapped(request)
    if ('notCached' in prepared) return { type: 'next', body: prepared.body }
    return this.#serve(request, prepared, 'handler')
  }

  async #serve(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer): Promise<Outcome> {
    const directives = parseDirectives(request.headers)
    this.#stats.requests++
    // Streams are forwarded as they are; recording them is a later stage.
    if (prepared.stream) return this.#bypass(request, prepared, producer, 'stream')
    if (directives.noStore) return this.#bypass(request, prepared, producer, 'no-store')

    const namespace = directives.namespace ?? this.options.namespace
    const key = cacheKey({
      namespace,
      generation: this.#generations.get(namespace),
      scope: resolveScope(this.options.scope, request),
      requestDigest: prepared.requestDigest,
    })
    let reason: ForwardReason = directives.noCache ? 'request' : 'uri-miss'
    if (!directives.noCache) {
      const entry = this.#memory.get(key)
      if (entry !== undefined) {
        const nowMs = Date.now()
        if (isFreshEnough(entry, directives, nowMs)) {
          this.#stats.hit('l1', entry.usage)
          return hitOutcome(entry, 'l1', nowMs)
        }
        reason = 'stale'
      }
    }
    if (directives.onlyIfCached) {
      throw new AiCacheError('not_cached', 'The request said only-if-cached and no fresh answer is stored.')
    }
    if (!directives.noCache) {
      const flight = this.#flights.join(key)
      if (flight !== undefined) return this.#joinFlight(request, prepared, producer, flight)
    }

    this.#stats.misses++
    const ttlMs = directives.ttlMs ?? this.options.ttlMs
    const plan: StorePlan | undefined =
      ttlMs > 0 ? { key, ttlMs, operation: prepared.operation, model: prepared.model } : undefined
    const flight = this.#flights.start(key)
    if (producer === 'handler') return this.#captureHandler(prepared, flight, plan, reason)
    flight.attach(request.signal)
    try {
      const response = await producer.send({
        method: request.method,
        url: request.url,
        headers: upstreamHeaders(request.headers, this.options.upstreamApiKey),
        body: prepared.raw,
        signal: flight.signal,
      })
      const body = await readAll(response.body)
      const produced = this.#produce(response.status, response.headers, body, plan)
      flight.resolve(produced)
      return producedOutcome(produced, { reason, forwardStatus: produced.status, stored: produced.stored })
    } catch (error) {
      flight.reject(error)
      throw error
    }
  }

  async #joinFlight(
    request: ExchangeRequest,
    prepared: PreparedRequest,
    producer: Producer,
    flight: Flight<Produced>,
  ): Promise<Outcome> {
    this.#stats.coalesced++
    if (producer !== 'handler') flight.attach(request.signal)
    try {
      const produced = await flight.promise
      return producedOutcome(produced, {
        reason: 'uri-miss',
        forwardStatus: produced.status,
        stored: produced.stored,
        collapsed: true,
      })
    } catch (error) {
      // The handler that was to answer for everyone did not finish: run our own.
      if (error instanceof HandlerAbandoned) return { type: 'next', body: prepared.body() }
      throw error
    }
  }

  #captureHandler(
    prepared: PreparedRequest,
    flight: Flight<Produced>,
    plan: StorePlan | undefined,
    reason: ForwardReason,
  ): Outcome {
    const chunks: Buffer[] = []
    let bytes = 0
    // Past the memory tier's size the answer could not be kept anyway.
    const limit = this.options.maxBytes
    return {
      type: 'next',
      body: prepared.body(),
      headers: { 'cache-status': `aicache; fwd=${reason}` },
      capture: {
        write: (chunk) => {
          bytes += chunk.byteLength
          if (bytes <= limit) chunks.push(Buffer.from(chunk))
        },
        complete: (response: CapturedResponse) => {
          if (bytes > limit) return flight.reject(new HandlerAbandoned())
          const body = Buffer.concat(chunks, bytes)
          const produced = this.#produce(response.status, response.headers, body, plan, response)
          // Requests that shared this answer get only the headers an entry keeps:
          // a handler's cookies or per-user headers are not theirs.
          flight.resolve({ ...produced, headers: pickHeaders(produced.headers, storedHeaderNames) })
        },
        abandon: () => flight.reject(new HandlerAbandoned()),
      },
    }
  }

  /** Keeps an answer when it may be kept, and returns it for sending. */
  #produce(
    status: number,
    headers: RequestHeaders,
    body: Buffer,
    plan: StorePlan | undefined,
    captured?: CapturedResponse,
  ): Produced {
    const sendHeaders = definedHeaders(headers)
    const facts = plan && inspectAnswer(plan.operation, status, headers, body, captured?.meta)
    if (plan === undefined || facts === undefined) return { status, headers: sendHeaders, body, stored: false }
    const entry: CacheEntry = {
      version: 1,
      status,
      headers: pickHeaders(sendHeaders, storedHeaderNames),
      body,
      model: facts.model ?? plan.model,
      usage: facts.usage,
      createdAt: Date.now(),
      ttlMs: plan.ttlMs,
    }
    this.#memory.set(plan.key, entry)
    return { status, headers: sendHeaders, body, stored: true }
  }

  async #bypass(request: ExchangeRequest, prepared: PreparedRequest, producer: Producer, detail: string): Promise<Outcome> {
    this.#stats.bypasses++
    const status = { reason: 'request', detail } as const
    if (producer === 'handler') {
      return { type: 'next', body: prepared.body(), headers: { 'cache-status': `aicache; fwd=request; detail=${detail}` } }
    }
    const response = await producer.send({
      method: request.method,
      url: request.url,
      headers: forwardRequestHeaders(request.headers, this.options.upstreamApiKey),
      body: prepared.raw,
      signal: request.signal,
    })
    return streamOutcome(response, status)
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
    if (request.signal.aborted) return { type: 'respond', status: 499, headers: {}, body: Buffer.alloc(0) }
    throw error
  }
}

function isFreshEnough(entry: CacheEntry, directives: RequestDirectives, nowMs: number): boolean {
  return directives.maxAgeSeconds === undefined || entryAgeSeconds(entry, nowMs) <= directives.maxAgeSeconds
}

function upstreamHeaders(headers: RequestHeaders, apiKey: string | undefined): Record<string, string> {
  // The answer is read and stored, so it must arrive uncompressed.
  return { ...forwardRequestHeaders(headers, apiKey), 'accept-encoding': 'identity' }
}

function definedHeaders(headers: RequestHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined) out[name] = value
  return out
}

function pickHeaders(headers: ResponseHeaders, names: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const name of names) {
    const value = headers[name]
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(', ') : String(value)
  }
  return out
}
