/**
 * aicache core: caches OpenAI-compatible LLM calls in memory, coalesces
 * identical in-flight calls, and answers in proxy, wrap and client mode.
 *
 * @example
 * ```ts
 * import OpenAI from 'openai'
 * import { createAiCache } from '@aicache/core'
 *
 * const cache = createAiCache()
 * const openai = new OpenAI({ fetch: cache.fetch })
 * ```
 */
import { AiCache } from './engine/engine.js'
import type { AiCacheOptions } from './options.js'

export { AiCache } from './engine/engine.js'
export type { AiCacheStats } from './engine/stats.js'
export type { Tier } from './engine/cache-status.js'
export { AiCacheError, toOpenAiError } from './errors.js'
export type { AiCacheErrorCode, OpenAiErrorBody } from './errors.js'
export { resolveOptions } from './options.js'
export type { AiCacheOptions, NormalizeOptions, ResolvedAiCacheOptions, ScopeOption } from './options.js'
export type { IoredisClient } from './store/redis-client.js'
export type { RedisSentinel, RedisTlsOptions } from './store/redis-connection-options.js'
export type { RedisServerFacts } from './store/redis-info.js'
export { redisAclRules } from './store/redis-acl.js'
export type {
  CapturedHeaders,
  CapturedResponse,
  ExchangeRequest,
  NextOutcome,
  Outcome,
  RequestHeaders,
  RespondOutcome,
  ResponseHeaders,
  ResponseMeta,
  RouteDirectives,
  StreamOutcome,
  TokenUsage,
  WrapCapture,
} from './exchange/types.js'
export { bodyTooLargeError, captureNodeResponse, nodeExchange, sendNodeOutcome, tapStream } from './exchange/node.js'
export type { NodeExchangeOptions } from './exchange/node.js'
export { resolveRouteOptions } from './exchange/route-options.js'
export type { RateLimitOptions } from './limits/rate-limit-options.js'
export type { RateLimitIdentity } from './limits/caller-identity.js'
export { canonicalJson, canonicalRequest, fieldsOutsideKey } from './request/canonical.js'
export { cacheKey, credentialScope } from './request/key.js'
export type { KeyParts } from './request/key.js'
export { estimateRequestTokens } from './limits/estimate-tokens.js'
export type { EstimateTokensOptions } from './limits/estimate-tokens.js'
export { gatewayPaths } from './formats/registry.js'
export type { Operation } from './formats/registry.js'
export type { ModelPrice } from './pricing/pricing.js'
export type { TelemetryOptions } from './telemetry/telemetry.js'
export { attribute as telemetryAttributes, genAi as genAiAttributes, metric as telemetryMetrics } from './telemetry/names.js'
export { redisMetric as telemetryRedisMetrics } from './telemetry/redis-instruments.js'

/**
 * Creates a cache engine. Share one engine between adapters and client-mode
 * `fetch` to share its entries and counters.
 *
 * @example
 * ```ts
 * const cache = createAiCache({ upstream: 'https://api.openai.com/v1', ttlMs: 600_000 })
 * ```
 */
export function createAiCache(options?: AiCacheOptions): AiCache {
  return new AiCache(options)
}
