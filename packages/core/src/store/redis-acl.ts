/**
 * The commands aicache sends to Redis, and why. Lua scripts run with the
 * caller's permissions, so the commands inside them (GET, SET, EXISTS, DEL,
 * PUBLISH, TIME) and the keys and channels they touch are listed too.
 */
const commands = [
  'get', // entries (GETBUFFER is GET), failure markers
  'set', // single-flight locks (SET NX PX); entries and generations inside scripts
  'del', // corrupt entries; inside scripts
  'exists', // whether a lock is still held
  'evalsha', // every script, by its digest
  'eval', // the same script after NOSCRIPT (a restarted server, a new cluster node)
  'publish', // invalidations and written keys, inside scripts
  'subscribe', // the invalidation bus
  'time', // the rate limiter's clock, inside its script
  'info', // ioredis's ready check, and the INFO read (memory, evictions)
  'select', // a URL naming a database other than 0
  'xadd', // the semantic cache's stored questions and removals; inside its script
  'xrange', // reading a context's stored questions
  'pttl', // a context stream's remaining life, inside the semantic cache's script
  'pexpire', // extending it, inside the same script; the warm-up's hot-key sets and the capacity counts expire
  // The hot-key ranking of the warm-up (`warmUp`): counts added, trimmed, expired, read.
  'zincrby',
  'zremrangebyrank',
  'zrevrange',
  // The capacity forecast's fleet-wide counts (`capacity`): added per interval in a transaction, read together.
  'multi',
  'exec',
  'incrby',
  'mget',
] as const

/**
 * The ACL rules of a Redis user that can do everything aicache does and
 * nothing else: its keys and channels under `prefix` (plus the rate
 * limiter's `aicache:rate:` keys, which keep that name whatever the prefix)
 * and the commands above. Give them to `ACL SETUSER <name> on ><password>`
 * or to a `user` line of redis.conf or an ACL file (docs/redis.md#acl).
 *
 * @example
 * ```ts
 * redisAclRules() // '~aicache:* &aicache:* -@all +get +set ...'
 * ```
 */
export function redisAclRules(prefix = 'aicache'): string {
  const keys = prefix === 'aicache' ? ['~aicache:*'] : [`~${prefix}:*`, '~aicache:rate:*']
  return [...keys, `&${prefix}:*`, '-@all', ...commands.map((command) => `+${command}`)].join(' ')
}
