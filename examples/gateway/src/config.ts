import { readFileSync } from 'node:fs'
import type { AiCacheOptions } from '@aicache/express'

/** Everything the gateway is configured with. */
export interface GatewayConfig {
  port: number
  host: string
  /** Bearer token of the admin routes; without it they do not exist. */
  adminToken: string | undefined
  cache: AiCacheOptions
  /** The semantic cache (`AICACHE_SEMANTIC`), made into the engine's `semantic` option by `semanticOption`; unset: off. */
  semantic?: GatewaySemantic
}

/** `AICACHE_SEMANTIC`, `AICACHE_SEMANTIC_THRESHOLD`, `AICACHE_SEMANTIC_MODEL`. */
export interface GatewaySemantic {
  /** `local`: the offline embedder (`@aicache/embeddings-local`); `upstream`: the upstream's `/v1/embeddings`. */
  embedder: 'local' | 'upstream'
  /** Least similarity served; unset: the engine's default. */
  threshold?: number
  /** The embeddings model of `upstream`. */
  model: string
}

/** The embeddings model `AICACHE_SEMANTIC=upstream` uses unless `AICACHE_SEMANTIC_MODEL` names another. */
export const defaultSemanticModel = 'text-embedding-3-small'

/** The semantic cache's variables; a threshold or model without `AICACHE_SEMANTIC` is a mistake worth stopping for. */
function semanticConfig(environment: NodeJS.ProcessEnv): GatewaySemantic | undefined {
  const mode = environment['AICACHE_SEMANTIC'] || 'off'
  const threshold = environment['AICACHE_SEMANTIC_THRESHOLD']
  const model = environment['AICACHE_SEMANTIC_MODEL']
  if (mode === 'off') {
    if (threshold || model) throw new Error(`${threshold ? 'AICACHE_SEMANTIC_THRESHOLD' : 'AICACHE_SEMANTIC_MODEL'} needs AICACHE_SEMANTIC=local or upstream`)
    return undefined
  }
  if (mode !== 'local' && mode !== 'upstream') throw new Error(`AICACHE_SEMANTIC must be 'local', 'upstream' or 'off', got '${mode}'`)
  if (model && mode !== 'upstream') throw new Error('AICACHE_SEMANTIC_MODEL is the model of AICACHE_SEMANTIC=upstream')
  const semantic: GatewaySemantic = { embedder: mode, model: model || defaultSemanticModel }
  if (threshold) {
    const value = Number(threshold)
    if (!Number.isFinite(value) || value <= 0 || value > 1)
      throw new Error(`AICACHE_SEMANTIC_THRESHOLD must be a number above 0 and at most 1, got '${threshold}'`)
    semantic.threshold = value
  }
  return semantic
}

type Parse = (value: string, name: string) => unknown

const integer: Parse = (value, name) => {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 0) throw new Error(`${name} must be a whole number, got '${value}'`)
  return number
}
const text: Parse = (value) => value
/** A whole number of seconds (as HTTP's `stale-if-error=N` counts them), as the engine's milliseconds. */
const seconds: Parse = (value, name) => (integer(value, name) as number) * 1000
const number: Parse = (value, name) => {
  const parsed = Number(value)
  if (value.trim() === '' || !Number.isFinite(parsed)) throw new Error(`${name} must be a number, got '${value}'`)
  return parsed
}
const onOff: Parse = (value, name) => {
  if (value === 'on' || value === 'true') return true
  if (value === 'off' || value === 'false') return false
  throw new Error(`${name} must be 'on' or 'off', got '${value}'`)
}
const scope: Parse = (value, name) => {
  if (value !== 'credential' && value !== 'shared') throw new Error(`${name} must be 'credential' or 'shared', got '${value}'`)
  return value
}
const identity: Parse = (value, name) => {
  if (value === 'scope' || value === 'address') return value
  const header = /^header:(.+)$/.exec(value)?.[1]?.trim()
  if (header) return { header }
  throw new Error(`${name} must be 'address', 'scope' or 'header:<name>', got '${value}'`)
}
const normalize: Parse = (value, name) => {
  const parts = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  for (const part of parts) {
    if (part !== 'whitespace' && part !== 'case') throw new Error(`${name} takes 'whitespace' and/or 'case', got '${part}'`)
  }
  return { whitespace: parts.includes('whitespace'), case: parts.includes('case') }
}

const flag: Parse = (value, name) => {
  if (value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new Error(`${name} must be 'true' or 'false', got '${value}'`)
}
const list: Parse = (value) =>
  value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)

const sentinels: Parse = (value, name) => {
  const list = value
    .split(',')
    .map((part) => part.trim())
    .filter(Boolean)
  if (list.length === 0) throw new Error(`${name} must list sentinels as host:port,host:port, got '${value}'`)
  return list.map((address) => {
    const match = /^(.+):(\d{1,5})$/.exec(address)
    if (!match) throw new Error(`${name} must list sentinels as host:port,host:port, got '${address}'`)
    return { host: match[1]!.replace(/^\[(.*)\]$/, '$1'), port: Number(match[2]) }
  })
}

/** An engine option, or one nested in `rateLimit`, `redis`, `embeddings`, `refreshAhead`, `warmUp`, `capacity`, or per provider in `upstream` and `upstreamApiKey`. */
type OptionPath =
  | keyof AiCacheOptions
  | `rateLimit.${string}`
  | `redis.${string}`
  | `embeddings.${string}`
  | `refreshAhead.${string}`
  | `warmUp.${string}`
  | `capacity.${string}`
  | 'upstream.anthropic'
  | 'upstreamApiKey.anthropic'

/**
 * Environment variables and the engine option each one sets (a nested one
 * as `rateLimit.identity`). The same option names are accepted as keys of
 * the JSON config file (`AICACHE_CONFIG`). docs/configuration.md lists them.
 */
export const environmentOptions: ReadonlyArray<readonly [variable: string, option: OptionPath, parse: Parse]> = [
  ['AICACHE_UPSTREAM_URL', 'upstream', text],
  ['AICACHE_UPSTREAM_API_KEY', 'upstreamApiKey', text],
  // Anthropic's upstream and key beside the OpenAI-compatible one (see withProviderUpstreams).
  ['AICACHE_ANTHROPIC_URL', 'upstream.anthropic', text],
  ['AICACHE_ANTHROPIC_API_KEY', 'upstreamApiKey.anthropic', text],
  ['AICACHE_UPSTREAM_TIMEOUT_MS', 'upstreamTimeoutMs', integer],
  ['AICACHE_TTL_MS', 'ttlMs', integer],
  ['AICACHE_L1_TTL_MS', 'l1TtlMs', integer],
  ['AICACHE_MAX_BYTES', 'maxBytes', integer],
  ['AICACHE_MAX_BODY_BYTES', 'maxBodyBytes', integer],
  ['AICACHE_NAMESPACE', 'namespace', text],
  ['AICACHE_SCOPE', 'scope', scope],
  ['AICACHE_NORMALIZE', 'normalize', normalize],
  ['AICACHE_REDIS_URL', 'redis', text],
  ['REDIS_URL', 'redis', text],
  ['AICACHE_BODY_MEMO_BYTES', 'bodyMemoBytes', integer],
  // Freshness (docs/freshness.md): the two RFC 5861 windows in seconds, and refresh-ahead of hot entries.
  ['AICACHE_STALE_IF_ERROR', 'staleIfErrorMs', seconds],
  ['AICACHE_STALE_WHILE_REVALIDATE', 'staleWhileRevalidateMs', seconds],
  ['AICACHE_REFRESH_AHEAD_MIN_HITS_PER_MINUTE', 'refreshAhead.minHitsPerMinute', integer],
  ['AICACHE_REFRESH_AHEAD_LEAD_MS', 'refreshAhead.leadMs', integer],
  ['AICACHE_RATE_LIMIT_REQUESTS_PER_MINUTE', 'rateLimit.requestsPerMinute', integer],
  ['AICACHE_RATE_LIMIT_TOKENS_PER_MINUTE', 'rateLimit.tokensPerMinute', integer],
  ['AICACHE_RATE_LIMIT_IDENTITY', 'rateLimit.identity', identity],
  // Instead of a Redis URL: the sentinels and the master group they watch.
  ['AICACHE_REDIS_SENTINELS', 'redis.sentinels', sentinels],
  // After the Redis URL or sentinels, which they need.
  ['AICACHE_REDIS_SENTINEL_NAME', 'redis.name', text],
  ['AICACHE_REDIS_INFO_INTERVAL_MS', 'redis.infoIntervalMs', integer],
  ['AICACHE_REDIS_LOCAL_TTL_MS', 'redis.localTtlMs', integer],
  ['AICACHE_REDIS_MAX_NAMESPACES', 'redis.maxNamespaces', integer],
  ['AICACHE_EMBEDDINGS_BATCH_WINDOW_MS', 'embeddings.batchWindowMs', integer],
  // Warm-up from Redis (docs/warm-up.md): the switch first, its bounds after it.
  ['AICACHE_WARM_UP', 'warmUp', flag],
  ['AICACHE_WARM_UP_NAMESPACES', 'warmUp.namespaces', list],
  ['AICACHE_WARM_UP_MAX_ENTRIES', 'warmUp.maxEntries', integer],
  ['AICACHE_WARM_UP_MAX_BYTES', 'warmUp.maxBytes', integer],
  ['AICACHE_WARM_UP_TIMEOUT_MS', 'warmUp.timeoutMs', integer],
  // The load forecast (docs/capacity.md): on with its defaults, or any of its options below.
  ['AICACHE_CAPACITY', 'capacity', onOff],
  ['AICACHE_CAPACITY_INTERVAL_MS', 'capacity.intervalMs', integer],
  ['AICACHE_CAPACITY_TARGET_UTILISATION', 'capacity.targetUtilisation', number],
  ['AICACHE_CAPACITY_MIN_INSTANCES', 'capacity.minInstances', integer],
  ['AICACHE_CAPACITY_MAX_INSTANCES', 'capacity.maxInstances', integer],
  ['AICACHE_CAPACITY_INSTANCE_CONCURRENCY', 'capacity.instanceConcurrency', integer],
  ['AICACHE_CAPACITY_INSTANCE_REQUESTS_PER_SECOND', 'capacity.instanceRequestsPerSecond', number],
]

/** Sets `option` (nested under `rateLimit`, `redis`, `embeddings`, `refreshAhead`, `warmUp`, `capacity` or `upstream` when dotted), keeping what the file set beside it. */
function setOption(options: Record<string, unknown>, option: OptionPath, value: unknown, variable: string): void {
  const [parent, child] = option.split('.') as [string, string | undefined]
  if (child === undefined) return void (options[parent] = value)
  let nested = options[parent]
  // One OpenAI-compatible URL or key, and Anthropic's beside it.
  if ((parent === 'upstream' || parent === 'upstreamApiKey') && (typeof nested === 'string' || nested instanceof URL)) nested = { openai: nested }
  // A Redis URL becomes the layer's options object, so that its other options can go beside it.
  if (parent === 'redis' && typeof nested === 'string') nested = { redis: nested }
  if (parent === 'redis' && nested === undefined && child !== 'sentinels') {
    throw new Error(`${variable} needs a Redis URL (REDIS_URL) or sentinels (AICACHE_REDIS_SENTINELS)`)
  }
  // AICACHE_WARM_UP=false turns the warm-up off, whatever bounds are set beside it.
  if (parent === 'warmUp' && nested === false) return
  options[parent] = { ...(nested as object | undefined), [child]: value }
}

interface ConfigFile extends AiCacheOptions {
  port?: number
  host?: string
  adminToken?: string
}

function readConfigFile(path: string | undefined): ConfigFile {
  if (!path) return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'))
  } catch (error) {
    throw new Error(`AICACHE_CONFIG: cannot read ${path}: ${(error as Error).message}`, { cause: error })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new Error(`AICACHE_CONFIG: ${path} must hold a JSON object`)
  }
  return parsed as ConfigFile
}

/** Anthropic's API, where `/v1/messages` goes when only the OpenAI-compatible upstream is set. */
export const defaultAnthropicUrl = 'https://api.anthropic.com/v1'

/**
 * One upstream per provider once any is configured: the OpenAI-compatible
 * one (`AICACHE_UPSTREAM_URL`), Anthropic's (`AICACHE_ANTHROPIC_URL`,
 * {@link defaultAnthropicUrl} when unset), each with its own key. With
 * neither set, `upstream` stays unset and the gateway starts its demo
 * upstream, which speaks every format.
 */
function withProviderUpstreams(options: Record<string, unknown>): Record<string, unknown> {
  const { upstream, upstreamApiKey } = options
  if (upstream === undefined || upstream === '') return options
  const urls = typeof upstream === 'string' || upstream instanceof URL ? { openai: upstream } : (upstream as Record<string, unknown>)
  const keys = typeof upstreamApiKey === 'string' ? { openai: upstreamApiKey } : upstreamApiKey
  return { ...options, upstream: { anthropic: defaultAnthropicUrl, ...urls }, ...(keys === undefined ? {} : { upstreamApiKey: keys }) }
}

/**
 * Reads the configuration: the JSON file named by `AICACHE_CONFIG` first,
 * then environment variables over it. Throws with the variable's name when
 * a value is malformed; the engine checks the rest when it is created.
 */
export function loadConfig(environment: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const { port, host, adminToken, ...cache } = readConfigFile(environment['AICACHE_CONFIG'])
  const options: Record<string, unknown> = { ...cache }
  for (const [variable, option, parse] of environmentOptions) {
    const value = environment[variable]
    // The first variable that is set wins (AICACHE_REDIS_URL over REDIS_URL).
    if (value !== undefined && value !== '' && !(option in options && variable === 'REDIS_URL')) {
      setOption(options, option, parse(value, variable), variable)
    }
  }
  return {
    port: environment['PORT'] ? (integer(environment['PORT'], 'PORT') as number) : (port ?? 8787),
    host: environment['HOST'] || host || '127.0.0.1',
    adminToken: environment['AICACHE_ADMIN_TOKEN'] || adminToken || undefined,
    cache: withProviderUpstreams(options) as AiCacheOptions,
    semantic: semanticConfig(environment),
  }
}
