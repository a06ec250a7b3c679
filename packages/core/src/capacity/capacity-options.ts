import { AiCacheError } from '../errors.js'
import { booleanOption, knownKeysOption, objectOption, positiveIntegerOption, positiveNumberOption } from '../option-checks.js'
import { defaultHoltParameters, type HoltParameters } from './holt.js'

/**
 * The load forecast and the sizing recommendation; `capacity` in
 * `AiCacheOptions`. Off by default. docs/capacity.md explains each field.
 *
 * @example
 * ```ts
 * createAiCache({ upstream, redis, capacity: { targetUtilisation: 0.7, minInstances: 2, maxInstances: 20 } })
 * ```
 */
export interface CapacityOptions {
  /** Length of one counting interval; the forecast steps by it. @default 15_000 */
  intervalMs?: number
  /** How far ahead the forecast is reported (`aicache.capacity.horizon`, seconds). @default [60_000, 300_000] */
  horizonsMs?: readonly number[]
  /** The recommendation sizes for the highest forecast within this time: how long new instances take to be useful. @default 300_000 */
  scaleAheadMs?: number
  /** Intervals of history the forecast is computed over (and `GET /aicache/capacity` lists). @default 240 (an hour of 15 s) */
  historyIntervals?: number
  /** Holt's smoothing factors. @default { alpha: 0.5, beta: 0.1, damping: 0.8 } */
  smoothing?: Partial<HoltParameters>
  /** Share of capacity the recommendation plans to use, in (0, 1]; the rest absorbs bursts. @default 0.7 */
  targetUtilisation?: number
  /** @default 1 */
  minInstances?: number
  /** @default 100 */
  maxInstances?: number
  /** Requests per second one instance serves at full load; unset, the request rate does not bound instances. @default undefined */
  instanceRequestsPerSecond?: number
  /** Upstream calls one instance keeps in flight. @default `concurrency.maxConcurrent` (256), else 256 */
  instanceConcurrency?: number
  /** With Redis, count and forecast the whole fleet (every instance with the same Redis prefix). @default true */
  fleet?: boolean
  /** With Redis, how long after an interval ends the fleet's counts are read, so every instance has added its own. @default min(1_000, intervalMs / 4) */
  settleMs?: number
}

/** {@link CapacityOptions} validated, every default filled in. */
export interface ResolvedCapacityOptions {
  readonly intervalMs: number
  readonly horizonsMs: readonly number[]
  readonly scaleAheadMs: number
  readonly historyIntervals: number
  readonly smoothing: Readonly<HoltParameters>
  readonly targetUtilisation: number
  readonly minInstances: number
  readonly maxInstances: number
  readonly instanceRequestsPerSecond: number | undefined
  readonly instanceConcurrency: number
  readonly fleet: boolean
  readonly settleMs: number
}

const known = [
  'intervalMs',
  'horizonsMs',
  'scaleAheadMs',
  'historyIntervals',
  'smoothing',
  'targetUtilisation',
  'minInstances',
  'maxInstances',
  'instanceRequestsPerSecond',
  'instanceConcurrency',
  'fleet',
  'settleMs',
]

function fraction(name: string, value: unknown, fallback: number, allowZero: boolean): number {
  if (value === undefined) return fallback
  if (typeof value !== 'number' || !Number.isFinite(value) || value > 1 || value < 0 || (!allowZero && value === 0)) {
    throw new AiCacheError('invalid_option', `Option '${name}' must be a number in ${allowZero ? '[0, 1]' : '(0, 1]'}, got ${String(value)}`, { param: name })
  }
  return value
}

function smoothingOption(value: unknown): Readonly<HoltParameters> {
  const smoothing = objectOption('capacity.smoothing', value)
  knownKeysOption('capacity.smoothing', smoothing, ['alpha', 'beta', 'damping'])
  return Object.freeze({
    alpha: fraction('capacity.smoothing.alpha', smoothing['alpha'], defaultHoltParameters.alpha, false),
    beta: fraction('capacity.smoothing.beta', smoothing['beta'], defaultHoltParameters.beta, true),
    damping: fraction('capacity.smoothing.damping', smoothing['damping'], defaultHoltParameters.damping, false),
  })
}

/**
 * Validates `capacity`; `undefined` (the default) or `false` turns it off.
 * `maxConcurrent` is the concurrency cap, the default per-instance concurrency.
 */
export function resolveCapacityOptions(value: CapacityOptions | boolean | undefined, maxConcurrent: number | undefined): ResolvedCapacityOptions | undefined {
  if (value === undefined || value === false) return undefined
  const options = objectOption('capacity', value === true ? {} : value)
  knownKeysOption('capacity', options, known)
  const intervalMs = positiveIntegerOption('capacity.intervalMs', options['intervalMs'], 15_000)
  if (intervalMs < 50)
    throw new AiCacheError('invalid_option', `Option 'capacity.intervalMs' must be at least 50, got ${intervalMs}`, { param: 'capacity.intervalMs' })
  const horizons = options['horizonsMs'] ?? [60_000, 300_000]
  if (!Array.isArray(horizons) || horizons.length === 0) {
    throw new AiCacheError('invalid_option', `Option 'capacity.horizonsMs' must be a non-empty array of durations`, { param: 'capacity.horizonsMs' })
  }
  const horizonsMs = Object.freeze(horizons.map((horizon, index) => positiveIntegerOption(`capacity.horizonsMs[${index}]`, horizon, 60_000)))
  const minInstances = positiveIntegerOption('capacity.minInstances', options['minInstances'], 1)
  const maxInstances = positiveIntegerOption('capacity.maxInstances', options['maxInstances'], 100)
  if (maxInstances < minInstances) {
    throw new AiCacheError('invalid_option', `Option 'capacity.maxInstances' (${maxInstances}) is below 'capacity.minInstances' (${minInstances})`, {
      param: 'capacity.maxInstances',
    })
  }
  return Object.freeze({
    intervalMs,
    horizonsMs,
    scaleAheadMs: positiveIntegerOption('capacity.scaleAheadMs', options['scaleAheadMs'], 300_000),
    historyIntervals: positiveIntegerOption('capacity.historyIntervals', options['historyIntervals'], 240),
    smoothing: smoothingOption(options['smoothing']),
    targetUtilisation: fraction('capacity.targetUtilisation', options['targetUtilisation'], 0.7, false),
    minInstances,
    maxInstances,
    instanceRequestsPerSecond: positiveNumberOption('capacity.instanceRequestsPerSecond', options['instanceRequestsPerSecond'], undefined),
    instanceConcurrency: positiveIntegerOption('capacity.instanceConcurrency', options['instanceConcurrency'], maxConcurrent ?? 256),
    fleet: booleanOption('capacity.fleet', options['fleet'], true),
    settleMs: positiveIntegerOption('capacity.settleMs', options['settleMs'], Math.max(1, Math.min(1_000, Math.floor(intervalMs / 4)))),
  })
}
