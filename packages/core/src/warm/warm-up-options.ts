import { AiCacheError } from '../errors.js'
import { booleanOption, knownKeysOption, nonNegativeIntegerOption, objectOption, positiveIntegerOption } from '../option-checks.js'
import { namespacePattern } from '../request/directives.js'

/**
 * Warm-up from Redis (the engine's `warmUp` option). Every instance ranks
 * the keys it is asked for in Redis (a sorted set of counts per namespace);
 * an instance that starts fills its memory tier with the hottest entries of
 * its namespaces before `ready()` resolves. Needs `redis`. See docs/warm-up.md.
 */
export interface WarmUpOptions {
  /**
   * Fill the memory tier from Redis at start, before `ready()` resolves.
   * `false` still ranks keys (for instances that do warm up). @default true
   */
  onStart?: boolean
  /** Namespaces whose hottest entries are loaded at start. @default [the engine's `namespace`] */
  namespaces?: readonly string[]
  /** Most entries loaded at start, over all namespaces. @default 1000 */
  maxEntries?: number
  /** Most bytes of entries loaded at start (as the memory tier counts them). @default a quarter of `maxBytes` */
  maxBytes?: number
  /**
   * Longest wait (ms) for the warm-up before `ready()` resolves anyway
   * (Redis slow or down: the instance serves cold rather than never).
   * @default 10000
   */
  timeoutMs?: number
  /** How often (ms) the local counts go to Redis, in one pipeline per namespace. @default 5000 */
  flushIntervalMs?: number
  /** Distinct keys counted between two flushes; further new keys wait for the next interval. @default 10000 */
  maxTrackedKeys?: number
  /** Keys kept in each ranking set in Redis (the lowest counts are trimmed at each flush). @default 10000 */
  maxRankedKeys?: number
  /**
   * Length (ms) of one ranking period. Counts go to the current period's set;
   * the warm-up adds the last `periods` sets, each older one weighing half
   * as much as the next, so old popularity decays without anyone rewriting it.
   * @default 3600000 (one hour)
   */
  periodMs?: number
  /** How many periods the ranking looks back (each set expires after that many periods). @default 4 */
  periods?: number
}

/** {@link WarmUpOptions} after validation, with every default filled in. */
export interface ResolvedWarmUpOptions {
  readonly onStart: boolean
  readonly namespaces: readonly string[]
  readonly maxEntries: number
  readonly maxBytes: number
  readonly timeoutMs: number
  readonly flushIntervalMs: number
  readonly maxTrackedKeys: number
  readonly maxRankedKeys: number
  readonly periodMs: number
  readonly periods: number
}

const knownKeys = ['onStart', 'namespaces', 'maxEntries', 'maxBytes', 'timeoutMs', 'flushIntervalMs', 'maxTrackedKeys', 'maxRankedKeys', 'periodMs', 'periods']

/** What the defaults depend on: the engine's own options. */
export interface WarmUpDefaults {
  namespace: string
  maxBytes: number
  hasRedis: boolean
}

/**
 * Validates `warmUp` (`true` for the defaults; `false` or unset: off).
 * Throws `invalid_option` naming the field; `warmUp` without `redis` is refused
 * (there would be nothing to rank in or warm from).
 */
export function resolveWarmUpOptions(value: unknown, defaults: WarmUpDefaults): ResolvedWarmUpOptions | undefined {
  if (value === undefined || value === false) return undefined
  if (!defaults.hasRedis) {
    throw new AiCacheError('invalid_option', "Option 'warmUp' needs 'redis': the ranking of hot keys and the entries it loads are kept there.", {
      param: 'warmUp',
    })
  }
  const options = value === true ? {} : objectOption('warmUp', value)
  knownKeysOption('warmUp', options, knownKeys)
  return Object.freeze({
    onStart: booleanOption('warmUp.onStart', options['onStart'], true),
    namespaces: namespacesOption(options['namespaces'], defaults.namespace),
    maxEntries: nonNegativeIntegerOption('warmUp.maxEntries', options['maxEntries'], 1000),
    maxBytes: nonNegativeIntegerOption('warmUp.maxBytes', options['maxBytes'], Math.floor(defaults.maxBytes / 4)),
    timeoutMs: positiveIntegerOption('warmUp.timeoutMs', options['timeoutMs'], 10_000),
    flushIntervalMs: positiveIntegerOption('warmUp.flushIntervalMs', options['flushIntervalMs'], 5_000),
    maxTrackedKeys: positiveIntegerOption('warmUp.maxTrackedKeys', options['maxTrackedKeys'], 10_000),
    maxRankedKeys: positiveIntegerOption('warmUp.maxRankedKeys', options['maxRankedKeys'], 10_000),
    periodMs: positiveIntegerOption('warmUp.periodMs', options['periodMs'], 3_600_000),
    periods: positiveIntegerOption('warmUp.periods', options['periods'], 4),
  })
}

function namespacesOption(value: unknown, fallback: string): readonly string[] {
  if (value === undefined) return Object.freeze([fallback])
  if (!Array.isArray(value) || value.some((namespace) => typeof namespace !== 'string' || !namespacePattern.test(namespace))) {
    throw new AiCacheError('invalid_option', "Option 'warmUp.namespaces' must be a list of namespaces (1 to 128 letters, digits, '.', '_', ':' or '-')", {
      param: 'warmUp.namespaces',
    })
  }
  return Object.freeze([...new Set(value as string[])])
}
