/** Name of the variable through which the runner tells a server where the fake upstream is. */
export const UPSTREAM_URL_VARIABLE = 'FAKE_UPSTREAM_URL'

/** The fake upstream's base URL ('http://127.0.0.1:PORT/v1'), failing loudly when the runner did not pass it. */
export function upstreamUrl(): string {
  const url = process.env[UPSTREAM_URL_VARIABLE]
  if (!url) throw new Error(`${UPSTREAM_URL_VARIABLE} is not set; benchmark servers are started by the bench runner`)
  return url
}

/** Name of the variable naming a file with the bytes `bare-replay` serves. */
export const REPLAY_BODY_FILE_VARIABLE = 'REPLAY_BODY_FILE'
/** Name of the variable holding the JSON headers `bare-replay` sends with them. */
export const REPLAY_HEADERS_VARIABLE = 'REPLAY_HEADERS'

/** A variable the runner must have set, failing loudly when it did not. */
export function requiredVariable(name: string): string {
  const value = process.env[name]
  if (!value) throw new Error(`${name} is not set; benchmark servers are started by the bench runner`)
  return value
}

/** Name of the variable holding the JSON options (`redis`, `memoryTier`, `rateLimit`) of `aicache-express-options`. */
export const AICACHE_OPTIONS_VARIABLE = 'AICACHE_BENCH_OPTIONS'

/** Name of the variable holding the Redis URL of the servers that use Redis. */
export const REDIS_URL_VARIABLE = 'BENCH_REDIS_URL'

/** Name of the variable choosing apicache's key: 'url' (its default) or, when unset, the URL and a hash of the body. */
export const APICACHE_KEY_VARIABLE = 'APICACHE_KEY'
