import {
  type Attributes,
  type BatchObservableResult,
  createNoopMeter,
  type Histogram,
  type Meter,
  type MeterProvider,
  metrics,
  type Observable,
} from '@opentelemetry/api'
import { type Counts, Points } from './counts.js'
import {
  attribute,
  instrumentationName,
  metric,
  operationDurationBuckets,
  requestDurationBuckets,
  similarityBuckets,
  timePerOutputChunkBuckets,
  tokenUsageBuckets,
} from './names.js'
import { type CapacitySeries, type CapacitySource, observeCapacity } from './capacity-instruments.js'
import { observeRedis, type RedisSource } from './redis-instruments.js'
import type { RequestTally } from './tally.js'

/** The instruments an engine records with as things happen. */
export interface Instruments {
  operationDuration: Histogram
  tokenUsage: Histogram
  timeToFirstChunk: Histogram
  timePerOutputChunk: Histogram
  requestDuration: Histogram
  lookupDuration: Histogram
  semanticSimilarity: Histogram
  semanticEmbedDuration: Histogram
}

/** Running totals of one engine read by observable counters: dollars spent, retries, rejections, upstream errors. */
export interface EngineCounts {
  costSpent: Counts
  upstreamRetries: Counts
  rateLimitRejections: Counts
  upstreamErrors: Counts
  /** Input tokens read from or written to providers' own prompt caches. */
  providerCacheTokens: Counts
  /** Embeddings inputs by source (cache, upstream, collapsed). */
  embeddingInputs: Counts
  embeddingBatchesMerged: Counts
  semanticRejections: Counts
  /** Stale answers by reason (freshness/). */
  staleServed: Counts
  /** Background refreshes by reason and result (freshness/). */
  refreshes: Counts
}

/** What one engine reports when a metric reader collects. */
export interface GaugeSources {
  /** `aicache.engine` on the engine's series; without it they add up with other unnamed engines'. */
  engine: string | undefined
  memory(): { bytes: number; entries: number }
  breakerState(): number | undefined
  /** Failed Redis calls so far; undefined without Redis. */
  redisErrors(): number | undefined
  /** The Redis layer (connection state, `INFO` facts); undefined without Redis. */
  redis(): RedisSource | undefined
  /** Requests, tokens saved and dollars saved so far. */
  tally: RequestTally
  counts: EngineCounts
  /** Load, queues and the capacity forecast (`capacity-instruments.ts`). */
  capacity?: CapacitySource
}

/**
 * The instruments of one meter provider, shared by every engine recording
 * to it. The observable ones are registered once, and read every engine:
 * engines with different names (`telemetry.engine`) report their own series,
 * unnamed ones (or ones of the same name) add up. Registered per engine,
 * the second engine's callbacks would replace the first's values.
 */
class MeterRegistry {
  readonly instruments: Instruments
  // Weakly: an engine that is gone stops reporting.
  readonly #engines = new Set<WeakRef<GaugeSources>>()
  readonly #members = new WeakSet<GaugeSources>()
  // Series each observable counter reported already, by metric name.
  readonly #announced = new Map<string, Set<string>>()

  constructor(meter: Meter) {
    const histogram = (name: string, unit: string, description: string, boundaries: number[]) =>
      meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: boundaries } })
    this.instruments = {
      operationDuration: histogram(metric.operationDuration, 's', 'GenAI operation duration', operationDurationBuckets),
      tokenUsage: histogram(metric.tokenUsage, '{token}', 'Tokens used by upstream calls', tokenUsageBuckets),
      timeToFirstChunk: histogram(metric.timeToFirstChunk, 's', 'Time to the first chunk of a streamed upstream call', operationDurationBuckets),
      timePerOutputChunk: histogram(metric.timePerOutputChunk, 's', 'Time between chunks of a streamed upstream call', timePerOutputChunkBuckets),
      requestDuration: histogram(metric.requestDuration, 's', 'Time to answer a request, by result', requestDurationBuckets),
      lookupDuration: histogram(metric.lookupDuration, 's', 'Cache lookup time by tier', requestDurationBuckets),
      semanticSimilarity: histogram(metric.semanticSimilarity, '1', "Cosine similarity of each semantic lookup's best neighbour", similarityBuckets),
      semanticEmbedDuration: histogram(metric.semanticEmbedDuration, 's', "Time to embed a semantic lookup's query", requestDurationBuckets),
    }
    const gauges = {
      memoryBytes: meter.createObservableGauge(metric.memoryBytes, { unit: 'By', description: 'Bytes held by the memory tier' }),
      memoryEntries: meter.createObservableGauge(metric.memoryEntries, { unit: '{entry}', description: 'Entries held by the memory tier' }),
      breakerState: meter.createObservableGauge(metric.breakerState, { description: 'Upstream circuit breaker: 0 closed, 1 half-open, 2 open' }),
    }
    const counter = (name: string, unit: string, description: string) => meter.createObservableCounter(name, { unit, description })
    const counters = {
      redisErrors: counter(metric.redisErrors, '{error}', 'Failed or timed-out Redis calls'),
      requests: counter(metric.requests, '{request}', 'Requests by result and tier'),
      tokensSaved: counter(metric.tokensSaved, '{token}', 'Tokens not spent thanks to hits'),
      costSaved: counter(metric.costSaved, 'USD', 'Dollars not spent thanks to hits'),
      costSpent: counter(metric.costSpent, 'USD', 'Dollars spent on upstream calls'),
      upstreamRetries: counter(metric.upstreamRetries, '{retry}', 'Upstream call retries'),
      upstreamErrors: counter(metric.upstreamErrors, '{error}', 'Failed upstream calls by error.type'),
      rateLimitRejections: counter(metric.rateLimitRejections, '{request}', 'Requests refused by the inbound rate limit'),
      providerCacheTokens: counter(metric.providerCacheTokens, '{token}', 'Input tokens upstream providers read from or wrote to their own prompt cache'),
      embeddingInputs: counter(metric.embeddingInputs, '{input}', 'Embeddings inputs by source: cache, upstream or collapsed'),
      embeddingBatchesMerged: counter(metric.embeddingBatchesMerged, '{call}', 'Upstream embeddings calls that merged the inputs of several requests'),
      semanticRejections: counter(metric.semanticRejections, '{lookup}', 'Semantic lookups that served nothing, by reason'),
      staleServed: counter(metric.staleServed, '{request}', 'Requests answered from a stale entry, by aicache.stale.reason'),
      refreshes: counter(metric.refreshes, '{call}', 'Background refreshes of entries, by aicache.refresh.reason and aicache.refresh.result'),
    }
    meter.addBatchObservableCallback((result) => this.#observe(result, gauges, counters), [...Object.values(gauges), ...Object.values(counters)])
    observeRedis(meter, () => this.#redisLayers())
    observeCapacity(meter, () => this.#capacitySources())
  }

  /** The capacity source of every live engine, with the attributes of its series. */
  *#capacitySources(): Iterable<CapacitySeries> {
    for (const reference of this.#engines) {
      const engine = reference.deref()
      if (engine?.capacity === undefined) continue
      yield { key: engine.engine ?? '', attributes: engine.engine === undefined ? {} : { [attribute.engine]: engine.engine }, source: engine.capacity }
    }
  }

  /** The Redis layer of every live engine, with the attributes of its series. */
  *#redisLayers(): Iterable<{ key: string; attributes: Attributes; layer: RedisSource }> {
    for (const reference of this.#engines) {
      const engine = reference.deref()
      const layer = engine?.redis()
      if (engine === undefined || layer === undefined) continue
      yield { key: engine.engine ?? '', attributes: engine.engine === undefined ? {} : { [attribute.engine]: engine.engine }, layer }
    }
  }

  add(sources: GaugeSources): void {
    if (this.#members.has(sources)) return
    this.#members.add(sources)
    this.#engines.add(new WeakRef(sources))
  }

  #observe(
    result: BatchObservableResult,
    gauges: Record<'memoryBytes' | 'memoryEntries' | 'breakerState', Observable>,
    counters: Record<
      | 'redisErrors'
      | 'requests'
      | 'tokensSaved'
      | 'costSaved'
      | 'costSpent'
      | 'upstreamRetries'
      | 'upstreamErrors'
      | 'rateLimitRejections'
      | 'providerCacheTokens'
      | 'embeddingInputs'
      | 'embeddingBatchesMerged'
      | 'semanticRejections'
      | 'staleServed'
      | 'refreshes',
      Observable
    >,
  ): void {
    const points = {
      memoryBytes: new Points(),
      memoryEntries: new Points(),
      breakerState: new Points(),
      redisErrors: new Points(),
      requests: new Points(),
      tokensSaved: new Points(),
      costSaved: new Points(),
      costSpent: new Points(),
      upstreamRetries: new Points(),
      upstreamErrors: new Points(),
      rateLimitRejections: new Points(),
      providerCacheTokens: new Points(),
      embeddingInputs: new Points(),
      embeddingBatchesMerged: new Points(),
      semanticRejections: new Points(),
      staleServed: new Points(),
      refreshes: new Points(),
    }
    const counted = (into: Points, counts: Counts) => {
      for (const [key, count] of counts.entries()) into.add(key, count.attributes, count.value)
    }
    for (const reference of this.#engines) {
      const engine = reference.deref()
      if (engine === undefined) {
        this.#engines.delete(reference)
        continue
      }
      const name = engine.engine ?? ''
      const attributes: Attributes = engine.engine === undefined ? {} : { [attribute.engine]: engine.engine }
      const memory = engine.memory()
      points.memoryBytes.add(name, attributes, memory.bytes)
      points.memoryEntries.add(name, attributes, memory.entries)
      const state = engine.breakerState()
      if (state !== undefined) points.breakerState.max(name, attributes, state)
      const errors = engine.redisErrors()
      if (errors !== undefined) points.redisErrors.add(name, attributes, errors)
      engine.tally.observeRequests(points.requests)
      engine.tally.observeTokensSaved(points.tokensSaved)
      engine.tally.observeCostSaved(points.costSaved)
      counted(points.costSpent, engine.counts.costSpent)
      counted(points.upstreamRetries, engine.counts.upstreamRetries)
      counted(points.upstreamErrors, engine.counts.upstreamErrors)
      counted(points.rateLimitRejections, engine.counts.rateLimitRejections)
      counted(points.providerCacheTokens, engine.counts.providerCacheTokens)
      counted(points.embeddingInputs, engine.counts.embeddingInputs)
      counted(points.embeddingBatchesMerged, engine.counts.embeddingBatchesMerged)
      counted(points.semanticRejections, engine.counts.semanticRejections)
      counted(points.staleServed, engine.counts.staleServed)
      counted(points.refreshes, engine.counts.refreshes)
    }
    for (const [name, gauge] of Object.entries(gauges)) {
      for (const [, point] of points[name as keyof typeof gauges].entries()) result.observe(gauge, point.value, point.attributes)
    }
    for (const [name, counter] of Object.entries(counters)) {
      let announced = this.#announced.get(name)
      if (announced === undefined) this.#announced.set(name, (announced = new Set()))
      for (const [key, point] of points[name as keyof typeof counters].entries()) {
        // A series reports 0 at its first collection and its count from the
        // next: Prometheus's rate() and increase() only count what a series
        // gained after its first sample, and would miss what it started with.
        if (announced.has(key)) result.observe(counter, point.value, point.attributes)
        else {
          announced.add(key)
          result.observe(counter, 0, point.attributes)
        }
      }
    }
  }
}

const registries = new WeakMap<MeterProvider, MeterRegistry>()

/** The registry of `provider`, or `undefined` when it is the API's no-op one. */
function registryOf(provider: MeterProvider): MeterRegistry | undefined {
  let registry = registries.get(provider)
  if (registry === undefined) {
    const meter = provider.getMeter(instrumentationName)
    // The API hands out its no-op meter until an SDK registers a provider.
    // Compared by identity, which survives minification (class names do not).
    if (meter === createNoopMeter()) return undefined
    registry = new MeterRegistry(meter)
    registries.set(provider, registry)
  }
  return registry
}

/**
 * The instruments of the current meter provider. An SDK registered after the
 * engine was created still gets data: the global provider is looked up on
 * every use and the engine joins the new provider's registry when it changed.
 */
export class InstrumentSet {
  readonly #fixed: MeterProvider | undefined
  readonly #gauges: GaugeSources
  #provider: MeterProvider | undefined = undefined
  #instruments: Instruments | undefined

  constructor(provider: MeterProvider | undefined, gauges: GaugeSources) {
    this.#fixed = provider
    this.#gauges = gauges
  }

  /** The instruments, or `undefined` while no SDK is registered (so callers skip the work). */
  get(): Instruments | undefined {
    const provider = this.#fixed ?? metrics.getMeterProvider()
    if (provider !== this.#provider) {
      this.#provider = provider
      const registry = registryOf(provider)
      registry?.add(this.#gauges)
      this.#instruments = registry?.instruments
    }
    return this.#instruments
  }
}
