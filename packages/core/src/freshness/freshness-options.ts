import { knownKeysOption, nonNegativeIntegerOption, objectOption, positiveIntegerOption, positiveNumberOption } from '../option-checks.js'

/**
 * Refresh-ahead: an entry hit often is refreshed shortly before it expires,
 * so a hot key never turns into a burst of misses (docs/freshness.md).
 */
export interface RefreshAheadOptions {
  /**
   * Hits a minute (in this process, over about the last minute) from which
   * an entry counts as hot. @default 60
   */
  minHitsPerMinute?: number
  /** How long before its expiry a hot entry is refreshed, in ms. @default 30_000 */
  leadMs?: number
  /**
   * Refreshes (of every kind) made at once by this process at most; a
   * refresh-ahead beyond it is skipped, not queued. @default 4
   */
  maxConcurrent?: number
}

/** Freshness options of the engine, all off by default. */
export interface FreshnessOptions {
  /**
   * How long (ms) after its expiry an entry may still answer when the
   * upstream fails (5xx, timeout, connection error, open circuit, a 429
   * after retries): RFC 5861's stale-if-error. 0 turns it off.
   * @default 0 (recommended: 86_400_000, a day)
   */
  staleIfErrorMs?: number
  /**
   * How long (ms) after its expiry an entry is answered at once while one
   * background call refreshes it: RFC 5861's stale-while-revalidate. 0
   * turns it off. @default 0 (recommended: 60_000 to 300_000)
   */
  staleWhileRevalidateMs?: number
  /** Refresh hot entries before they expire. @default false (recommended: `{ minHitsPerMinute: 60, leadMs: 30_000 }`) */
  refreshAhead?: RefreshAheadOptions | false
}

/** {@link FreshnessOptions} validated and complete. */
export interface ResolvedFreshnessOptions {
  readonly staleIfErrorMs: number
  readonly staleWhileRevalidateMs: number
  readonly refreshAhead: Readonly<Required<RefreshAheadOptions>> | undefined
  /** Background refreshes at once at most (`refreshAhead.maxConcurrent`, else 4). */
  readonly maxConcurrentRefreshes: number
}

const defaultMaxConcurrent = 4

/** Validates the freshness options (names in messages as `refreshAhead.leadMs`). */
export function resolveFreshnessOptions(options: FreshnessOptions): ResolvedFreshnessOptions {
  const refreshAhead = resolveRefreshAhead(options.refreshAhead)
  return Object.freeze({
    staleIfErrorMs: nonNegativeIntegerOption('staleIfErrorMs', options.staleIfErrorMs, 0),
    staleWhileRevalidateMs: nonNegativeIntegerOption('staleWhileRevalidateMs', options.staleWhileRevalidateMs, 0),
    refreshAhead,
    maxConcurrentRefreshes: refreshAhead?.maxConcurrent ?? defaultMaxConcurrent,
  })
}

function resolveRefreshAhead(value: RefreshAheadOptions | false | undefined): Readonly<Required<RefreshAheadOptions>> | undefined {
  if (value === undefined || value === false) return undefined
  const options = objectOption('refreshAhead', value)
  knownKeysOption('refreshAhead', options, ['minHitsPerMinute', 'leadMs', 'maxConcurrent'])
  return Object.freeze({
    minHitsPerMinute: positiveNumberOption('refreshAhead.minHitsPerMinute', options['minHitsPerMinute'], 60),
    leadMs: positiveIntegerOption('refreshAhead.leadMs', options['leadMs'], 30_000),
    maxConcurrent: positiveIntegerOption('refreshAhead.maxConcurrent', options['maxConcurrent'], defaultMaxConcurrent),
  })
}
