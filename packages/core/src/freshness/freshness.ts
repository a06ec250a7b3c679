import { ROOT_CONTEXT } from '@opentelemetry/api'
import type { Tier } from '../engine/cache-status.js'
import type { Refresh } from '../engine/producer.js'
import type { Serving } from '../engine/serving.js'
import type { Outcome } from '../exchange/types.js'
import type { ResolvedAiCacheOptions } from '../options.js'
import type { CacheEntry } from '../store/entry.js'
import type { RefreshReason } from '../telemetry/names.js'
import { type Telemetry, UpstreamObservation } from '../telemetry/telemetry.js'
import type { TieredCache } from '../tiers/tiered-cache.js'
import { hitsPerMinute } from './entry-hits.js'
import type { ResolvedFreshnessOptions } from './freshness-options.js'
import { observeStale, type Rescue, staleOutcome } from './stale-answer.js'
import { type StalePolicy, type StaleUse, stalePolicyOf, staleUseOf } from './stale-policy.js'

/** What {@link Freshness} works with. */
export interface FreshnessSetup {
  options: ResolvedAiCacheOptions
  tiers: TieredCache
  telemetry: Telemetry
  /** Whether the upstream's circuit is open now (no refresh-ahead then). */
  upstreamOpen: () => boolean
}

// A refresh of one entry that failed is not tried again for this long (the stale answers go on meanwhile).
const retryRefreshAfterMs = 1_000

/**
 * Stale answers and background refreshes (RFC 5861, bentocache's grace
 * periods and early refresh): which expired entries may answer a request,
 * the answer itself, and the refreshes, made once per key across every
 * instance (the key's cross-instance lock) and at most
 * `maxConcurrentRefreshes` at once here. docs/freshness.md.
 */
export class Freshness {
  readonly #options: ResolvedAiCacheOptions
  readonly #freshness: ResolvedFreshnessOptions
  readonly #tiers: TieredCache
  readonly #telemetry: Telemetry
  readonly #upstreamOpen: () => boolean
  /** Keys this process is refreshing now. */
  readonly #refreshing = new Set<string>()
  /** When a refresh of an entry was last tried. */
  readonly #triedAt = new WeakMap<CacheEntry, number>()
  readonly #closing = new AbortController()
  /** The refresh-ahead options; `undefined` when it is off (the hit path then checks nothing more). */
  readonly refreshAhead: ResolvedFreshnessOptions['refreshAhead']

  constructor(setup: FreshnessSetup) {
    this.#options = setup.options
    this.#freshness = setup.options.freshness
    this.#tiers = setup.tiers
    this.#telemetry = setup.telemetry
    this.#upstreamOpen = setup.upstreamOpen
    this.refreshAhead = this.#freshness.refreshAhead
  }

  /** The stale windows of a request. */
  policyOf(serving: Serving): StalePolicy {
    return stalePolicyOf(this.#freshness, serving.request.route, serving.directives)
  }

  /** How long an answer stored for this request is kept past its freshness (nothing where it could never be served stale). */
  graceOf(serving: Serving): number {
    return serving.producer.refresh === undefined ? 0 : this.policyOf(serving).graceMs
  }

  /** What an expired entry can do for this request; nothing where no background call can be made (a wrapped handler). */
  useOf(serving: Serving, entry: CacheEntry, nowMs: number): StaleUse {
    if (serving.producer.refresh === undefined) return undefined
    return staleUseOf(this.policyOf(serving), entry, nowMs)
  }

  /** stale-while-revalidate: the stale answer now (recorded on the request), or `undefined` when it cannot be shown as asked. */
  answerRevalidating(serving: Serving, entry: CacheEntry, tier: Tier): Outcome | undefined {
    const outcome = staleOutcome(entry, serving.prepared, tier, 'revalidate', this.#options.replayPacing)
    if (outcome !== undefined) observeStale(serving.observation, entry, tier, 'revalidate')
    return outcome
  }

  /** stale-if-error: what answers this request from `entry` if its upstream call fails. */
  rescueOf(serving: Serving, entry: CacheEntry, tier: Tier): Rescue {
    return () => {
      const outcome = staleOutcome(entry, serving.prepared, tier, 'error', this.#options.replayPacing)
      if (outcome !== undefined) observeStale(serving.observation, entry, tier, 'error')
      return outcome
    }
  }

  /**
   * Refresh-ahead: a fresh entry that is hot (`minHitsPerMinute`) and
   * within `leadMs` of its expiry is refreshed in the background. Nothing
   * while the upstream's circuit is open; an entry hit rarely is left to expire.
   */
  refreshIfHot(serving: Serving, key: string, entry: CacheEntry, nowMs: number): void {
    const refreshAhead = this.refreshAhead
    if (refreshAhead === undefined || entry.createdAt + entry.ttlMs - nowMs > refreshAhead.leadMs) return
    if (hitsPerMinute(entry, nowMs) < refreshAhead.minHitsPerMinute || this.#upstreamOpen()) return
    this.refresh(serving, key, entry, 'ahead')
  }

  /**
   * Refreshes `entry` in the background with the request that found it
   * stale or hot, unless this process is refreshing the key already, is at
   * its limit of refreshes, tried this entry a moment ago, or another
   * instance holds the key's lock (refreshing it, or producing it for a miss).
   */
  refresh(serving: Serving, key: string, entry: CacheEntry, reason: RefreshReason): void {
    const producer = serving.producer
    if (producer.refresh === undefined || this.#closing.signal.aborted) return
    if (this.#refreshing.has(key) || this.#refreshing.size >= this.#freshness.maxConcurrentRefreshes) return
    const nowMs = Date.now()
    const triedAt = this.#triedAt.get(entry)
    if (triedAt !== undefined && nowMs - triedAt < retryRefreshAfterMs) return
    this.#triedAt.set(entry, nowMs)
    this.#refreshing.add(key)
    const refresh = (job: Refresh) => producer.refresh!(job)
    void this.#refresh(serving, key, entry, reason, refresh)
      .catch(() => this.#telemetry.refreshed(reason, 'failed'))
      .finally(() => this.#refreshing.delete(key))
  }

  /** Stops refreshes under way (their upstream calls are aborted). */
  close(): void {
    this.#closing.abort()
  }

  async #refresh(
    serving: Serving,
    key: string,
    entry: CacheEntry,
    reason: RefreshReason,
    refresh: (job: Refresh) => Promise<{ stored: boolean }>,
  ): Promise<void> {
    const lock = await this.#tiers.lockForRefresh(key)
    // Another instance is making this call: it stores the answer for everyone.
    if (lock === undefined) return
    const graceMs = this.graceOf(serving)
    if (lock.held) {
      // Someone may have refreshed it between our lookup and the lock.
      const current = await this.#tiers.remoteFresh(key)
      if (current !== undefined && current.createdAt > entry.createdAt) {
        await lock.release()
        this.#tiers.promote(key, current, Date.now(), graceMs)
        return
      }
    }
    const { request, prepared, directives } = serving
    const plan = {
      key,
      ttlMs: directives.ttlMs ?? this.#options.ttlMs,
      format: prepared.format,
      model: prepared.model,
      requestBody: () => prepared.body(),
      graceMs,
    }
    const { stored } = await refresh({
      request,
      prepared,
      plan,
      lock,
      signal: this.#closing.signal,
      // Its own trace: the request that triggered it was answered already.
      startCall: (target) => new UpstreamObservation(this.#telemetry, target, ROOT_CONTEXT),
    })
    this.#telemetry.refreshed(reason, stored ? 'stored' : 'failed')
  }
}
