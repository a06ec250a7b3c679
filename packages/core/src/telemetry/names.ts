/**
 * Every span name, attribute and metric name aicache records, in one place.
 * docs/telemetry.md lists them with their units.
 *
 * The GenAI names are copied from the OpenTelemetry semantic conventions
 * v1.41 (gen-ai registry): they only exist in the incubating entry of
 * `@opentelemetry/semantic-conventions` and are still moving, so a copy
 * pins what aicache emits.
 */

/** Instrumentation scope of tracer and meter. */
export const instrumentationName = '@aicache/core'

/** GenAI semantic conventions v1.41 (copied). */
export const genAi = {
  operationName: 'gen_ai.operation.name',
  providerName: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  requestMaxTokens: 'gen_ai.request.max_tokens',
  requestTemperature: 'gen_ai.request.temperature',
  requestTopP: 'gen_ai.request.top_p',
  requestSeed: 'gen_ai.request.seed',
  requestStopSequences: 'gen_ai.request.stop_sequences',
  requestStream: 'gen_ai.request.stream',
  /** Prompt messages as JSON; only with `telemetry.recordContent`. */
  inputMessages: 'gen_ai.input.messages',
  /** Answer messages as JSON; only with `telemetry.recordContent`. */
  outputMessages: 'gen_ai.output.messages',
  responseModel: 'gen_ai.response.model',
  responseId: 'gen_ai.response.id',
  responseFinishReasons: 'gen_ai.response.finish_reasons',
  usageInputTokens: 'gen_ai.usage.input_tokens',
  usageOutputTokens: 'gen_ai.usage.output_tokens',
  /** Input tokens served from the provider's own prompt cache: part of `gen_ai.usage.input_tokens`. */
  usageCacheReadInputTokens: 'gen_ai.usage.cache_read.input_tokens',
  /** Input tokens written to the provider's own prompt cache: part of `gen_ai.usage.input_tokens`. */
  usageCacheCreationInputTokens: 'gen_ai.usage.cache_creation.input_tokens',
  /** Output tokens spent on reasoning: part of `gen_ai.usage.output_tokens`. */
  usageReasoningOutputTokens: 'gen_ai.usage.reasoning.output_tokens',
  tokenType: 'gen_ai.token.type',
  serverAddress: 'server.address',
  serverPort: 'server.port',
  errorType: 'error.type',
} as const

/**
 * Well-known `gen_ai.operation.name` values (copied); each API format
 * names its operation with one of them (`src/formats/`).
 */
export const genAiOperationName = {
  chat: 'chat',
  textCompletion: 'text_completion',
  embeddings: 'embeddings',
  generateContent: 'generate_content',
} as const

/** aicache's own span attributes. */
export const attribute = {
  /** The engine's name (`telemetry.engine`), on its metrics, when it has one. */
  engine: 'aicache.engine',
  result: 'aicache.result',
  tier: 'aicache.tier',
  namespace: 'aicache.namespace',
  keyHash: 'aicache.key_hash',
  stream: 'aicache.stream',
  tokensSavedInput: 'aicache.tokens_saved.input',
  tokensSavedOutput: 'aicache.tokens_saved.output',
  costSavedUsd: 'aicache.cost_saved_usd',
  costSpentUsd: 'aicache.cost_spent_usd',
  upstreamAttempts: 'aicache.upstream.attempts',
  rateLimited: 'aicache.rate_limited',
  breakerState: 'aicache.breaker.state',
  /** `read` or `write`: what an `aicache.provider_cache.tokens` series counts. */
  providerCacheType: 'aicache.provider_cache.type',
  /** Embeddings: inputs answered from stored vectors, sent upstream, and collapsed onto another request's fetch. */
  embeddingInputsCached: 'aicache.embeddings.inputs_cached',
  embeddingInputsSent: 'aicache.embeddings.inputs_sent',
  embeddingInputsCollapsed: 'aicache.embeddings.inputs_collapsed',
  /** On `aicache.embeddings.inputs`: `cache`, `upstream` or `collapsed`. */
  embeddingSource: 'aicache.embeddings.source',
  /** Cosine similarity of the neighbour a semantic lookup served, or of the nearest one it did not. */
  semanticSimilarity: 'aicache.semantic.similarity',
  /** Why a semantic lookup served no neighbour (`threshold`, a guard's reason, `gone`, `embed_timeout`...). */
  semanticRejection: 'aicache.semantic.rejection',
  /** Why a request was answered from a stale entry: `error` (stale-if-error) or `revalidate` (stale-while-revalidate). */
  staleReason: 'aicache.stale.reason',
  /** Why a background refresh was made: `revalidate` (a stale answer) or `ahead` (a hot entry about to expire). */
  refreshReason: 'aicache.refresh.reason',
  /** How a background refresh ended: `stored` (the entry replaced) or `failed` (the stale entry kept). */
  refreshResult: 'aicache.refresh.result',
  /** Which upstream queue: `concurrency` (the concurrency cap) or `budget` (the upstream budget). */
  queue: 'aicache.queue',
  /** Which limit of the upstream budget: `requests_per_minute` or `tokens_per_minute`. */
  budget: 'aicache.budget',
  /** How far ahead a capacity forecast looks, in seconds. */
  capacityHorizon: 'aicache.capacity.horizon',
  /** Whose counts a capacity figure is of: `fleet` (every instance on the Redis) or `instance`. */
  capacityScope: 'aicache.capacity.scope',
} as const

/** Why a request was answered from a stale entry, as `aicache.stale.reason`. */
export type StaleReason = 'error' | 'revalidate'

/** Why a background refresh was made, as `aicache.refresh.reason`. */
export type RefreshReason = 'revalidate' | 'ahead'

/** What happened to a request, as `aicache.result`. */
export type RequestResult = 'hit' | 'miss' | 'bypass' | 'coalesced' | 'error'

/** Metric names (OTel style; the Prometheus exporter turns dots into underscores). */
export const metric = {
  /** GenAI: duration of an upstream call, seconds. */
  operationDuration: 'gen_ai.client.operation.duration',
  /** GenAI: tokens of an upstream call by `gen_ai.token.type`. */
  tokenUsage: 'gen_ai.client.token.usage',
  /** GenAI: time from the start of a streamed call to its first chunk, seconds. */
  timeToFirstChunk: 'gen_ai.client.operation.time_to_first_chunk',
  /** GenAI: time between consecutive chunks of a streamed call, seconds. */
  timePerOutputChunk: 'gen_ai.client.operation.time_per_output_chunk',
  requests: 'aicache.requests',
  requestDuration: 'aicache.request.duration',
  lookupDuration: 'aicache.lookup.duration',
  tokensSaved: 'aicache.tokens.saved',
  costSaved: 'aicache.cost.saved',
  costSpent: 'aicache.cost.spent',
  upstreamRetries: 'aicache.upstream.retries',
  /** Failed upstream calls by `error.type`. */
  upstreamErrors: 'aicache.upstream.errors',
  rateLimitRejections: 'aicache.ratelimit.rejections',
  /** Input tokens upstream calls' providers read from (or wrote to) their own prompt cache, by `aicache.provider_cache.type`. */
  providerCacheTokens: 'aicache.provider_cache.tokens',
  breakerState: 'aicache.upstream.breaker.state',
  memoryBytes: 'aicache.memory.bytes',
  memoryEntries: 'aicache.memory.entries',
  redisErrors: 'aicache.redis.errors',
  /** Inputs of embeddings requests by `aicache.embeddings.source`. */
  embeddingInputs: 'aicache.embeddings.inputs',
  /** Upstream embeddings calls that carried the inputs of more than one request. */
  embeddingBatchesMerged: 'aicache.embeddings.batches_merged',
  /** Similarity of each semantic lookup's best neighbour, by `aicache.result` (`hit` served, `miss` not). */
  semanticSimilarity: 'aicache.semantic.similarity',
  /** Semantic lookups that served nothing, by `aicache.semantic.rejection` (the nearest neighbour's reason). */
  semanticRejections: 'aicache.semantic.rejections',
  /** Time to embed a semantic lookup's query, seconds, by `aicache.result` (`ok`, `error`, `timeout`). */
  semanticEmbedDuration: 'aicache.semantic.embed.duration',
  /** Requests answered from a stale entry, by `aicache.stale.reason` (`error`, `revalidate`). */
  staleServed: 'aicache.stale.served',
  /** Background refreshes (upstream calls) by `aicache.refresh.reason` and `aicache.refresh.result`. */
  refreshes: 'aicache.refreshes',
  /** Requests being answered now. */
  requestsInFlight: 'aicache.requests.in_flight',
  /** Upstream calls in flight now, by operation and model (waiting for a slot or the budget included). */
  upstreamInFlight: 'aicache.upstream.in_flight',
  /** Upstream calls waiting, by `aicache.queue`: for a concurrency slot or for the upstream budget. */
  upstreamQueueDepth: 'aicache.upstream.queue.depth',
  /** Upstream tokens (input and output) of the last minute, by operation and model. */
  upstreamTokensPerMinute: 'aicache.upstream.tokens_per_minute',
  /** The upstream budget's configured limits, by `aicache.budget`. */
  upstreamBudgetLimit: 'aicache.upstream.budget.limit',
  /** Capacity forecast (`capacity` option): requests per second `aicache.capacity.horizon` seconds ahead. */
  capacityForecastRequestsRate: 'aicache.capacity.forecast.requests_rate',
  /** Capacity forecast: upstream calls per second ahead. */
  capacityForecastCallsRate: 'aicache.capacity.forecast.calls_rate',
  /** Capacity forecast: upstream tokens per second ahead. */
  capacityForecastTokensRate: 'aicache.capacity.forecast.tokens_rate',
  /** Requests per second of the last complete interval, the forecast's input. */
  capacityObservedRequestsRate: 'aicache.capacity.observed.requests_rate',
  /** Upstream tokens per second of the last complete interval. */
  capacityObservedTokensRate: 'aicache.capacity.observed.tokens_rate',
  /** Mean upstream call time lately (seconds), the W of Little's law. */
  capacityUpstreamLatency: 'aicache.capacity.upstream.latency',
  /** Instances recommended for the forecast load. */
  capacityRecommendedInstances: 'aicache.capacity.recommended.instances',
  /** Upstream calls in flight the forecast load needs, fleet-wide, at the target utilisation. */
  capacityRecommendedConcurrency: 'aicache.capacity.recommended.concurrency',
} as const

/** Recommended boundaries of `gen_ai.client.operation.duration` (seconds). */
export const operationDurationBuckets = [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92]

/** Recommended boundaries of `gen_ai.client.operation.time_per_output_chunk` (seconds). */
export const timePerOutputChunkBuckets = [0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5]

/** Recommended boundaries of `gen_ai.client.token.usage`. */
export const tokenUsageBuckets = [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864]

/** Boundaries of `aicache.semantic.similarity`: finest where thresholds are chosen. */
export const similarityBuckets = [0.5, 0.6, 0.7, 0.75, 0.8, 0.825, 0.85, 0.875, 0.9, 0.92, 0.94, 0.96, 0.98, 0.99, 1]

/** Boundaries for aicache's own durations (seconds): hits are sub-millisecond, misses seconds. */
export const requestDurationBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]
