/** What a recommendation is computed from. */
export interface RecommendationInput {
  /** Highest forecast request rate over the scale-ahead horizon, requests per second (fleet). */
  requestsPerSecond: number
  /** Highest forecast rate of upstream calls over the same horizon, calls per second (fleet). */
  callsPerSecond: number
  /** Mean upstream call duration lately, seconds; `undefined` before any call. */
  upstreamLatencySeconds: number | undefined
}

/** The target a recommendation sizes for (resolved `capacity` options). */
export interface RecommendationTarget {
  targetUtilisation: number
  minInstances: number
  maxInstances: number
  /** Requests per second one instance serves at full load; `undefined`: not a limit. */
  instanceRequestsPerSecond: number | undefined
  /** Upstream calls one instance keeps in flight (its concurrency cap). */
  instanceConcurrency: number
}

/** Instances and upstream concurrency for the forecast load. */
export interface Recommendation {
  /** Instances to run, within `minInstances`..`maxInstances`. */
  instances: number
  /** Upstream calls in flight the fleet needs at the target utilisation (Little's law). */
  concurrency: number
  /** `concurrency` shared by `instances`: the concurrency cap each instance needs. */
  concurrencyPerInstance: number
  /** Calls in flight the forecast load keeps busy, before the utilisation headroom: rate × latency. */
  busyConcurrency: number
}

/**
 * Sizes the fleet for a forecast load. Little's law gives the upstream calls
 * in flight: L = λ·W (call rate × mean call duration); dividing by the
 * target utilisation leaves headroom for bursts within an interval. The
 * instances are the most of what the concurrency and (when configured) the
 * request rate need, within the bounds.
 */
export function recommend(input: RecommendationInput, target: RecommendationTarget): Recommendation {
  const busyConcurrency = input.callsPerSecond * (input.upstreamLatencySeconds ?? 0)
  const concurrency = Math.max(1, Math.ceil(busyConcurrency / target.targetUtilisation))
  const byConcurrency = Math.ceil(concurrency / target.instanceConcurrency)
  const byRate =
    target.instanceRequestsPerSecond === undefined ? 0 : Math.ceil(input.requestsPerSecond / (target.instanceRequestsPerSecond * target.targetUtilisation))
  const instances = Math.min(target.maxInstances, Math.max(target.minInstances, byConcurrency, byRate))
  return { instances, concurrency, concurrencyPerInstance: Math.ceil(concurrency / instances), busyConcurrency }
}
