import { AiCacheError } from './errors.js'
import type { ExchangeRequest } from './exchange/types.js'
import { type RateLimitOptions, type ResolvedRateLimitOptions, resolveRateLimitOptions } from './limits/rate-limit-options.js'
import type { ModelPrice } from './pricing/pricing.js'
import type { RedisLayerOptions } from './store/redis-layer-options.js'
import type { RedisConnection } from './store/redis-client.js'
import {
  type ResilienceOptions,
  type ResolvedResilienceOptions,
  resolveResilienceOptions,
} from './upstream/resilience-options.js'
import type { TelemetryOptions } from './telemetry/telemetry.js'

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
  /** Upper bound of the memory tier, in bytes of stored responses. @default 67_108_864 (64 MiB) */
  maxBytes?: number
  /** Largest request body accepted; larger ones get a 413. @default 4_194_304 (4 MiB) */
  maxBodyBytes?: number
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
}

/** Options after validation, with every default filled in. */
export interface ResolvedAiCacheOptions {
  readonly mode: 'proxy' | 'wrap'
  readonly upstream: URL | undefined
  readonly upstreamApiKey: string | undefined
  readonly upstreamTimeoutMs: number
  readonly ttlMs: number
  readonly maxBytes: number
  readonly maxBodyBytes: number
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
  if (typeof value === 'string') return { redis: value }
  // A layer options object has a `redis` field; an ioredis client does not.
  if ('redis' in value && !('status' in value)) return value as RedisLayerOptions
  return { redis: value as RedisConnection }
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
  if (typeof namespace !== 'string' || namespace === '') {
    throw new AiCacheError('invalid_option', `Option 'namespace' must be a non-empty string`, { param: 'namespace' })
  }
  return Object.freeze({
    mode: upstream ? 'proxy' : 'wrap',
    upstream,
    upstreamApiKey: options.upstreamApiKey || undefined,
    upstreamTimeoutMs: positiveInteger('upstreamTimeoutMs', options.upstreamTimeoutMs, 120_000),
    ttlMs: positiveInteger('ttlMs', options.ttlMs, 3_600_000),
    maxBytes: positiveInteger('maxBytes', options.maxBytes, 64 * 1024 * 1024),
    maxBodyBytes: positiveInteger('maxBodyBytes', options.maxBodyBytes, 4 * 1024 * 1024),
    namespace,
    scope,
    normalize: Object.freeze({
      whitespace: options.normalize?.whitespace ?? false,
      case: options.normalize?.case ?? false,
    }),
    match: optionalFunction('match', options.match),
    key: optionalFunction('key', options.key),
    fetch: optionalFunction('fetch', options.fetch),
    replayPacing,
    telemetry: Object.freeze({ ...options.telemetry }),
    prices: Object.freeze({ ...options.prices }),
    resilience: resolveResilienceOptions({
      retry: options.retry,
      circuitBreaker: options.circuitBreaker,
      concurrency: options.concurrency,
      upstreamBudget: options.upstreamBudget,
    }),
    rateLimit: options.rateLimit ? resolveRateLimitOptions(options.rateLimit) : undefined,
    redis: redisOption(options.redis),
    memoryTier: options.memoryTier ?? true,
    lockWaitMs: positiveInteger('lockWaitMs', options.lockWaitMs, 30_000),
  })
}
