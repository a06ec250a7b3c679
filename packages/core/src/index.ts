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
 *
 * Adapters for web frameworks build on `@aicache/core/adapter`; the types of
 * ioredis clients and Redis layer options are in `@aicache/core/redis`.
 */
import { AiCache } from './engine/engine.js'
import type { AiCacheOptions } from './options.js'

export { AiCache } from './engine/engine.js'
export type { AiCacheStats, EmbeddingStats } from './engine/stats.js'
export type { Tier } from './engine/cache-status.js'
export { AiCacheError } from './errors.js'
export type { AiCacheErrorCode } from './errors.js'
export type { AiCacheOptions, NormalizeOptions, ScopeOption } from './options.js'
export type { EmbeddingsOptions } from './embeddings/embeddings-options.js'
export type { FreshnessOptions, RefreshAheadOptions } from './freshness/freshness-options.js'
// The request `scope`, `match` and `key` functions receive, and the model and usage wrap-mode handlers report.
export type { ExchangeRequest, ResponseMeta, TokenUsage } from './exchange/types.js'
export type { RateLimitOptions } from './limits/rate-limit-options.js'
export type { RateLimitIdentity } from './limits/caller-identity.js'
export { estimateRequestTokens } from './limits/estimate-tokens.js'
export type { EstimateTokensOptions } from './limits/estimate-tokens.js'
export type { ModelPrice } from './pricing/pricing.js'
export type { TelemetryOptions } from './telemetry/telemetry.js'
export type { WarmUpOptions } from './warm/warm-up-options.js'
export type { WarmUpReport } from './warm/warm-up.js'
export type { WarmOptions, WarmOutcome, WarmReport, WarmRequest, WarmResult } from './warm/warm-requests.js'
export { attribute as telemetryAttributes, genAi as genAiAttributes, metric as telemetryMetrics } from './telemetry/names.js'
export { redisMetric as telemetryRedisMetrics } from './telemetry/redis-instruments.js'
export * from './semantic/exports.js'
export type { EmbedCaller } from './semantic/types.js'
export type { RouteSemanticOption, SemanticOptions } from './semantic/semantic-options.js'
export type { SemanticStats } from './semantic/semantic-stats.js'
export { upstreamEmbedder, type UpstreamEmbedderOptions } from './semantic/upstream-embedder.js'
export { similarityHeader as semanticSimilarityHeader } from './semantic/semantic-tier.js'
export type { CapacityOptions } from './capacity/capacity-options.js'
export type { CapacityForecast, CapacityInterval, CapacityReport } from './capacity/capacity-monitor.js'
export type { Recommendation } from './capacity/recommend.js'
export { defaultHoltParameters, holtForecast } from './capacity/holt.js'
export type { HoltParameters } from './capacity/holt.js'

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
