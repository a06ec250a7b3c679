import { AiCacheError } from '../errors.js'
import { knownKeysOption } from '../option-checks.js'
import type { BreakerState } from './guarded-remote.js'
import type { RedisConnection } from './redis-client.js'
import { type RedisSentinel, type RedisTlsOptions, sentinelsOption, tlsOption } from './redis-connection-options.js'

export type { RedisSentinel, RedisTlsOptions } from './redis-connection-options.js'

/** Options of {@link createRedisLayer}. */
export interface RedisLayerOptions {
  /**
   * A URL (`redis://`, `rediss://user:password@host:port/db`), or an ioredis
   * `Redis` or `Cluster` client (owned and closed by the caller). Required
   * unless `sentinels` is given.
   */
  redis?: RedisConnection
  /**
   * Redis Sentinel instead of a URL: the sentinels to ask for the master of
   * `name`. The layer follows the master through failovers (see docs/redis.md).
   */
  sentinels?: readonly RedisSentinel[]
  /** The master group name the sentinels monitor (`sentinel monitor <name> ...`); required with `sentinels`. */
  name?: string
  /** ACL user of the Redis nodes found through `sentinels` (a URL carries its own). */
  username?: string
  /** Password of the Redis nodes found through `sentinels` (a URL carries its own). */
  password?: string
  /** Password of the sentinels themselves, when they require one. */
  sentinelPassword?: string
  /**
   * TLS of the connections the layer opens: the CA that signed the server's
   * certificate, and a client certificate and key when the server asks for
   * one. With a URL it takes a `rediss://` URL; with `sentinels` it encrypts
   * the connections to the Redis nodes (the sentinels are asked in clear).
   */
  tls?: RedisTlsOptions
  /**
   * How often (ms) the layer reads Redis's `INFO` (memory, evictions,
   * keyspace hits and misses) for `stats().redis.server` and the metrics;
   * 0 turns the reading off. The configuration check at start runs either way.
   * @default 15000
   */
  infoIntervalMs?: number
  /** Where the one warning about the server's configuration at start goes (no `maxmemory`, `noeviction`). @default console.warn */
  onWarning?: (message: string) => void
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
export type ResolvedRedisLayerOptions = Readonly<Required<Omit<RedisLayerOptions, OptionalOption>> & Pick<RedisLayerOptions, OptionalOption>>

type OptionalOption =
  'maxTtlMs' | 'localTtlMs' | 'onStateChange' | 'redis' | 'sentinels' | 'name' | 'username' | 'password' | 'sentinelPassword' | 'tls' | 'onWarning'

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
  'sentinels',
  'name',
  'username',
  'password',
  'sentinelPassword',
  'tls',
  'infoIntervalMs',
  'onWarning',
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
  for (const hook of ['onStateChange', 'onWarning'] as const) {
    if (options[hook] !== undefined && typeof options[hook] !== 'function') throw invalid(name(hook), 'a function')
  }
  const sentinels = sentinelsOption(options.sentinels, name('sentinels'))
  if ((sentinels === undefined) === (options.redis === undefined || options.redis === '')) {
    throw invalid(name('redis'), "either a URL or client in 'redis', or 'sentinels' with 'name' (not both)")
  }
  if (sentinels !== undefined && (typeof options.name !== 'string' || options.name === '')) {
    throw invalid(name('name'), "the master group name the sentinels monitor (with 'sentinels')")
  }
  for (const text of ['name', 'username', 'password', 'sentinelPassword'] as const) {
    if (options[text] !== undefined && typeof options[text] !== 'string') throw invalid(name(text), 'a string')
  }
  if (sentinels === undefined) {
    for (const only of ['name', 'username', 'password', 'sentinelPassword'] as const) {
      if (options[only] !== undefined) throw invalid(name(only), "nothing without 'sentinels' (a URL carries its own credentials)")
    }
  }
  const tls = tlsOption(options.tls, name('tls'))
  if (tls !== undefined && typeof options.redis === 'object') {
    throw invalid(name('tls'), 'nothing with a client passed in (configure TLS on that client)')
  }
  if (tls !== undefined && typeof options.redis === 'string' && !options.redis.startsWith('rediss://')) {
    throw invalid(name('redis'), "a rediss:// URL with 'tls'")
  }
  const infoIntervalMs = options.infoIntervalMs ?? 15_000
  if (typeof infoIntervalMs !== 'number' || !Number.isFinite(infoIntervalMs) || infoIntervalMs < 0) {
    throw invalid(name('infoIntervalMs'), 'a non-negative number of milliseconds (0 turns it off)')
  }
  return Object.freeze({
    redis: sentinels === undefined ? connection(options.redis, name('redis')) : undefined,
    sentinels,
    name: options.name,
    username: options.username,
    password: options.password,
    sentinelPassword: options.sentinelPassword,
    tls,
    infoIntervalMs,
    onWarning: options.onWarning,
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
