import type { Attributes, Meter, ObservableResult } from '@opentelemetry/api'
import type { CapacityReport, UpstreamLoad } from '../capacity/capacity-monitor.js'
import type { LoadSignals } from '../capacity/load-signals.js'
import type { Recommendation } from '../capacity/recommend.js'
import { attribute, metric } from './names.js'

/** The latest forecast of an engine with the `capacity` option. */
export interface CapacityFigures {
  scope: CapacityReport['scope']
  observed: NonNullable<CapacityReport['observed']>
  forecast: CapacityReport['forecast']
  recommendation: Recommendation
}

/** What the capacity gauges read from one engine. */
export interface CapacitySource {
  readonly signals: LoadSignals
  /** The resilience layer's queues; undefined in wrap mode. */
  upstreamLoad(): UpstreamLoad | undefined
  /** The upstream budget's limits, when one is configured. */
  readonly budget: { requestsPerMinute: number | undefined; tokensPerMinute: number | undefined } | undefined
  /** The latest forecast; undefined without the `capacity` option or before its first interval ended. */
  forecast(): CapacityFigures | undefined
}

/** One engine's capacity source, with the attributes of its series (`aicache.engine` when named). */
export interface CapacitySeries {
  key: string
  attributes: Attributes
  source: CapacitySource
}

type Reading = (source: CapacitySource, emit: (key: string, value: number, attributes: () => Attributes) => void) => void

/**
 * Observable gauges of load and capacity, read when a metric reader
 * collects. Load (requests and calls in flight, queue depths, tokens per
 * minute) adds up over engines of one series; forecast figures, the same
 * for every instance of a fleet, are the largest reading.
 */
export function observeCapacity(meter: Meter, engines: () => Iterable<CapacitySeries>): void {
  const observe = (result: ObservableResult, read: Reading, pick: (a: number, b: number) => number) => {
    const points = new Map<string, { attributes: Attributes; value: number }>()
    for (const { key, attributes, source } of engines()) {
      read(source, (seriesKey, value, extra) => {
        const pointKey = `${key}\n${seriesKey}`
        const point = points.get(pointKey)
        if (point === undefined) points.set(pointKey, { attributes: { ...attributes, ...extra() }, value })
        else point.value = pick(point.value, value)
      })
    }
    for (const point of points.values()) result.observe(point.value, point.attributes)
  }
  const sum = (a: number, b: number) => a + b
  const gauge = (name: string, unit: string, description: string, read: Reading, pick: (a: number, b: number) => number = sum) =>
    meter.createObservableGauge(name, { unit, description }).addCallback((result) => observe(result, read, pick))
  const none = () => ({})

  gauge(metric.requestsInFlight, '{request}', 'Requests being answered', (source, emit) => emit('', source.signals.requestsInFlight, none))
  gauge(metric.upstreamInFlight, '{call}', 'Upstream calls in flight by operation and model', (source, emit) => {
    for (const [key, count] of source.signals.upstreamInFlight.entries()) emit(key, count.value, () => count.attributes)
  })
  gauge(metric.upstreamQueueDepth, '{call}', 'Upstream calls waiting for a concurrency slot or for the upstream budget', (source, emit) => {
    const load = source.upstreamLoad()
    if (load === undefined) return
    emit('concurrency', load.queued, () => ({ [attribute.queue]: 'concurrency' }))
    if (source.budget !== undefined) emit('budget', load.budgetQueued, () => ({ [attribute.queue]: 'budget' }))
  })
  gauge(metric.upstreamTokensPerMinute, '{token}', 'Upstream tokens of the last minute by operation and model', (source, emit) => {
    for (const { key, attributes, value } of source.signals.tokensPerMinute.entries(Date.now())) emit(key, value, () => attributes)
  })
  gauge(
    metric.upstreamBudgetLimit,
    '{1}',
    'The upstream budget: requests or tokens per minute the account allows',
    (source, emit) => {
      const budget = source.budget
      if (budget?.requestsPerMinute !== undefined) emit('requests', budget.requestsPerMinute, () => ({ [attribute.budget]: 'requests_per_minute' }))
      if (budget?.tokensPerMinute !== undefined) emit('tokens', budget.tokensPerMinute, () => ({ [attribute.budget]: 'tokens_per_minute' }))
    },
    Math.max,
  )

  const forecastGauge = (name: string, unit: string, description: string, read: (figures: CapacityFigures) => Array<[string, number, Attributes]>) =>
    gauge(
      name,
      unit,
      description,
      (source, emit) => {
        const figures = source.forecast()
        if (figures === undefined) return
        for (const [key, value, extra] of read(figures)) emit(key, value, () => ({ [attribute.capacityScope]: figures.scope, ...extra }))
      },
      Math.max,
    )
  const byHorizon = (value: (entry: CapacityFigures['forecast'][number]) => number) => (figures: CapacityFigures) =>
    figures.forecast.map((entry): [string, number, Attributes] => [
      String(entry.horizonSeconds),
      value(entry),
      { [attribute.capacityHorizon]: entry.horizonSeconds },
    ])
  const single = (value: (figures: CapacityFigures) => number | undefined) => (figures: CapacityFigures) => {
    const number = value(figures)
    return number === undefined ? [] : [['', number, {}] as [string, number, Attributes]]
  }
  forecastGauge(
    metric.capacityForecastRequestsRate,
    '{request}/s',
    'Forecast requests per second, by horizon',
    byHorizon((entry) => entry.requestsPerSecond),
  )
  forecastGauge(
    metric.capacityForecastCallsRate,
    '{call}/s',
    'Forecast upstream calls per second, by horizon',
    byHorizon((entry) => entry.callsPerSecond),
  )
  forecastGauge(
    metric.capacityForecastTokensRate,
    '{token}/s',
    'Forecast upstream tokens per second, by horizon',
    byHorizon((entry) => entry.tokensPerSecond),
  )
  forecastGauge(
    metric.capacityObservedRequestsRate,
    '{request}/s',
    'Requests per second of the last complete interval',
    single((figures) => figures.observed.requestsPerSecond),
  )
  forecastGauge(
    metric.capacityObservedTokensRate,
    '{token}/s',
    'Upstream tokens per second of the last complete interval',
    single((figures) => figures.observed.tokensPerSecond),
  )
  forecastGauge(
    metric.capacityUpstreamLatency,
    's',
    'Mean upstream call time lately',
    single((figures) => figures.observed.upstreamLatencySeconds),
  )
  forecastGauge(
    metric.capacityRecommendedInstances,
    '{instance}',
    'Instances recommended for the forecast load',
    single((figures) => figures.recommendation.instances),
  )
  forecastGauge(
    metric.capacityRecommendedConcurrency,
    '{call}',
    'Upstream calls in flight the forecast load needs, fleet-wide, at the target utilisation',
    single((figures) => figures.recommendation.concurrency),
  )
}
