import { type Counter, type Histogram, type Meter, type MeterProvider, metrics } from '@opentelemetry/api'
import {
  instrumentationName,
  metric,
  operationDurationBuckets,
  requestDurationBuckets,
  tokenUsageBuckets,
} from './names.js'
import { observeRedis, type RedisSource } from './redis-instruments.js'
import type { RequestTally } from './tally.js'

/** The instruments aicache records with. */
export interface Instruments {
  operationDuration: Histogram
  tokenUsage: Histogram
  requestDuration: Histogram
  lookupDuration: Histogram
  costSpent: Counter
  upstreamRetries: Counter
  rateLimitRejections: Counter
}

/** Values read when a metric reader collects (gauges). */
export interface GaugeSources {
  memory(): { bytes: number; entries: number }
  breakerState(): number | undefined
  /** Failed Redis calls so far; undefined without Redis. */
  redisErrors(): number | undefined
  /** The Redis layer (connection state, `INFO` facts); undefined without Redis. */
  redis(): RedisSource | undefined
  /** Requests, tokens saved and dollars saved so far. */
  tally: RequestTally
}

function create(meter: Meter, gauges: GaugeSources): Instruments {
  const histogram = (name: string, unit: string, description: string, boundaries: number[]) =>
    meter.createHistogram(name, { unit, description, advice: { explicitBucketBoundaries: boundaries } })
  meter
    .createObservableGauge(metric.memoryBytes, { unit: 'By', description: 'Bytes held by the memory tier' })
    .addCallback((result) => result.observe(gauges.memory().bytes))
  meter
    .createObservableGauge(metric.memoryEntries, { unit: '{entry}', description: 'Entries held by the memory tier' })
    .addCallback((result) => result.observe(gauges.memory().entries))
  meter
    .createObservableGauge(metric.breakerState, { description: 'Upstream circuit breaker: 0 closed, 1 half-open, 2 open' })
    .addCallback((result) => {
      const state = gauges.breakerState()
      if (state !== undefined) result.observe(state)
    })
  meter
    .createObservableCounter(metric.redisErrors, { unit: '{error}', description: 'Failed or timed-out Redis calls' })
    .addCallback((result) => {
      const errors = gauges.redisErrors()
      if (errors !== undefined) result.observe(errors)
    })
  observeRedis(meter, gauges.redis)
  // Counted per request by the tally, read here only when a reader collects.
  const { tally } = gauges
  meter
    .createObservableCounter(metric.requests, { unit: '{request}', description: 'Requests by result and tier' })
    .addCallback((result) => tally.observeRequests(result))
  meter
    .createObservableCounter(metric.tokensSaved, { unit: '{token}', description: 'Tokens not spent thanks to hits' })
    .addCallback((result) => tally.observeTokensSaved(result))
  meter
    .createObservableCounter(metric.costSaved, { unit: 'USD', description: 'Dollars not spent thanks to hits' })
    .addCallback((result) => tally.observeCostSaved(result))
  return {
    operationDuration: histogram(metric.operationDuration, 's', 'GenAI operation duration', operationDurationBuckets),
    tokenUsage: histogram(metric.tokenUsage, '{token}', 'Tokens used by upstream calls', tokenUsageBuckets),
    requestDuration: histogram(metric.requestDuration, 's', 'Time to answer a request, by result', requestDurationBuckets),
    lookupDuration: histogram(metric.lookupDuration, 's', 'Cache lookup time by tier', requestDurationBuckets),
    costSpent: meter.createCounter(metric.costSpent, { unit: 'USD', description: 'Dollars spent on upstream calls' }),
    upstreamRetries: meter.createCounter(metric.upstreamRetries, { unit: '{retry}', description: 'Upstream call retries' }),
    rateLimitRejections: meter.createCounter(metric.rateLimitRejections, {
      unit: '{request}',
      description: 'Requests refused by the inbound rate limit',
    }),
  }
}

/**
 * The instruments of the current meter provider. An SDK registered after the
 * engine was created still gets data: the global provider is looked up on
 * every use and the instruments are made again when it changed.
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
      // The API hands out its no-op provider until an SDK registers one.
      this.#instruments =
        provider.constructor.name === 'NoopMeterProvider'
          ? undefined
          : create(provider.getMeter(instrumentationName), this.#gauges)
    }
    return this.#instruments
  }
}
