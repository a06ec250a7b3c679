import { readFileSync } from 'node:fs'
import type { AiCacheOptions } from '@aicache/express'

/** Everything the gateway is configured with. */
export interface GatewayConfig {
  port: number
  host: string
  /** Bearer token of the admin routes; without it they do not exist. */
  adminToken: string | undefined
  cache: AiCacheOptions
}

type Parse = (value: string, name: string) => unknown

const integer: Parse = (value, name) => {
  const number = Number(value)
  if (!Number.isSafeInteger(number) || number < 0) throw new Error(`${name} must be a whole number, got '${value}'`)
  return number
}
const text: Parse = (value) => value
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

/** An engine option, or one nested in `rateLimit` or `redis`. */
type OptionPath = keyof AiCacheOptions | `rateLimit.${string}` | `redis.${string}` | `capacity.${string}`

/**
 * Environment variables and the engine option each one sets (a nested one
 * as `rateLimit.identity`). The same option names are accepted as keys of
 * the JSON config file (`AICACHE_CONFIG`). docs/configuration.md lists them.
 */
export const environmentOptions: ReadonlyArray<readonly [variable: string, option: OptionPath, parse: Parse]> = [
  ['AICACHE_UPSTREAM_URL', 'upstream', text],
  ['AICACHE_UPSTREAM_API_KEY', 'upstreamApiKey', text],
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
  // The load forecast (docs/capacity.md): on with its defaults, or any of its options below.
  ['AICACHE_CAPACITY', 'capacity', onOff],
  ['AICACHE_CAPACITY_INTERVAL_MS', 'capacity.intervalMs', integer],
  ['AICACHE_CAPACITY_TARGET_UTILISATION', 'capacity.targetUtilisation', number],
  ['AICACHE_CAPACITY_MIN_INSTANCES', 'capacity.minInstances', integer],
  ['AICACHE_CAPACITY_MAX_INSTANCES', 'capacity.maxInstances', integer],
  ['AICACHE_CAPACITY_INSTANCE_CONCURRENCY', 'capacity.instanceConcurrency', integer],
  ['AICACHE_CAPACITY_INSTANCE_REQUESTS_PER_SECOND', 'capacity.instanceRequestsPerSecond', number],
]

/** Sets `option` (nested under `rateLimit`, `redis` or `capacity` when dotted), keeping what the file set beside it. */
function setOption(options: Record<string, unknown>, option: OptionPath, value: unknown, variable: string): void {
  const [parent, child] = option.split('.') as [string, string | undefined]
  if (child === undefined) return void (options[parent] = value)
  let nested = options[parent]
  // A Redis URL becomes the layer's options object, so that its other options can go beside it.
  if (parent === 'redis' && typeof nested === 'string') nested = { redis: nested }
  if (parent === 'redis' && nested === undefined && child !== 'sentinels') {
    throw new Error(`${variable} needs a Redis URL (REDIS_URL) or sentinels (AICACHE_REDIS_SENTINELS)`)
  }
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
    cache: options as AiCacheOptions,
  }
}
