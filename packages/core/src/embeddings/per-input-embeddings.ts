import type { Tier } from '../engine/cache-status.js'
import { isTooOld } from '../engine/hit.js'
import { withHeaders } from '../engine/outcomes.js'
import { admitHit, admitMiss } from '../engine/rate-limit-gate.js'
import type { Serving } from '../engine/serving.js'
import type { EmbeddingStats } from '../engine/stats.js'
import { UpstreamProducer } from '../engine/upstream-producer.js'
import { AiCacheError } from '../errors.js'
import type { CapturedResponse, Outcome } from '../exchange/types.js'
import { credentialHeaderNames } from '../request/key.js'
import type { CacheEntry } from '../store/entry.js'
import { attribute } from '../telemetry/names.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { embeddingAnswer, type InputCounts, perInputStatus } from './embedding-answer.js'
import { type BatchReport, type CallSender, EmbeddingBatcher, EmbeddingCallFailed, type FetchedVector } from './embedding-batcher.js'
import { type EmbeddingRequestPlan, inputKey, planEmbeddings } from './embedding-request.js'
import type { ResolvedEmbeddingsOptions } from './embeddings-options.js'
import { isVectorEntry, vectorEntry, vectorOfEntry } from './stored-vector.js'
import { storeWholeAnswer } from './whole-answer.js'

/** What {@link PerInputEmbeddings} is made with. */
export interface PerInputEmbeddingsOptions {
  embeddings: ResolvedEmbeddingsOptions
  tiers: TieredCache
  telemetry: Telemetry
  stats: EmbeddingStats
  /** The engine's default TTL. */
  ttlMs: number
  normalize: Parameters<typeof planEmbeddings>[1]
  /** The whole-request path (lookup of the request's own key, then a miss), for what the per-input path does not serve. */
  wholeRequest: (serving: Serving, namespace: string, generation: number) => Outcome | Promise<Outcome>
}

/** An input found in a tier. */
interface Found {
  entry: CacheEntry
  tier: Tier
}

// Headers that say whose upstream call it is: only requests that agree on them share one.
const identityHeaderNames = [...credentialHeaderNames, 'openai-organization', 'openai-project']

/**
 * `/v1/embeddings`, input by input: each input has its own entry (its
 * vector as float32 bytes); the inputs a request misses are fetched from the
 * upstream in one call (merged with concurrent requests' misses within
 * `batchWindowMs`), an input already being fetched is waited for rather
 * than fetched again, and the answer is put together in the request's
 * order and encoding. The engine enters it from one branch of its lookup
 * stage; everything else of the request (directives, scope, limits,
 * observation) is the engine's. See docs/embeddings.md.
 */
export class PerInputEmbeddings {
  readonly #options: PerInputEmbeddingsOptions
  readonly #tiers: TieredCache
  readonly #stats: EmbeddingStats
  readonly #telemetry: Telemetry
  readonly #batcher: EmbeddingBatcher
  /** Inputs being fetched, by entry key (which holds the scope: tenants never share one). */
  readonly #inFlight = new Map<string, Promise<FetchedVector>>()
  // Upstream producers by a number, part of the batching group.
  readonly #producerIds = new WeakMap<UpstreamProducer, number>()

  constructor(options: PerInputEmbeddingsOptions) {
    this.#options = options
    this.#tiers = options.tiers
    this.#stats = options.stats
    this.#telemetry = options.telemetry
    this.#batcher = new EmbeddingBatcher(options.embeddings, (report) => this.#called(report))
    // Every series exists from the start at zero, so the first increase is visible (decision 39).
    this.#count({ cached: 0, sent: 0, collapsed: 0 })
    this.#called({ inputs: 0, requests: 0 }, 0)
  }

  /**
   * Serves an embeddings request input by input, or `undefined` when it
   * cannot be served exactly that way (see {@link planEmbeddings}): then the
   * engine takes the whole-request path.
   */
  serve(serving: Serving, namespace: string, generation: number): Promise<Outcome> | undefined {
    const plan = planEmbeddings(serving.prepared.body(), this.#options.normalize)
    if (plan === undefined) return undefined
    return this.#serve(serving, plan, namespace, generation)
  }

  async #serve(serving: Serving, plan: EmbeddingRequestPlan, namespace: string, generation: number): Promise<Outcome> {
    const { observation, directives } = serving
    observation.namespace = namespace
    const keys = plan.inputs.map((input) => inputKey(input, namespace, generation, serving.scope))
    const found = directives.noCache ? keys.map(() => undefined) : await this.#lookUp(serving, keys)
    const missing: number[] = []
    for (let index = 0; index < found.length; index++) if (found[index] === undefined) missing.push(index)
    if (missing.length === 0) return this.#answerHit(serving, plan, found as Found[])
    if (directives.onlyIfCached) throw new AiCacheError('not_cached', 'The request said only-if-cached and not every input has a fresh stored vector.')
    if (!(serving.producer instanceof UpstreamProducer)) return this.#wrapped(serving, plan, keys, found, namespace, generation)
    return this.#fetchMissing(serving, serving.producer, plan, keys, found, missing)
  }

  /** Each key, memory first, then the remote tier for what memory missed; entries too old for the request count as missing. */
  async #lookUp(serving: Serving, keys: readonly string[]): Promise<Array<Found | undefined>> {
    const nowMs = Date.now()
    const found: Array<Found | undefined> = new Array(keys.length)
    const remote: Array<Promise<void>> = []
    for (let index = 0; index < keys.length; index++) {
      const key = keys[index]!
      const result = this.#tiers.lookUp(key, nowMs, serving.observation)
      if (result === undefined) continue
      if (!(result instanceof Promise)) {
        found[index] = this.#usable(serving, result, 'l1', nowMs)
        continue
      }
      remote.push(
        result.then((hit) => {
          const usable = hit && this.#usable(serving, hit.entry, hit.tier, Date.now())
          if (usable === undefined) return
          this.#tiers.promote(key, usable.entry, Date.now())
          found[index] = usable
        }),
      )
    }
    if (remote.length > 0) await Promise.all(remote)
    return found
  }

  #usable(serving: Serving, entry: CacheEntry, tier: Tier, nowMs: number): Found | undefined {
    if (!isVectorEntry(entry) || isTooOld(entry, serving.directives, nowMs)) return undefined
    return { entry, tier }
  }

  /** Every input was stored: answered from the entries. */
  async #answerHit(serving: Serving, plan: EmbeddingRequestPlan, found: readonly Found[]): Promise<Outcome> {
    const { observation } = serving
    const nowMs = Date.now()
    let tier: Tier = 'l1'
    let savedTokens = 0
    let expiresAt = Number.POSITIVE_INFINITY
    const vectors = found.map(({ entry, tier: from }) => {
      if (from !== 'l1') tier = from
      savedTokens += entry.usage?.inputTokens ?? 0
      expiresAt = Math.min(expiresAt, entry.createdAt + entry.ttlMs)
      return vectorOfEntry(entry)
    })
    const model = vectors[0]?.model
    const rateLimitHeaders = await admitHit(serving.limiter, serving.caller, { inputTokens: savedTokens, outputTokens: 0 }, observation)
    const counts: InputCounts = { cached: found.length, sent: 0, collapsed: 0 }
    this.#count(counts)
    observation.result = 'hit'
    observation.tier = tier
    observation.saved = savedEntry(model, savedTokens, nowMs)
    observation.attributes = spanAttributes(counts)
    const ttlSeconds = Math.max(0, Math.floor((expiresAt - nowMs) / 1000))
    const outcome: Outcome = {
      type: 'respond',
      status: 200,
      headers: { 'content-type': 'application/json', 'cache-status': perInputStatus(counts, { tier, ttlSeconds, stored: false, reason: 'uri-miss' }) },
      body: embeddingAnswer(vectors, plan.encoding, model, 0),
    }
    return observation.settle(withHeaders(outcome, rateLimitHeaders))
  }

  /** Proxy and client mode: the missing inputs are fetched (or waited for), the rest comes from the entries. */
  async #fetchMissing(
    serving: Serving,
    producer: UpstreamProducer,
    plan: EmbeddingRequestPlan,
    keys: readonly string[],
    found: ReadonlyArray<Found | undefined>,
    missing: readonly number[],
  ): Promise<Outcome> {
    const { request, prepared, observation, directives } = serving
    const { admission } = await admitMiss(serving.limiter, serving.caller, prepared, observation)
    const ttlMs = directives.ttlMs ?? this.#options.ttlMs
    // Each distinct missing key once: joined when another request is fetching it, else fetched here.
    const pending = new Map<string, { promise: Promise<FetchedVector>; own: boolean }>()
    const toFetch: number[] = []
    const fetching = new Set<string>()
    for (const index of missing) {
      const key = keys[index]!
      if (pending.has(key) || fetching.has(key)) continue
      const flight = this.#inFlight.get(key)
      if (flight !== undefined) pending.set(key, { promise: flight, own: false })
      else {
        toFetch.push(index)
        fetching.add(key)
      }
    }
    if (toFetch.length > 0) {
      const sender: CallSender = {
        send: (body) => producer.send(request, body),
        observe: () => observation.upstream(producer.targetOf(request, prepared)),
      }
      const promises = this.#batcher.fetch(
        this.#groupOf(producer, serving, plan),
        plan.fields,
        plan.encoding === 'float',
        sender,
        toFetch.map((index) => plan.inputs[index]!),
      )
      toFetch.forEach((index, position) => {
        const key = keys[index]!
        const promise = promises[position]!
        pending.set(key, { promise, own: true })
        this.#inFlight.set(key, promise)
        promise.then(
          (vector) => {
            this.#inFlight.delete(key)
            if (ttlMs > 0 && vector.exact === undefined) void this.#tiers.keep(key, vectorEntry(vector, Date.now(), ttlMs))
          },
          () => this.#inFlight.delete(key),
        )
      })
    }

    let vectors: FetchedVector[]
    try {
      vectors = await Promise.all(
        keys.map((key, index) => (found[index]?.entry ? Promise.resolve(vectorOfEntry(found[index].entry)) : pending.get(key)!.promise)),
      )
    } catch (error) {
      void admission?.settle(0)
      if (!(error instanceof EmbeddingCallFailed)) throw error
      observation.result = 'miss'
      const status = perInputStatus(
        { cached: found.filter((item) => item !== undefined).length, sent: toFetch.length, collapsed: pending.size - toFetch.length },
        { tier: 'l1', ttlSeconds: 0, forwardStatus: error.status, stored: false, reason: 'uri-miss' },
      )
      return observation.settle({ type: 'respond', status: error.status, headers: { ...error.headers, 'cache-status': status }, body: error.body })
    }

    let sentTokens = 0
    let savedTokens = 0
    let cached = 0
    const counted = new Set<string>()
    for (let index = 0; index < keys.length; index++) {
      const vector = vectors[index]!
      if (found[index] !== undefined) {
        cached++
        savedTokens += vector.tokens
        continue
      }
      const key = keys[index]!
      // A repeated input costs once; its repeats, like inputs fetched for another request, cost nothing here.
      if (pending.get(key)!.own && !counted.has(key)) {
        counted.add(key)
        sentTokens += vector.tokens
      } else savedTokens += vector.tokens
    }
    const collapsed = pending.size - toFetch.length
    const counts: InputCounts = { cached, sent: toFetch.length, collapsed }
    this.#count(counts)
    void admission?.settle(sentTokens)
    const model = vectors[0]?.model ?? prepared.model
    observation.result = toFetch.length === 0 ? 'coalesced' : 'miss'
    if (savedTokens > 0) observation.saved = savedEntry(model, savedTokens, Date.now())
    observation.attributes = spanAttributes(counts)
    const outcome: Outcome = {
      type: 'respond',
      status: 200,
      headers: {
        'content-type': 'application/json',
        'cache-status': perInputStatus(counts, {
          tier: 'l1',
          ttlSeconds: 0,
          forwardStatus: 200,
          stored: ttlMs > 0,
          reason: directives.noCache ? 'request' : 'uri-miss',
        }),
      },
      body: embeddingAnswer(vectors, plan.encoding, model, sentTokens),
    }
    return observation.settle(withHeaders(outcome, admission?.headers))
  }

  /**
   * Wrap mode: the app's handler answers for the whole request (it cannot
   * be asked for some inputs only); its answer is kept whole as usual, and
   * input by input, so a later request of inputs it embedded is a hit.
   */
  async #wrapped(
    serving: Serving,
    plan: EmbeddingRequestPlan,
    keys: readonly string[],
    found: ReadonlyArray<Found | undefined>,
    namespace: string,
    generation: number,
  ): Promise<Outcome> {
    const outcome = await this.#options.wholeRequest(serving, namespace, generation)
    const ttlMs = serving.directives.ttlMs ?? this.#options.ttlMs
    if (outcome.type !== 'next' || outcome.capture === undefined || ttlMs === 0) return outcome
    const capture = outcome.capture
    const chunks: Buffer[] = []
    return {
      ...outcome,
      capture: {
        write: (chunk) => {
          chunks.push(Buffer.from(chunk))
          capture.write(chunk)
        },
        abandon: () => capture.abandon(),
        complete: (response: CapturedResponse) => {
          capture.complete(response)
          if (response.status >= 200 && response.status < 300) {
            storeWholeAnswer(this.#tiers, Buffer.concat(chunks), plan, keys, found, ttlMs)
          }
        },
      },
    }
  }

  /** Requests whose misses may share one call: same upstream, URL, credential and fields, in the same scope. */
  #groupOf(producer: UpstreamProducer, serving: Serving, plan: EmbeddingRequestPlan): string {
    let id = this.#producerIds.get(producer)
    if (id === undefined) this.#producerIds.set(producer, (id = nextProducerId++))
    const { headers, url } = serving.request
    let identity = ''
    for (const name of identityHeaderNames) {
      const value = headers[name]
      if (value !== undefined) identity += `${name}:${Array.isArray(value) ? value.join(',') : value}\n`
    }
    return `${id}\n${serving.scope}\n${url}\n${identity}${plan.fieldsText}`
  }

  #count(counts: InputCounts): void {
    const stats = this.#stats
    stats.inputsFromCache += counts.cached
    stats.inputsSent += counts.sent
    stats.inputsCollapsed += counts.collapsed
    const inputs = this.#telemetry.counts.embeddingInputs
    const engine = this.#telemetry.engineAttributes
    inputs.add('cache', counts.cached, () => ({ ...engine, [attribute.embeddingSource]: 'cache' }))
    inputs.add('upstream', counts.sent, () => ({ ...engine, [attribute.embeddingSource]: 'upstream' }))
    inputs.add('collapsed', counts.collapsed, () => ({ ...engine, [attribute.embeddingSource]: 'collapsed' }))
  }

  #called(report: BatchReport, calls = 1): void {
    this.#stats.upstreamCalls += calls
    const merged = report.requests > 1 ? 1 : 0
    this.#stats.batchesMerged += merged
    this.#telemetry.counts.embeddingBatchesMerged.add('merged', merged, () => ({ ...this.#telemetry.engineAttributes }))
  }
}

let nextProducerId = 0

/** What the cache saved a request, as the observation prices and counts it. */
function savedEntry(model: string | undefined, inputTokens: number, nowMs: number): CacheEntry {
  return {
    version: 1,
    format: 'json',
    status: 200,
    headers: {},
    body: Buffer.alloc(0),
    events: undefined,
    model,
    usage: { inputTokens, outputTokens: 0 },
    createdAt: nowMs,
    ttlMs: 0,
  }
}

function spanAttributes(counts: InputCounts): Record<string, number> {
  return {
    [attribute.embeddingInputsCached]: counts.cached,
    [attribute.embeddingInputsSent]: counts.sent,
    [attribute.embeddingInputsCollapsed]: counts.collapsed,
  }
}
