import { createHash } from 'node:crypto'
import type { RedisClient } from './redis-client.js'

/** A Lua script, sent by its SHA1 and loaded on the first NOSCRIPT. */
export interface LuaScript {
  readonly source: string
  readonly sha1: string
}

function script(source: string): LuaScript {
  return { source, sha1: createHash('sha1').update(source).digest('hex') }
}

/**
 * Runs a script with EVALSHA, falling back to EVAL once a server answers
 * NOSCRIPT (a restarted server or a cluster node that has not seen it yet).
 * Used instead of `defineCommand` so that a client the application passed in
 * is never given new methods.
 */
export async function runScript(client: RedisClient, lua: LuaScript, keys: readonly string[], args: ReadonlyArray<string | Buffer | number>): Promise<unknown> {
  try {
    return await client.evalsha(lua.sha1, keys.length, ...keys, ...args)
  } catch (error) {
    if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error
    return await client.eval(lua.source, keys.length, ...keys, ...args)
  }
}

/**
 * Writes an entry and, when a lock on its key is held (someone may be
 * waiting), publishes the key so that waiters read it at once.
 * KEYS: entry, lock. ARGV: value, ttl ms, written channel, cache key.
 */
export const writeEntryScript = script(`
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('PUBLISH', ARGV[3], ARGV[4])
end
return 1`)

/**
 * Deletes an entry and broadcasts the deletion in one step, so that other
 * instances never miss a deletion that happened.
 * KEYS: entry. ARGV: invalidation channel, message.
 */
export const deleteEntryScript = script(`
redis.call('DEL', KEYS[1])
redis.call('PUBLISH', ARGV[1], ARGV[2])
return 1`)

/**
 * Releases a lock only if this holder still owns it (an expired lock may
 * belong to someone else by now), leaves its failure for the waiters (or
 * clears an older one: what waiters find is always the last holder's), and
 * wakes them. KEYS: lock, failure. ARGV: token, written channel, cache key,
 * failure ('' for none), failure ttl ms.
 */
export const releaseLockScript = script(`
if redis.call('GET', KEYS[1]) == ARGV[1] then
  if ARGV[4] == '' then
    redis.call('DEL', KEYS[2])
  else
    redis.call('SET', KEYS[2], ARGV[4], 'PX', ARGV[5])
  end
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
return 0`)

/**
 * Bumps a namespace generation to one past both the stored value and the
 * caller's own copy (the floor): a Redis that lost its data never hands out
 * a generation some instance has already used. Publishes the new value in
 * the same step. KEYS: generation. ARGV: floor, channel, message prefix
 * (the JSON message up to the generation), message suffix.
 */
export const bumpGenerationScript = script(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local floor = tonumber(ARGV[1]) or 0
if current < floor then current = floor end
current = current + 1
redis.call('SET', KEYS[1], current)
redis.call('PUBLISH', ARGV[2], ARGV[3] .. current .. ARGV[4])
return current`)

/**
 * Reads a namespace generation for a resync. A stored value below the
 * caller's copy means Redis lost it (restart without persistence, eviction):
 * bumps made meanwhile may have restarted from 0, so the namespace is bumped
 * past the caller's copy and the bump published, invalidating it everywhere.
 * KEYS: generation. ARGV: caller's copy, channel, message prefix, message suffix.
 */
export const resyncGenerationScript = script(`
local current = tonumber(redis.call('GET', KEYS[1]) or '0') or 0
local known = tonumber(ARGV[1]) or 0
if current < known then
  current = known + 1
  redis.call('SET', KEYS[1], current)
  redis.call('PUBLISH', ARGV[2], ARGV[3] .. current .. ARGV[4])
end
return current`)
