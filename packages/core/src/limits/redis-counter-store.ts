import type { Cluster, Redis } from 'ioredis'
import { AiCacheError } from '../errors.js'
import type { CounterChange, CounterStore, CounterUpdate } from './counter-store.js'

/** Options of {@link createRedisCounterStore}. */
export interface RedisCounterStoreOptions {
  /** Prefix of every key; must not contain `{` or `}`. @default 'aicache:rate:' */
  prefix?: string
  /**
   * Whose clock decides: `'server'` (Redis `TIME`), so instances whose clocks
   * disagree still share one budget, or `'caller'` (the `nowMs` passed in,
   * e.g. a test's fake clock). @default 'server'
   */
  clock?: 'server' | 'caller'
}

// The one script. KEYS: the scope's counters. ARGV: use server time (1|0),
// the caller's now, then (addMs, maxAheadMs or -1 for none) per key.
// Numbers go out as strings: Redis would truncate a Lua number to an integer.
const updateScript = `
local now = tonumber(ARGV[2])
if ARGV[1] == '1' then
  local time = redis.call('TIME')
  now = tonumber(time[1]) * 1000 + tonumber(time[2]) / 1000
end
local found, next = {}, {}
local applied = 1
for i = 1, #KEYS do
  local raw = redis.call('GET', KEYS[i])
  local add = tonumber(ARGV[1 + 2 * i])
  local maxAhead = tonumber(ARGV[2 + 2 * i])
  found[i] = math.max(raw and tonumber(raw) or now, now)
  next[i] = math.max(found[i] + add, now)
  if add > 0 and maxAhead >= 0 and next[i] - now > maxAhead then applied = 0 end
end
local values = found
if applied == 1 then
  values = next
  for i = 1, #KEYS do
    if next[i] > now then
      redis.call('SET', KEYS[i], string.format('%.17g', next[i]), 'PX', math.ceil(next[i] - now) + 1000)
    else
      redis.call('DEL', KEYS[i])
    end
  end
end
local reply = { tostring(applied), string.format('%.17g', now) }
for i = 1, #KEYS do reply[#reply + 1] = string.format('%.17g', values[i]) end
return reply
`

const commandName = 'aicacheRateCounterUpdate'

type UpdateCommand = (...arguments_: Array<string | number>) => Promise<string[]>

/**
 * Counters in Redis, shared by every instance, updated atomically by one Lua
 * script (registered with `defineCommand`, so it is sent by `EVALSHA`). A
 * scope's keys carry a hash tag, `prefix{scope}:counter`, so they live in one
 * slot and the script also runs on a Redis Cluster.
 *
 * The store throws when Redis does; the limiter above it fails open.
 *
 * @example
 * ```ts
 * import { Redis } from 'ioredis'
 * const store = createRedisCounterStore(new Redis(process.env.REDIS_URL))
 * ```
 */
export function createRedisCounterStore(client: Redis | Cluster, options: RedisCounterStoreOptions = {}): CounterStore {
  const prefix = options.prefix ?? 'aicache:rate:'
  if (/[{}]/.test(prefix)) {
    throw new AiCacheError('invalid_option', `Option 'prefix' must not contain '{' or '}', got ${prefix}`, { param: 'prefix' })
  }
  const serverClock = (options.clock ?? 'server') === 'server'
  // Several stores may share one client; the command is defined once on it.
  const commands = client as unknown as Record<string, UpdateCommand | undefined>
  if (typeof commands[commandName] !== 'function') client.defineCommand(commandName, { lua: updateScript })
  const command = commands[commandName]!.bind(client)

  async function update(scope: string, changes: readonly CounterChange[], nowMs: number): Promise<CounterUpdate> {
    const keys = changes.map((change) => `${prefix}{${scope}}:${change.counter}`)
    const limits = changes.flatMap((change) => [change.addMs, Number.isFinite(change.maxAheadMs) ? change.maxAheadMs : -1])
    const reply = await command(keys.length, ...keys, serverClock ? 1 : 0, nowMs, ...limits)
    return { applied: reply[0] === '1', nowMs: Number(reply[1]), values: reply.slice(2).map(Number) }
  }

  return { update }
}
