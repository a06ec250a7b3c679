import type { Attributes } from '@opentelemetry/api'
import { Counts } from '../telemetry/counts.js'

const slotMs = 10_000
const slotCount = 6

/** Totals of the last minute by series, in six ten-second slots. */
export class MinuteTotals {
  readonly #series = new Map<string, { attributes: Attributes; slots: number[]; epochs: number[] }>()
  readonly #limit: number

  constructor(limit = 1_000) {
    this.#limit = limit
  }

  add(key: string, value: number, attributes: () => Attributes, nowMs: number): void {
    let series = this.#series.get(key)
    if (series === undefined) {
      if (this.#series.size >= this.#limit) return
      series = { attributes: Object.freeze(attributes()), slots: new Array<number>(slotCount).fill(0), epochs: new Array<number>(slotCount).fill(-1) }
      this.#series.set(key, series)
    }
    const epoch = Math.floor(nowMs / slotMs)
    const index = epoch % slotCount
    if (series.epochs[index] !== epoch) {
      series.epochs[index] = epoch
      series.slots[index] = 0
    }
    series.slots[index]! += value
  }

  /** Each series' total over the last minute (the current slot and the five before it). */
  *entries(nowMs: number): Iterable<{ key: string; attributes: Attributes; value: number }> {
    const oldest = Math.floor(nowMs / slotMs) - slotCount + 1
    for (const [key, series] of this.#series) {
      let value = 0
      for (let index = 0; index < slotCount; index++) if (series.epochs[index]! >= oldest) value += series.slots[index]!
      yield { key, attributes: series.attributes, value }
    }
  }
}

/** Totals a {@link CapacityMonitor} turns into per-interval counts: it reads them at each interval's end. */
export interface SignalTotals {
  requests: number
  calls: number
  tokens: number
  callsEnded: number
  callMs: number
}

/**
 * What the engine's load looks like as it happens: requests and upstream
 * calls begun and in flight, upstream time and tokens. Updated by the
 * request and upstream observations (`telemetry.ts`); a request costs two
 * increments and a decrement, nothing more. Read by the capacity gauges and
 * the load forecast.
 */
export class LoadSignals {
  /** Requests begun so far. */
  requests = 0
  /** Requests begun and not yet answered. */
  requestsInFlight = 0
  /** Upstream calls begun so far. */
  calls = 0
  /** Upstream calls ended so far, their time in milliseconds and their tokens (input + output). */
  callsEnded = 0
  callMs = 0
  tokens = 0
  /** Upstream calls in flight now, and the most since {@link takePeak} last read it. */
  callsInFlight = 0
  #peakCallsInFlight = 0
  /** Upstream calls in flight by operation and model (a gauge: +1, then -1). */
  readonly upstreamInFlight = new Counts()
  /** Upstream tokens of the last minute by operation and model. */
  readonly tokensPerMinute = new MinuteTotals()

  /** A request began. */
  requestStarted(): void {
    this.requests++
    this.requestsInFlight++
  }

  /** A request was answered. */
  requestEnded(): void {
    this.requestsInFlight--
  }

  /** An upstream call began; `series` names its operation and model. */
  callStarted(series: string, attributes: () => Attributes): void {
    this.calls++
    this.callsInFlight++
    if (this.callsInFlight > this.#peakCallsInFlight) this.#peakCallsInFlight = this.callsInFlight
    this.upstreamInFlight.add(series, 1, attributes)
  }

  /** An upstream call ended after `durationMs`, having spent `tokens`. */
  callEnded(series: string, attributes: () => Attributes, durationMs: number, tokens: number): void {
    this.callsInFlight--
    this.callsEnded++
    this.callMs += durationMs
    this.tokens += tokens
    this.upstreamInFlight.add(series, -1, attributes)
    if (tokens > 0) this.tokensPerMinute.add(series, tokens, attributes, Date.now())
  }

  /** The most upstream calls in flight at once since the last call, which starts the next count from now. */
  takePeak(): number {
    const peak = this.#peakCallsInFlight
    this.#peakCallsInFlight = this.callsInFlight
    return peak
  }

  totals(): SignalTotals {
    return { requests: this.requests, calls: this.calls, tokens: this.tokens, callsEnded: this.callsEnded, callMs: this.callMs }
  }
}
