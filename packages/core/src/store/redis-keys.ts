/**
 * Names of everything the Redis layer keeps in Redis, in one place so that
 * instances of one deployment always agree on them.
 *
 * Cluster placement (https://redis.io/docs/latest/operate/oss_and_stack/reference/cluster-spec/#hash-tags):
 * only the part between the first `{` and the next `}` is hashed. Each cache
 * key is its own hash tag, so entries spread over all slots while an entry
 * its lock and its failure marker share one slot (a Lua script may then touch both).
 */
export interface RedisKeys {
  /** The stored entry of a cache key: `${prefix}:{${key}}:entry`. */
  entry(key: string): string
  /** The cross-instance single-flight lock of a cache key: `${prefix}:{${key}}:lock`. */
  lock(key: string): string
  /** The failure the lock's last holder left for its waiters: `${prefix}:{${key}}:failure`. */
  failure(key: string): string
  /** The generation counter of a namespace: `${prefix}:gen:${namespace}`. */
  generation(namespace: string): string
  /** Pub/sub channel of invalidations (namespace bumped, key deleted). */
  readonly invalidationChannel: string
  /** Pub/sub channel that carries a cache key when its entry is written or its lock released. */
  readonly writtenChannel: string
}

/**
 * The key layout under `prefix`. The prefix must not contain braces: a `{`
 * in it would become the hash tag of every key and put them all on one slot.
 *
 * @example
 * ```ts
 * redisKeys('aicache').entry('3f2a') // 'aicache:{3f2a}:entry'
 * ```
 */
export function redisKeys(prefix: string): RedisKeys {
  const tagged = (key: string) => {
    // `{}` is not a hash tag: an empty key would hash entry and lock apart.
    if (key === '') throw new TypeError('A cache key must not be empty')
    return `${prefix}:{${key}}`
  }
  return Object.freeze({
    entry: (key: string) => `${tagged(key)}:entry`,
    lock: (key: string) => `${tagged(key)}:lock`,
    failure: (key: string) => `${tagged(key)}:failure`,
    generation: (namespace: string) => `${prefix}:gen:${namespace}`,
    invalidationChannel: `${prefix}:invalidate`,
    writtenChannel: `${prefix}:written`,
  })
}
