import { AiCacheError } from '../errors.js'
import { knownKeysOption } from '../option-checks.js'
import type { BreakerState } from './guarded-remote.js'
import type { RedisConnection } from './redis-client.js'

/** Options of {@link createRedisLayer}. */
export interface RedisLayerOptions {
  /** A URL (`redis://`, `rediss://`), or an ioredis `Redis` or `Cluster` client (owned and closed by the caller). */
  redis: RedisConnection
  /** Start of every key and channel name; must not contain `{` or `}`. @default 'aicache' */
  prefix?: string
  /** Deadline of every Redis call (ms); a slower answer is a miss or a dropped write. @default 100 */
  timeoutMs?: number
  /** Entries larger than this (bytes, encoded) are brotli-compressed. @default 4096 */
  compressAboveBytes?: number
  /** Cap of an entry's TTL in Redis (ms); by default an entry lives as long as it is fresh. */
  maxTtlMs?: number
  /** Expiry of a single-flight lock whose holder never releases it (ms). @default 30000 */
  lockTtlMs?: number
  /** Consecutive failed calls that open the circuit breaker. @default 5 */
  failureThreshold?: number
  /** How long the open breaker waits before one probe call (ms). @default 1000 */
  coolDownMs?: number
  /**
   * Namespaces never invalidated whose generation an instance remembers,
   * least recently used out first (a forgotten one is read from Redis again
   * when next used). Bounds what callers can make an instance hold with
   * `x-aicache-namespace`, and what a reconnect re-reads. @default 1000
   */
  maxNamespaces?: number
  /**
   * Longest time (ms) an entry stays in this instance's memory tier once
   * read from Redis or stored here; after that it is read from Redis again.
   * Bounds how long an instance that cannot hear invalidations (Redis down)
   * serves entries invalidated elsewhere. By default an entry stays in memory
   * as long as it is fresh.
   */
  localTtlMs?: number
  /** Called once per breaker state change (not per failed call), with the error that opened it. */
  onStateChange?: (state: BreakerState, error?: unknown) => void
}

/** {@link RedisLayerOptions} validated and complete. */
export type ResolvedRedisLayerOptions = Readonly<
  Required<Omit<RedisLayerOptions, 'maxTtlMs' | 'localTtlMs' | 'onStateChange'>> &
    Pick<RedisLayerOptions, 'maxTtlMs' | 'localTtlMs' | 'onStateChange'>
>

type Unit = 'milliseconds' | 'bytes' | 'failures' | 'namespaces'

const knownOptions: readonly string[] = [
  'redis',
  'prefix',
  'timeoutMs',
  'compressAboveBytes',
  'maxTtlMs',
  'lockTtlMs',
  'failureThreshold',
  'coolDownMs',
  'maxNamespaces',
  'localTtlMs',
  'onStateChange',
]

function invalid(param: string, expected: string): AiCacheError {
  return new AiCacheError('invalid_option', `Invalid '${param}': expected ${expected}`, { param })
}

function positive(value: number | undefined, param: string, unit: Unit): number | undefined {
  if (value === undefined) return undefined
  // Only a byte threshold may be 0 (compress everything); a 0 deadline or TTL would disable the layer.
  const least = unit === 'bytes' ? 0 : Number.MIN_VALUE
  if (typeof value !== 'number' || !Number.isFinite(value) || value < least) {
    throw invalid(param, unit === 'bytes' ? 'a non-negative number of bytes' : `a positive number of ${unit}`)
  }
  return value
}

function connection(value: unknown, param: string): RedisConnection {
  if (typeof value === 'string') {
    if (/^rediss?:\/\//.test(value)) return value
    throw invalid(param, 'a redis:// or rediss:// URL')
  }
  const client = value as { isCluster?: unknown; getBuffer?: unknown } | null
  const looksLikeIoredis = typeof client?.isCluster === 'boolean' && typeof client.getBuffer === 'function'
  if (typeof client === 'object' && looksLikeIoredis) return value as RedisConnection
  throw invalid(param, 'a URL or an ioredis Redis or Cluster client')
}

/**
 * Validates the options once, at start-up: a bad or unknown one throws an
 * {@link AiCacheError} (`invalid_option`) naming it, under `path` when given
 * (`redis.timeoutMs` for the engine's `redis` option). Returns a frozen copy;
 * the caller's object is never changed.
 */
export function resolveRedisLayerOptions(options: RedisLayerOptions, path?: string): ResolvedRedisLayerOptions {
  const name = (option: string) => (path === undefined ? option : `${path}.${option}`)
  if (options === null || typeof options !== 'object') throw invalid(path ?? 'options', 'an object of options')
  knownKeysOption(path ?? 'redis', options, knownOptions)
  const prefix = options.prefix ?? 'aicache'
  if (typeof prefix !== 'string' || prefix === '' || /[{}]/.test(prefix)) {
    throw invalid(name('prefix'), "a non-empty string without '{' or '}'")
  }
  const failureThreshold = positive(options.failureThreshold, name('failureThreshold'), 'failures') ?? 5
  if (!Number.isInteger(failureThreshold)) throw invalid(name('failureThreshold'), 'a whole number')
  const maxNamespaces = positive(options.maxNamespaces, name('maxNamespaces'), 'namespaces') ?? 1000
  if (!Number.isInteger(maxNamespaces)) throw invalid(name('maxNamespaces'), 'a whole number')
  if (options.onStateChange !== undefined && typeof options.onStateChange !== 'function') {
    throw invalid(name('onStateChange'), 'a function')
  }
  return Object.freeze({
    redis: connection(options.redis, name('redis')),
    prefix,
    timeoutMs: positive(options.timeoutMs, name('timeoutMs'), 'milliseconds') ?? 100,
    compressAboveBytes: positive(options.compressAboveBytes, name('compressAboveBytes'), 'bytes') ?? 4096,
    maxTtlMs: positive(options.maxTtlMs, name('maxTtlMs'), 'milliseconds'),
    lockTtlMs: positive(options.lockTtlMs, name('lockTtlMs'), 'milliseconds') ?? 30_000,
    maxNamespaces,
    localTtlMs: positive(options.localTtlMs, name('localTtlMs'), 'milliseconds'),
    failureThreshold,
    coolDownMs: positive(options.coolDownMs, name('coolDownMs'), 'milliseconds') ?? 1_000,
    onStateChange: options.onStateChange,
  })
}
