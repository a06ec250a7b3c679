import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import type { ApiFormat } from '../formats/format.js'
import type { CacheEntry } from '../store/entry.js'
import type { Telemetry } from '../telemetry/telemetry.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { captureHandler } from './capture.js'
import { feedFromClaim, followProduction } from './follow.js'
import { withHeaders } from './outcomes.js'
import type { PreparedRequest } from './prepare.js'
import { keeperOf, type Miss, type Producer } from './producer.js'
import type { PumpJob } from './pump.js'
import type { StatsRecorder } from './stats.js'

/** What {@link HandlerProducer} is made with. */
export interface HandlerProducerOptions {
  tiers: TieredCache
  /** Past this size a handler's answer could not be kept anyway. */
  maxBytes: number
  /** Prices a handler's answer by its model and usage, as far as it told them. */
  telemetry: Pick<Telemetry, 'priceOf' | 'providerOf'>
  /** Where what it cost, and what the provider's prompt cache served, is counted. */
  stats: Pick<StatsRecorder, 'spent' | 'providerCached'>
}

/**
 * Wrap mode: a miss is answered by the app's own handler, whose answer is
 * captured ({@link captureHandler}) for the requests following it and for
 * the tiers. Unless another instance's handler answered it meanwhile
 * (cross-instance single-flight, waited for before the handler runs).
 */
export class HandlerProducer implements Producer {
  readonly stopsWhenAbandoned = false
  readonly #tiers: TieredCache
  readonly #maxBytes: number
  /** A handler's answer to a request of a format was stored (or not): what it cost is counted. */
  readonly #onStored: (entry: CacheEntry | undefined, format: ApiFormat | undefined) => void
  readonly #keep: PumpJob['keep']

  constructor(options: HandlerProducerOptions) {
    this.#tiers = options.tiers
    this.#maxBytes = options.maxBytes
    const { telemetry, stats } = options
    this.#onStored = (entry, format) => {
      const usage = entry?.usage
      const costUsd = entry && telemetry.priceOf(telemetry.providerOf(format), entry.model, usage)
      if (costUsd !== undefined) stats.spent(costUsd)
      if (usage?.cacheReadTokens !== undefined || usage?.cacheWriteTokens !== undefined) {
        stats.providerCached(usage.cacheReadTokens ?? 0, usage.cacheWriteTokens ?? 0)
      }
    }
    this.#keep = keeperOf(options.tiers)
  }

  async produce(miss: Miss): Promise<Outcome> {
    const { prepared, observation, production, plan, reason } = miss
    const claim = plan ? await this.#tiers.claim(plan.key) : {}
    if (claim.entry !== undefined || claim.failure !== undefined) {
      // Another instance's handler answered meanwhile.
      observation.result = 'coalesced'
      feedFromClaim(production, claim)
      const followed = await followProduction(prepared, production, { reason, collapsed: true })
      return observation.settle(withHeaders(followed, miss.rateLimitHeaders))
    }
    const captured = captureHandler({
      prepared,
      production,
      plan,
      reason,
      lock: claim.lock,
      maxBytes: this.#maxBytes,
      keep: this.#keep,
      onStored: (entry) => this.#onStored(entry, prepared.format),
    })
    return observation.settle(withHeaders(captured, miss.rateLimitHeaders), production.result())
  }

  async bypass(_request: ExchangeRequest, prepared: PreparedRequest): Promise<Outcome> {
    return { type: 'next', body: prepared.body(), headers: { 'cache-status': 'aicache; fwd=request; detail=no-store' } }
  }
}
