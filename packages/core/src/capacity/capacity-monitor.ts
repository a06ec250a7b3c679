import type { RedisClient } from '../store/redis-client.js'
import type { ResolvedCapacityOptions } from './capacity-options.js'
import { FleetCounts, type IntervalCounts } from './fleet-counts.js'
import { holtAhead, holtSmooth } from './holt.js'
import type { LoadSignals, SignalTotals } from './load-signals.js'
import { type Recommendation, recommend } from './recommend.js'

/** The upstream's queues and calls in flight now (the resilience layer's). */
export interface UpstreamLoad {
  /** Calls holding a concurrency slot. */
  inFlight: number
  /** Calls waiting for a concurrency slot (queue depth). */
  queued: number
  /** Calls waiting for the upstream budget (requests or tokens per minute). */
  budgetQueued: number
}

/** The forecast at one horizon, as rates per second. */
export interface CapacityForecast {
  horizonSeconds: number
  requestsPerSecond: number
  /** Upstream calls (misses that reached the upstream). */
  callsPerSecond: number
  /** Upstream tokens, input and output. */
  tokensPerSecond: number
}

/** One interval of the history the forecast ran over. */
export interface CapacityInterval {
  /** Start of the interval, ms since the epoch. */
  startMs: number
  requests: number
  calls: number
  tokens: number
  /** Most upstream calls in flight at once on this instance during the interval. */
  peakCallsInFlight?: number
  /** Requests per second forecast at the end of this interval, one per horizon (`horizonsMs`). */
  forecastRequestsPerSecond?: number[]
  /** Tokens per second forecast at the end of this interval, one per horizon. */
  forecastTokensPerSecond?: number[]
  /** Upstream concurrency recommended at the end of this interval. */
  recommendedConcurrency?: number
}

/** What `engine.capacity()` and `GET /aicache/capacity` report. */
export interface CapacityReport {
  /** `'fleet'`: counts of every instance sharing the Redis; `'instance'`: this one's. */
  scope: 'fleet' | 'instance'
  intervalMs: number
  /** When the forecast was last computed, ms since the epoch; undefined before the first interval ended. */
  updatedAtMs: number | undefined
  /** The last complete interval, as rates per second, and the mean upstream call time lately. */
  observed: { requestsPerSecond: number; callsPerSecond: number; tokensPerSecond: number; upstreamLatencySeconds: number | undefined } | undefined
  forecast: CapacityForecast[]
  recommendation: Recommendation | undefined
  /** This instance now. */
  now: { requestsInFlight: number; upstreamInFlight: number; queued: number; budgetQueued: number }
  smoothing: ResolvedCapacityOptions['smoothing']
  history: CapacityInterval[]
}

interface IntervalRecord {
  peakCallsInFlight?: number
  forecastRequestsPerSecond?: number[]
  forecastTokensPerSecond?: number[]
  recommendedConcurrency?: number
}

interface Computed {
  atMs: number
  scope: 'fleet' | 'instance'
  rows: Array<{ interval: number; counts: IntervalCounts }>
  observed: NonNullable<CapacityReport['observed']>
  forecast: CapacityForecast[]
  recommendation: Recommendation
}

const zero: IntervalCounts = { requests: 0, calls: 0, tokens: 0, callsEnded: 0, callMs: 0 }
// Intervals the recent upstream latency is averaged over.
const latencyIntervals = 4

function difference(now: SignalTotals, before: SignalTotals): IntervalCounts {
  return {
    requests: now.requests - before.requests,
    calls: now.calls - before.calls,
    tokens: now.tokens - before.tokens,
    callsEnded: now.callsEnded - before.callsEnded,
    callMs: now.callMs - before.callMs,
  }
}

function scaled(counts: IntervalCounts, factor: number): IntervalCounts {
  return {
    requests: counts.requests * factor,
    calls: counts.calls * factor,
    tokens: counts.tokens * factor,
    callsEnded: counts.callsEnded * factor,
    callMs: counts.callMs * factor,
  }
}

/**
 * Counts requests, upstream calls and tokens per interval, forecasts them
 * with Holt's smoothing, and recommends instances and upstream concurrency.
 * At each interval's end (a timer that does not keep the process alive) it
 * takes the interval's counts from the running totals of {@link LoadSignals}
 * (the request path only increments them); with Redis it adds them to the
 * fleet's counts and, once every instance had time to add its own
 * (`settleMs`), forecasts the fleet's. Without Redis, or while Redis fails,
 * it forecasts this instance's own counts.
 */
export class CapacityMonitor {
  readonly options: ResolvedCapacityOptions
  readonly #signals: LoadSignals
  readonly #load: () => UpstreamLoad
  readonly #now: () => number
  #fleet: FleetCounts | undefined
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #totals: SignalTotals
  // The interval being counted, and whether it began before this instance did (then it is not a whole interval).
  #counting: number
  #countingPartial = true
  readonly #local: Array<{ interval: number; counts: IntervalCounts }> = []
  readonly #records = new Map<number, IntervalRecord>()
  #computed: Computed | undefined
  #latencySeconds: number | undefined

  constructor(options: ResolvedCapacityOptions, signals: LoadSignals, load: () => UpstreamLoad, now: () => number = Date.now) {
    this.options = options
    this.#signals = signals
    this.#load = load
    this.#now = now
    this.#totals = signals.totals()
    this.#counting = Math.floor(now() / options.intervalMs)
    this.#schedule()
  }

  /** Counts and forecasts the fleet through this Redis client from the next interval on (when `fleet` is on). */
  useRedis(client: RedisClient, prefix: string): void {
    if (!this.options.fleet) return
    this.#fleet = new FleetCounts(client, prefix, (this.options.historyIntervals + 2) * this.options.intervalMs)
  }

  /** The forecast and recommendation, with the history they came from. */
  report(): CapacityReport {
    const computed = this.#computed
    const load = this.#load()
    const history = (computed?.rows ?? []).map(({ interval, counts }) => ({
      startMs: interval * this.options.intervalMs,
      requests: counts.requests,
      calls: counts.calls,
      tokens: counts.tokens,
      ...this.#records.get(interval),
    }))
    return {
      scope: computed?.scope ?? (this.#fleet ? 'fleet' : 'instance'),
      intervalMs: this.options.intervalMs,
      updatedAtMs: computed?.atMs,
      observed: computed?.observed,
      forecast: computed?.forecast ?? [],
      recommendation: computed?.recommendation,
      now: { requestsInFlight: this.#signals.requestsInFlight, upstreamInFlight: load.inFlight, queued: load.queued, budgetQueued: load.budgetQueued },
      smoothing: this.options.smoothing,
      history,
    }
  }

  /** The latest forecast, for the gauges; undefined before the first interval ended. */
  get latest(): Computed | undefined {
    return this.#computed
  }

  close(): void {
    this.#closed = true
    clearTimeout(this.#timer)
  }

  #schedule(): void {
    if (this.#closed) return
    const { intervalMs } = this.options
    const delayMs = intervalMs - (this.#now() % intervalMs)
    this.#timer = setTimeout(() => void this.#tick(), delayMs)
    this.#timer.unref()
  }

  async #tick(): Promise<void> {
    const { intervalMs } = this.options
    const current = Math.floor(this.#now() / intervalMs)
    if (current <= this.#counting) return this.#schedule() // a timer that fired early
    const totals = this.#signals.totals()
    const counted = difference(totals, this.#totals)
    this.#totals = totals
    const peak = this.#signals.takePeak()
    // A timer late by whole intervals (a blocked event loop) spreads what it counted over them.
    const first = this.#counting
    const closed = current - 1
    const share = scaled(counted, 1 / (closed - first + 1))
    const partial = this.#countingPartial
    this.#counting = current
    this.#countingPartial = false
    this.#schedule()
    for (let interval = first; interval <= closed; interval++) {
      if (!(partial && interval === first)) this.#local.push({ interval, counts: share })
      this.#record(interval).peakCallsInFlight = peak
    }
    while (this.#local.length > this.options.historyIntervals) this.#local.shift()
    const rows = (await this.#fleetRows(first, closed, share)) ?? { scope: 'instance' as const, rows: this.#local.slice() }
    if (this.#closed || rows.rows.length === 0) return
    this.#compute(rows.scope, rows.rows, closed)
  }

  /** Adds this instance's counts to the fleet's and reads the fleet's back; undefined without Redis or when it fails. */
  async #fleetRows(first: number, closed: number, share: IntervalCounts): Promise<{ scope: 'fleet'; rows: Computed['rows'] } | undefined> {
    const fleet = this.#fleet
    if (fleet === undefined) return undefined
    try {
      for (let interval = first; interval <= closed; interval++) await fleet.add(interval, share)
      await new Promise((resolve) => setTimeout(resolve, this.options.settleMs).unref())
      const oldest = closed - this.options.historyIntervals + 1
      const counts = await fleet.read(oldest, closed)
      const start = counts.findIndex((entry) => entry !== undefined)
      if (start === -1) return undefined
      const rows = counts.slice(start).map((entry, index) => ({ interval: oldest + start + index, counts: entry ?? zero }))
      return { scope: 'fleet', rows }
    } catch {
      return undefined
    }
  }

  #record(interval: number): IntervalRecord {
    let record = this.#records.get(interval)
    if (record === undefined) {
      record = {}
      this.#records.set(interval, record)
      // Maps iterate in insertion order: the oldest go first.
      for (const key of this.#records.keys()) {
        if (this.#records.size <= this.options.historyIntervals) break
        this.#records.delete(key)
      }
    }
    return record
  }

  #compute(scope: 'fleet' | 'instance', rows: Computed['rows'], closed: number): void {
    const { intervalMs, smoothing, horizonsMs, scaleAheadMs } = this.options
    const seconds = intervalMs / 1000
    const states = {
      requests: holtSmooth(
        rows.map((row) => row.counts.requests),
        smoothing,
      ),
      calls: holtSmooth(
        rows.map((row) => row.counts.calls),
        smoothing,
      ),
      tokens: holtSmooth(
        rows.map((row) => row.counts.tokens),
        smoothing,
      ),
    }
    const ahead = (series: keyof typeof states, steps: number) => holtAhead(states[series], smoothing, steps) / seconds
    const forecast = horizonsMs.map((horizonMs) => {
      const steps = Math.max(1, Math.round(horizonMs / intervalMs))
      return {
        horizonSeconds: horizonMs / 1000,
        requestsPerSecond: ahead('requests', steps),
        callsPerSecond: ahead('calls', steps),
        tokensPerSecond: ahead('tokens', steps),
      }
    })
    // A damped trend moves one way: the highest forecast within the scale-ahead time is at one of its ends.
    const aheadSteps = Math.max(1, Math.ceil(scaleAheadMs / intervalMs))
    const peak = (series: keyof typeof states) => Math.max(ahead(series, 1), ahead(series, aheadSteps))
    const recent = rows.slice(-latencyIntervals)
    const ended = recent.reduce((sum, row) => sum + row.counts.callsEnded, 0)
    if (ended > 0) this.#latencySeconds = recent.reduce((sum, row) => sum + row.counts.callMs, 0) / ended / 1000
    const recommendation = recommend(
      { requestsPerSecond: peak('requests'), callsPerSecond: peak('calls'), upstreamLatencySeconds: this.#latencySeconds },
      this.options,
    )
    const last = rows.at(-1)!.counts
    const record = this.#record(closed)
    record.forecastRequestsPerSecond = forecast.map((entry) => entry.requestsPerSecond)
    record.forecastTokensPerSecond = forecast.map((entry) => entry.tokensPerSecond)
    record.recommendedConcurrency = recommendation.concurrency
    this.#computed = {
      atMs: this.#now(),
      scope,
      rows,
      observed: {
        requestsPerSecond: last.requests / seconds,
        callsPerSecond: last.calls / seconds,
        tokensPerSecond: last.tokens / seconds,
        upstreamLatencySeconds: this.#latencySeconds,
      },
      forecast,
      recommendation,
    }
  }
}
