import { type EmbeddingsOptions, resolveEmbeddingsOptions, type ResolvedEmbeddingsOptions } from './embeddings/embeddings-options.js'
import { AiCacheError } from './errors.js'
import { type FreshnessOptions, type ResolvedFreshnessOptions, resolveFreshnessOptions } from './freshness/freshness-options.js'
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
import type { UpstreamName } from './formats/format.js'
import { type ResolvedSemanticOptions, resolveSemanticOptions, type SemanticOptions } from './semantic/semantic-options.js'
import { type ResolvedWarmUpOptions, resolveWarmUpOptions, type WarmUpOptions } from './warm/warm-up-options.js'
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
export interface AiCacheOptions extends ResilienceOptions, FreshnessOptions {
  /**
   * Base URL of the upstream, including its version path, e.g.
   * `https://api.openai.com/v1`: one URL for an API that serves every
   * format (OpenAI-compatible servers, gateways that also speak Anthropic
   * Messages), or one per provider,
   * `{ openai: 'https://api.openai.com/v1', anthropic: 'https://api.anthropic.com/v1' }`,
   * where a provider left out is not proxied (its routes go on to the app).
   * When set, aicache runs in proxy mode and answers `/v1/*` itself; when
   * unset, it wraps the app's own routes.
   */
  upstream?: string | URL | UpstreamUrls
  /**
   * Key sent upstream instead of the caller's credential: as
   * `Authorization: Bearer` to OpenAI-compatible upstreams, as `x-api-key`
   * to Anthropic's. One string for every upstream, or one per provider.
   */
  upstreamApiKey?: string | UpstreamApiKeys
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
   * Input tokens the provider read from or wrote to its own prompt cache
   * cost `cacheReadPerMillionUsd` / `cacheWritePerMillionUsd` (the input
   * price when left out).
   *
   * @example { 'my-finetune': { inputPerMillionUsd: 0.3, outputPerMillionUsd: 1.2, cacheReadPerMillionUsd: 0.15 } }
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
   * `/v1/embeddings` cached input by input, only missing inputs sent
   * upstream, concurrent misses optionally merged (docs/embeddings.md).
   * `false` caches embeddings requests whole, like other formats.
   * @default {} (per input, no merging window)
   */
  embeddings?: EmbeddingsOptions | false
  /**
   * The semantic cache: a rephrased question in an identical context
   * answered from the cache, after an exact miss. Off by default. See
   * docs/semantic-cache.md.
   */
  semantic?: SemanticOptions | false
  /**
   * Warm-up from Redis: instances rank the keys they are asked for in Redis,
   * and one that starts fills its memory tier with the hottest entries of
   * its namespaces before `ready()` resolves. `true` for the defaults. Needs
   * `redis`. Off by default. See docs/warm-up.md.
   */
  warmUp?: boolean | WarmUpOptions
  /**
   * The load forecast and the recommended instances and upstream
   * concurrency, as metrics and `engine.capacity()`; `true` for the
   * defaults. With Redis, of the whole fleet. Off by default. See docs/capacity.md.
   */
  capacity?: CapacityOptions | boolean
}

/** One upstream base URL per provider (see `AiCacheOptions.upstream`). */
export interface UpstreamUrls {
  /** OpenAI or any OpenAI-compatible API: chat, completions, embeddings, responses and every other `/v1/` route. */
  openai?: string | URL
  /** Anthropic's API: `/v1/messages` and its sub-routes, and calls that send `anthropic-version`. */
  anthropic?: string | URL
}

/** One upstream key per provider (see `AiCacheOptions.upstreamApiKey`). */
export interface UpstreamApiKeys {
  openai?: string
  anthropic?: string
}

/** Options after validation, with every default filled in. */
export interface ResolvedAiCacheOptions {
  readonly mode: 'proxy' | 'wrap'
  /** The OpenAI-compatible upstream (`upstreams.openai`). */
  readonly upstream: URL | undefined
  /** The key sent to the OpenAI-compatible upstream (`upstreamApiKeys.openai`). */
  readonly upstreamApiKey: string | undefined
  /** The upstream of each provider: both the same URL when `upstream` is one string. */
  readonly upstreams: Readonly<Partial<Record<UpstreamName, URL>>>
  /** The key sent to each provider's upstream. */
  readonly upstreamApiKeys: Readonly<Partial<Record<UpstreamName, string>>>
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
  /** `undefined` with `embeddings: false`. */
  readonly embeddings: ResolvedEmbeddingsOptions | undefined
  readonly semantic: ResolvedSemanticOptions | undefined
  /** Stale-if-error, stale-while-revalidate and refresh-ahead (docs/freshness.md). */
  readonly freshness: ResolvedFreshnessOptions
  readonly warmUp: ResolvedWarmUpOptions | undefined
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

function parseUpstream(value: string | URL | undefined, name = 'upstream'): URL | undefined {
  if (value === undefined || value === '') return undefined
  let url: URL
  try {
    url = new URL(value)
  } catch (cause) {
    throw new AiCacheError('invalid_option', `Option '${name}' is not a URL: ${String(value)}`, {
      param: name,
      cause,
    })
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new AiCacheError('invalid_option', `Option '${name}' must be an http(s) URL, got ${url.protocol}`, {
      param: name,
    })
  }
  // Paths are appended to the base, so it must not end in a slash.
  url.pathname = url.pathname.replace(/\/+$/, '')
  return url
}

const upstreamNames: readonly UpstreamName[] = ['openai', 'anthropic']

/** `upstream`: one URL for every provider, or an object with one per provider. */
function upstreamsOption(value: AiCacheOptions['upstream']): Readonly<Partial<Record<UpstreamName, URL>>> {
  if (value === undefined || typeof value === 'string' || value instanceof URL) {
    const url = parseUpstream(value)
    return Object.freeze(url === undefined ? {} : { openai: url, anthropic: url })
  }
  const urls = objectOption('upstream', value)
  knownKeysOption('upstream', urls, upstreamNames)
  const resolved: Partial<Record<UpstreamName, URL>> = {}
  for (const name of upstreamNames) {
    const url = parseUpstream(urls[name] as string | URL | undefined, `upstream.${name}`)
    if (url !== undefined) resolved[name] = url
  }
  return Object.freeze(resolved)
}

/** `upstreamApiKey`: one key for every provider, or an object with one per provider. */
function upstreamApiKeysOption(value: AiCacheOptions['upstreamApiKey']): Readonly<Partial<Record<UpstreamName, string>>> {
  if (value === undefined || typeof value === 'string') {
    const key = optionalString('upstreamApiKey', value)
    return Object.freeze(key === undefined ? {} : { openai: key, anthropic: key })
  }
  const keys = objectOption('upstreamApiKey', value)
  knownKeysOption('upstreamApiKey', keys, upstreamNames)
  const resolved: Partial<Record<UpstreamName, string>> = {}
  for (const name of upstreamNames) {
    const key = optionalString(`upstreamApiKey.${name}`, keys[name])
    if (key !== undefined) resolved[name] = key
  }
  return Object.freeze(resolved)
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
    knownKeysOption(name, entry, ['inputPerMillionUsd', 'outputPerMillionUsd', 'cacheReadPerMillionUsd', 'cacheWritePerMillionUsd'])
    const rates: ModelPrice = {
      inputPerMillionUsd: requiredNumber(`${name}.inputPerMillionUsd`, entry['inputPerMillionUsd']),
      outputPerMillionUsd: requiredNumber(`${name}.outputPerMillionUsd`, entry['outputPerMillionUsd']),
    }
    // Prompt-cache rates are optional: without them cached input costs what input does.
    for (const rate of ['cacheReadPerMillionUsd', 'cacheWritePerMillionUsd'] as const) {
      if (entry[rate] !== undefined) rates[rate] = requiredNumber(`${name}.${rate}`, entry[rate])
    }
    resolved[model] = Object.freeze(rates)
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
function resolveInboundLimits(options: AiCacheOptions, scope: ScopeOption, sendsOwnKey: boolean): ResolvedRateLimitOptions | undefined {
  if (!options.rateLimit) return undefined
  const uncheckedCredentials = sendsOwnKey && scope === 'credential'
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
  const upstreams = upstreamsOption(options.upstream)
  const upstreamApiKeys = upstreamApiKeysOption(options.upstreamApiKey)
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
  const rateLimit = resolveInboundLimits(options, scope, Object.keys(upstreamApiKeys).length > 0)
  const maxBytes = positiveInteger('maxBytes', options.maxBytes, 64 * 1024 * 1024)
  const redis = redisOption(options.redis)
  return Object.freeze({
    mode: Object.keys(upstreams).length > 0 ? 'proxy' : 'wrap',
    upstream: upstreams.openai,
    upstreamApiKey: upstreamApiKeys.openai,
    upstreams,
    upstreamApiKeys,
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
    embeddings: resolveEmbeddingsOptions(options.embeddings),
    semantic: resolveSemanticOptions(options.semantic),
    freshness: resolveFreshnessOptions(options),
    warmUp: resolveWarmUpOptions(options.warmUp, { namespace, maxBytes, hasRedis: redis !== undefined }),
    capacity: resolveCapacityOptions(options.capacity, options.concurrency ? options.concurrency.maxConcurrent : undefined),
  })
}
