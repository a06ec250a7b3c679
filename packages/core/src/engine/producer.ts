import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import { Production } from '../flight/production.js'
import type { Flight, SingleFlight } from '../flight/single-flight.js'
import type { Admission } from '../limits/rate-limiter.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import type { Rescue } from '../freshness/stale-answer.js'
import type { LockHandle } from '../store/redis-layer.js'
import type { UpstreamObservation, UpstreamTarget } from '../telemetry/telemetry.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import type { ForwardReason } from './cache-status.js'
import type { PreparedRequest } from './prepare.js'
import type { PumpJob } from './pump.js'
import type { StorePlan } from './recording.js'

/** One miss to be produced, as the engine hands it to the {@link Producer}. */
export interface Miss {
  request: ExchangeRequest
  prepared: PreparedRequest
  observation: RequestObservation
  /** Why there was no hit (`Cache-Status: fwd=`). */
  reason: ForwardReason
  /** Where the answer goes; requests that coalesce on this miss follow it. */
  production: Production
  /** Aborted when every request following the production has gone. */
  signal: AbortSignal
  /** Where and how long to store the answer; `undefined` when it is not stored (a TTL of 0). */
  plan: StorePlan | undefined
  /** The rate limit's headers for this request's answer. */
  rateLimitHeaders: Readonly<Record<string, string>> | undefined
  /** stale-if-error: answers from a stale entry if the upstream fails (freshness/). */
  rescue?: Rescue | undefined
}

/** A background refresh of a stored answer (freshness/): the call made under `lock`, by the request that found it stale or hot. */
export interface Refresh {
  request: ExchangeRequest
  prepared: PreparedRequest
  /** Where the new answer is stored, if it is storable. */
  plan: StorePlan
  /** The key's cross-instance lock, held (or a stand-in) for the refresh. */
  lock: LockHandle
  /** Aborted when the engine closes. */
  signal: AbortSignal
  /** Starts the GenAI observation of the call. */
  startCall: (target: UpstreamTarget) => UpstreamObservation
}

/**
 * Where the answer of a miss comes from: the upstream (proxy and client
 * mode, `UpstreamProducer` over `pumpUpstream`) or the app's own handler
 * (wrap mode, `HandlerProducer` over `captureHandler`). The engine knows
 * only this interface; each producer decides how it claims the call across
 * instances, records and stores the answer, and answers its own request.
 */
export interface Producer {
  /**
   * Whether a production stops once every request following it has gone:
   * an upstream call is aborted then; the app's handler answers its own
   * request and runs on.
   */
  readonly stopsWhenAbandoned: boolean
  /** Produces the miss's answer into `miss.production` and answers this request from it (its observation settled). */
  produce(miss: Miss): Promise<Outcome>
  /** `Cache-Control: no-store`: the answer, passed on unread; neither looked up nor stored. */
  bypass(request: ExchangeRequest, prepared: PreparedRequest): Promise<Outcome>
  /**
   * Makes the call again in the background and stores its answer if it is
   * storable (stale-while-revalidate, refresh-ahead); resolves with whether
   * it was. Only producers that can call without a waiting request have it
   * (the upstream, not a wrapped handler).
   */
  refresh?(refresh: Refresh): Promise<{ stored: boolean }>
}

const nothingStored: Promise<void> = Promise.resolve()

/** How a producer stores an answer: in the tiers, when there is a plan and an entry. */
export function keeperOf(tiers: TieredCache): PumpJob['keep'] {
  return (plan, entry, counted) => (plan === undefined || entry === undefined ? nothingStored : tiers.keep(plan.key, entry, counted, plan.graceMs))
}

/**
 * Starts the production of a miss on `key`, where identical requests find
 * it until it ends; when it does, the rate limit is settled with what it
 * spent (its usage, else the estimate; nothing if it failed).
 */
export function startProduction(flights: SingleFlight<Production>, key: string, admission: Admission | undefined, estimatedTokens: number): Flight<Production> {
  const production = new Production()
  const flight = flights.start(key, production)
  const finish = () => flight.finish()
  production.result().then(finish, finish)
  if (admission) {
    production.result().then(
      (result) => admission.settle(result.usage ? result.usage.inputTokens + result.usage.outputTokens : estimatedTokens),
      () => admission.settle(0),
    )
  }
  return flight
}
