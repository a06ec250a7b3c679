import { AiCacheError } from './errors.js'
import { nonNegativeIntegerOption } from './option-checks.js'
import type { ExchangeRequest } from './exchange/types.js'
import { type RateLimitOptions, type ResolvedRateLimitOptions, resolveRateLimitOptions } from './limits/rate-limit-options.js'
import type { ModelPrice } from './pricing/pricing.js'
import { namespacePattern } from './request/directives.js'
import { booleanOption, knownKeysOption, nonNegativeNumberOption, objectOption, positiveNumberOption } from './option-checks.js'
import { type RedisLayerOptions, resolveRedisLayerOptions } from './store/redis-layer-options.js'
import type { RedisConnection } from './store/redis-client.js'
import { type ResilienceOptions, type ResolvedResilienceOptions, resolveResilienceOptions } from './upstream/resilience-options.js'
import type { TelemetryOptions } from './telemetry/telemetry.js'
import { type CapacityOptions, type ResolvedCapacityOptions, resolveCapacityOptions } from './capacity/capacity-options.js'

/**
 * Whose answers may be shared.
 * - `'credential'`: callers share entries only with callers holding the same
 *   credential (`Authorization`, `api-key` or `x-api-key` header). Only a hash
 *   of the credential is kept.
 * - `'shared'`: every caller shares one cache. Use only when all callers may
 *   see each other's answers.
 * - a function: returns the scope (a tenant or user id) for a request.
 */
export type ScopeOption = 'credential' | 'shared' | ((request: ExchangeRequest) => string)

/**
 * Opt-in normalisation of prompt text before it is keyed. It is lossy: two
 * prompts that differ only in what is normalised away share one answer.
 */
export interface NormalizeOptions {
  /** Trim and collapse runs of white space. @default false */
  whitespace?: boolean
  /** Compare prompt text case-insensitively. @default false */
  case?: boolean
}

/**
 * Options of {@link createAiCache} and of every adapter. Retry, circuit
 * breaker, concurrency cap and upstream pacing (`retry`, `circuitBreaker`,
 * `concurrency`, `upstreamBudget`) are documented in docs/resilience.md.
 */
export interface AiCacheOptions extends ResilienceOptions {
  /**
   * Base URL of the OpenAI-compatible upstream, including its version path,
   * e.g. `https://api.openai.com/v1`. When set, aicache runs in proxy mode and
   * answers `/v1/*` itself; when unset, it wraps the app's own routes.
   */
  upstream?: string | URL
  /** Key sent to the upstream instead of the caller's `Authorization`. */
  upstreamApiKey?: string
  /** Time allowed for one upstream call. @default 120_000 */
  upstreamTimeoutMs?: number
  /** Time an entry stays fresh unless the request says otherwise. @default 3_600_000 (one hour) */
  ttlMs?: number
  /**
   * Longest time (ms) an entry stays in the memory tier (L1), however long it
   * is fresh: hot answers can live briefly in memory and for their whole
   * freshness in Redis (L2), where the next lookup finds them. With Redis it
   * also bounds how long an instance cut off from the invalidation bus
   * serves an entry invalidated elsewhere. `redis.localTtlMs` is the same
   * bound; with both, the shorter wins. @default none (as long as it is fresh)
   */
  l1TtlMs?: number
  /** Upper bound of the memory tier, in bytes of stored responses. @default 67_108_864 (64 MiB) */
  maxBytes?: number
  /** Largest request body accepted; larger ones get a 413. @default 4_194_304 (4 MiB) */
  maxBodyBytes?: number
  /**
   * Bytes of recent request bodies remembered with what was worked out from
   * them (parsed, validated, keyed), so a repeated request skips that work;
   * each body counts with a fixed overhead. Held besides `maxBytes`; 0 turns
   * the memo off (every request is parsed and hashed).
   * @default a quarter of `maxBytes`, at most 16_777_216 (16 MiB)
   */
  bodyMemoBytes?: number
  /** Namespace of requests that do not send `x-aicache-namespace`. @default 'default' */
  namespace?: string
  /** Whose answers may be shared. @default 'credential' */
  scope?: ScopeOption
  /** Lossy prompt normalisation, off by default. */
  normalize?: NormalizeOptions
  /**
   * Wrap mode: which requests are cached. The default caches, where the
   * middleware is mounted for a whole app, `POST` requests whose JSON body
   * is unmistakably an LLM call (a string `model` with `messages`, `prompt`
   * or `input`); where it is mounted on one route, every JSON `POST` of
   * that route (see `ExchangeRequest.mount`).
   */
  match?: (request: ExchangeRequest, body: unknown) => boolean
  /**
   * Wrap mode: the cache key of a request, or `undefined` to not cache it.
   * Scope and namespace are still added. The default is the canonical JSON
   * body with the method and path.
   */
  key?: (request: ExchangeRequest, body: unknown) => string | undefined
  /** Client mode: the `fetch` that misses go through. @default globalThis.fetch */
  fetch?: typeof globalThis.fetch
  /**
   * How a stored stream is replayed: `'fast'` sends it at once, `'recorded'`
   * with the timing it was recorded with (a typing effect). @default 'fast'
   */
  replayPacing?: 'fast' | 'recorded'
  /**
   * OpenTelemetry: providers to use instead of the global ones, and whether
   * prompt and answer text may go on spans. Without an SDK registered,
   * telemetry is a no-op.
   */
  telemetry?: TelemetryOptions
  /**
   * Prices per model in US dollars per million tokens, winning over the
   * bundled `@pydantic/genai-prices` table.
   *
   * @example { 'my-finetune': { inputPerMillionUsd: 0.3, outputPerMillionUsd: 1.2 } }
   */
  prices?: Readonly<Record<string, ModelPrice>>
  /**
   * Inbound rate limits per scope (the cache key's scope): requests and
   * tokens per minute, answered with OpenAI's `x-ratelimit-*` headers and a
   * 429 when over. Off by default. See docs/rate-limits.md.
   */
  rateLimit?: RateLimitOptions | false
  /**
   * Redis as the second tier and the shared state of several instances: a
   * URL, an ioredis `Redis` or `Cluster` client, or the layer's options. Off
   * by default. Redis down or slow never fails a request. See docs/redis.md.
   *
   * @example 'redis://127.0.0.1:6379'
   */
  redis?: RedisConnection | RedisLayerOptions
  /** Keep the in-process memory tier (L1). Turn it off to use Redis alone. @default true */
  memoryTier?: boolean
  /** How long a request waits for another instance making the same call before making its own. @default 30_000 */
  lockWaitMs?: number
  /**
   * The load forecast and the recommended instances and upstream
   * concurrency, as metrics and `engine.capacity()`; `true` for the
   * defaults. With Redis, of the whole fleet. Off by default. See docs/capacity.md.
   */
  capacity?: CapacityOptions | boolean
}

/** Options after validation, with every default filled in. */
export interface ResolvedAiCacheOptions {
  readonly mode: 'proxy' | 'wrap'
  readonly upstream: URL | undefined
  readonly upstreamApiKey: string | undefined
  readonly upstreamTimeoutMs: number
  readonly ttlMs: number
  /** `l1TtlMs`, or `redis.localTtlMs` when shorter or alone. */
  readonly l1TtlMs: number | undefined
  readonly maxBytes: number
  readonly maxBodyBytes: number
  readonly bodyMemoBytes: number
  readonly namespace: string
  readonly scope: ScopeOption
  readonly normalize: Readonly<Required<NormalizeOptions>>
  readonly match: AiCacheOptions['match']
  readonly key: AiCacheOptions['key']
  readonly fetch: typeof globalThis.fetch | undefined
  readonly replayPacing: 'fast' | 'recorded'
  readonly telemetry: Readonly<TelemetryOptions>
  readonly prices: Readonly<Record<string, ModelPrice>>
  readonly resilience: ResolvedResilienceOptions
  readonly rateLimit: ResolvedRateLimitOptions | undefined
  readonly redis: RedisLayerOptions | undefined
  readonly memoryTier: boolean
  readonly lockWaitMs: number
  readonly capacity: ResolvedCapacityOptions | undefined
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw new AiCacheError('invalid_option', `Option '${name}' must be a positive integer, got ${String(value)}`, {
      param: name,
    })
  }
  return value
}

function optionalFunction<T>(name: string, value: T | undefined): T | undefined {
  if (value !== undefined && typeof value !== 'function') {
    throw new AiCacheError('invalid_option', `Option '${name}' must be a function`, { param: name })
  }
  return value
}

function parseUpstream(value: string | URL | undefined): URL | undefined {
  if (value === undefined || value === '') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch (cause) {
    throw new AiCacheError('invalid_option', `Option 'upstream' is not a URL: ${String(value)}`, {
      param: 'upstream',
      cause,
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AiCacheError('invalid_option', `Option 'upstream' must be an http(s) URL, got ${url.protocol}`, {
      param: 'upstream',
    })
  }
  // Paths are appended to the base, so it must not end in a slash.
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

function redisOption(value: AiCacheOptions['redis']): RedisLayerOptions | undefined {
  if (value === undefined || value === '') return undefined
  // A URL or a client is checked as the `redis` option itself; a layer
  // options object (it has a `redis` or `sentinels` field, a client has not) field by field,
  // as `redis.timeoutMs` and so on. Either way a bad value throws now rather
  // than leaving the engine without L2 and a warning at run time.
  if (typeof value === 'object' && value !== null && ('redis' in value || 'sentinels' in value) && !('status' in value)) {
    resolveRedisLayerOptions(value as RedisLayerOptions, 'redis')
    return value as RedisLayerOptions
  }
  const options = { redis: value as RedisConnection }
  resolveRedisLayerOptions(options)
  return options
}

function shorterOf(first: number | undefined, second: number | undefined): number | undefined {
  return first === undefined ? second : second === undefined ? first : Math.min(first, second)
}

function normalizeOption(value: unknown): Readonly<Required<NormalizeOptions>> {
  const normalize = objectOption('normalize', value)
  knownKeysOption('normalize', normalize, ['whitespace', 'case'])
  return Object.freeze({
    whitespace: booleanOption('normalize.whitespace', normalize['whitespace'], false),
    case: booleanOption('normalize.case', normalize['case'], false),
  })
}

function providerOption(name: string, value: unknown, method: string): void {
  if (value === undefined) return
  if (value === null || typeof value !== 'object' || typeof (value as Record<string, unknown>)[method] !== 'function') {
    throw new AiCacheError('invalid_option', `Option '${name}' must be an OpenTelemetry provider with ${method}(), got ${String(value)}`, {
      param: name,
    })
  }
}

function telemetryOption(value: unknown): Readonly<TelemetryOptions> {
  const telemetry = objectOption('telemetry', value)
  knownKeysOption('telemetry', telemetry, ['tracerProvider', 'meterProvider', 'recordContent', 'engine'])
  const engine = telemetry['engine']
  if (engine !== undefined && (typeof engine !== 'string' || engine === '')) {
    throw new AiCacheError('invalid_option', `Option 'telemetry.engine' must be a non-empty string, got ${String(engine)}`, { param: 'telemetry.engine' })
  }
  providerOption('telemetry.tracerProvider', telemetry['tracerProvider'], 'getTracer')
  providerOption('telemetry.meterProvider', telemetry['meterProvider'], 'getMeter')
  booleanOption('telemetry.recordContent', telemetry['recordContent'], false)
  return Object.freeze({ ...telemetry })
}

function pricesOption(value: unknown): Readonly<Record<string, ModelPrice>> {
  const prices = objectOption('prices', value)
  const resolved: Record<string, ModelPrice> = {}
  for (const [model, price] of Object.entries(prices)) {
    const name = `prices.${model}`
    const entry = objectOption(name, price ?? null)
    knownKeysOption(name, entry, ['inputPerMillionUsd', 'outputPerMillionUsd'])
    resolved[model] = Object.freeze({
      inputPerMillionUsd: requiredNumber(`${name}.inputPerMillionUsd`, entry['inputPerMillionUsd']),
      outputPerMillionUsd: requiredNumber(`${name}.outputPerMillionUsd`, entry['outputPerMillionUsd']),
    })
  }
  return Object.freeze(resolved)
}

function requiredNumber(name: string, value: unknown): number {
  if (value === undefined) throw new AiCacheError('invalid_option', `Option '${name}' is required`, { param: name })
  return nonNegativeNumberOption(name, value, 0)
}

function optionalString(name: string, value: unknown): string | undefined {
  if (value !== undefined && typeof value !== 'string') {
    throw new AiCacheError('invalid_option', `Option '${name}' must be a string`, { param: name })
  }
  return value || undefined
}

/**
 * `rateLimit`, counted against an identity callers cannot make up: when the
 * gateway sends its own `upstreamApiKey`, nobody checks the credentials
 * callers send, so a credential scope is a label anyone can mint per request
 * (a fresh budget each time). Then limits go by address unless told otherwise.
 */
function resolveInboundLimits(options: AiCacheOptions, scope: ScopeOption): ResolvedRateLimitOptions | undefined {
  if (!options.rateLimit) return undefined
  const uncheckedCredentials = Boolean(options.upstreamApiKey) && scope === 'credential'
  const resolved = resolveRateLimitOptions(options.rateLimit, 'rateLimit', uncheckedCredentials ? 'address' : 'scope')
  if (uncheckedCredentials && resolved.identity === 'scope') {
    throw new AiCacheError(
      'invalid_option',
      "Option 'rateLimit.identity' cannot be 'scope' with 'upstreamApiKey' and the credential scope: callers could make up a credential for a fresh budget each time. Use 'address', { header } set by a trusted proxy, or a 'scope' function.",
      { param: 'rateLimit.identity' },
    )
  }
  return resolved
}

/**
 * Validates options once, at creation, and returns a frozen, complete copy.
 * The caller's object is never changed. A bad option throws an
 * {@link AiCacheError} of code `invalid_option` that names it.
 */
export function resolveOptions(options: AiCacheOptions = {}): ResolvedAiCacheOptions {
  const upstream = parseUpstream(options.upstream)
  const scope = options.scope ?? 'credential'
  if (scope !== 'credential' && scope !== 'shared' && typeof scope !== 'function') {
    throw new AiCacheError('invalid_option', `Option 'scope' must be 'credential', 'shared' or a function`, {
      param: 'scope',
    })
  }
  const replayPacing = options.replayPacing ?? 'fast'
  if (replayPacing !== 'fast' && replayPacing !== 'recorded') {
    throw new AiCacheError('invalid_option', `Option 'replayPacing' must be 'fast' or 'recorded'`, { param: 'replayPacing' })
  }
  const namespace = options.namespace ?? 'default'
  // The pattern keeps out '*', the epoch of every namespace (invalidate({ all: true })).
  if (typeof namespace !== 'string' || !namespacePattern.test(namespace)) {
    throw new AiCacheError('invalid_option', `Option 'namespace' must be 1 to 128 letters, digits, '.', '_', ':' or '-'`, {
      param: 'namespace',
    })
  }
  const rateLimit = resolveInboundLimits(options, scope)
  const maxBytes = positiveInteger('maxBytes', options.maxBytes, 64 * 1024 * 1024)
  const redis = redisOption(options.redis)
  return Object.freeze({
    mode: upstream ? 'proxy' : 'wrap',
    upstream,
    upstreamApiKey: optionalString('upstreamApiKey', options.upstreamApiKey),
    upstreamTimeoutMs: positiveInteger('upstreamTimeoutMs', options.upstreamTimeoutMs, 120_000),
    ttlMs: positiveInteger('ttlMs', options.ttlMs, 3_600_000),
    l1TtlMs: shorterOf(positiveNumberOption('l1TtlMs', options.l1TtlMs, undefined), redis?.localTtlMs),
    maxBytes,
    maxBodyBytes: positiveInteger('maxBodyBytes', options.maxBodyBytes, 4 * 1024 * 1024),
    bodyMemoBytes: nonNegativeIntegerOption('bodyMemoBytes', options.bodyMemoBytes, Math.min(16 * 1024 * 1024, Math.floor(maxBytes / 4))),
    namespace,
    scope,
    normalize: normalizeOption(options.normalize),
    match: optionalFunction('match', options.match),
    key: optionalFunction('key', options.key),
    fetch: optionalFunction('fetch', options.fetch),
    replayPacing,
    telemetry: telemetryOption(options.telemetry),
    prices: pricesOption(options.prices),
    resilience: resolveResilienceOptions({
      retry: options.retry,
      circuitBreaker: options.circuitBreaker,
      concurrency: options.concurrency,
      upstreamBudget: options.upstreamBudget,
    }),
    rateLimit,
    redis,
    memoryTier: booleanOption('memoryTier', options.memoryTier, true),
    lockWaitMs: positiveInteger('lockWaitMs', options.lockWaitMs, 30_000),
    capacity: resolveCapacityOptions(options.capacity, options.concurrency ? options.concurrency.maxConcurrent : undefined),
  })
}
