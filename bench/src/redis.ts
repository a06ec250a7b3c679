/**
 * Redis for the scenarios that need it: a real redis-server owned by a child
 * of the runner (`src/servers/redis-server.ts`), and the runner's own checks
 * and measurements against it (redis-benchmark, single GET round trips).
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { Redis } from 'ioredis'
import { processCpuSeconds } from './cpu-time.js'
import { startProcess, type RunningProcess } from './process.js'
import { percentile } from './statistics.js'

const execFileAsync = promisify(execFile)

/** A running redis-server. */
export interface BenchRedis {
  readonly port: number
  /** 'redis://127.0.0.1:PORT'. */
  readonly url: string
  /** The node process owning redis-server: stopping it stops Redis. */
  readonly process: RunningProcess
  /** Pid of redis-server itself, whose CPU time the scenarios read. */
  readonly redisPid: number
}

/** Starts redis-server on a free loopback port (no persistence) and waits until it accepts connections. */
export async function startRedis(name = 'redis'): Promise<BenchRedis> {
  const running = await startProcess({
    name,
    scriptPath: fileURLToPath(new URL('./servers/redis-server.js', import.meta.url)),
    readyPattern: /^redis listening (\d+ \d+)$/,
  })
  const [port, redisPid] = running.readyValue.split(' ').map(Number) as [number, number]
  return { port, url: `redis://127.0.0.1:${port}`, process: running, redisPid }
}

/** A client of the runner's own, closed by the caller. */
export function redisClient(redis: BenchRedis): Redis {
  return new Redis(redis.port, '127.0.0.1', { lazyConnect: false, maxRetriesPerRequest: 1 })
}

/** Keys matching `pattern` (SCAN, so never blocking Redis for long). */
export async function scanKeys(client: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = []
  let cursor = '0'
  do {
    const [next, batch] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 1000)
    cursor = next
    keys.push(...batch)
  } while (cursor !== '0')
  return keys
}

/** What redis-benchmark printed for GET. */
export interface RedisBenchmarkResult {
  getsPerSecond: number
  /** The p50 it reports, where its version prints one. */
  p50Ms: number | undefined
  /** The line it printed, as is. */
  line: string
}

/**
 * `redis-benchmark -t get -c <connections> -n <requests> -q` against `port`,
 * after storing `valueBytes` under the key it reads (`key:__rand_int__`), so
 * its GETs return a value as large as the one compared with.
 */
export async function runRedisBenchmark(
  client: Redis,
  port: number,
  options: { requests: number; connections: number; valueBytes: number },
): Promise<RedisBenchmarkResult> {
  await client.set('key:__rand_int__', Buffer.alloc(options.valueBytes, 'x'))
  const args = ['-h', '127.0.0.1', '-p', String(port), '-t', 'get', '-n', String(options.requests), '-c', String(options.connections), '-q']
  const { stdout } = await execFileAsync('redis-benchmark', args, { timeout: 60_000 })
  await client.del('key:__rand_int__')
  // '-q' prints progress lines separated by '\r' before the result line.
  const line =
    stdout
      .split(/[\r\n]/)
      .map((text) => text.trim())
      .filter((text) => text.startsWith('GET:'))
      .at(-1) ?? ''
  const rate = /GET:\s*([\d.]+) requests per second/.exec(line)
  if (rate === null) throw new Error(`redis-benchmark printed no GET result: ${stdout.slice(-300)}`)
  const p50 = /p50=([\d.]+) msec/.exec(line)
  return { getsPerSecond: Number(rate[1]), p50Ms: p50 === null ? undefined : Number(p50[1]), line }
}

/** p50 and p99 of `count` sequential GETs of `key` from this process (after a few unmeasured ones), and their total time. */
export async function timeSequentialGets(client: Redis, key: string, count: number): Promise<{ p50Ms: number; p99Ms: number; totalMs: number }> {
  for (let index = 0; index < 200; index++) await client.getBuffer(key)
  const durationsMs = new Float64Array(count)
  const firstStartedAt = process.hrtime.bigint()
  for (let index = 0; index < count; index++) {
    const startedAt = process.hrtime.bigint()
    await client.getBuffer(key)
    durationsMs[index] = Number(process.hrtime.bigint() - startedAt) / 1e6
  }
  const totalMs = Number(process.hrtime.bigint() - firstStartedAt) / 1e6
  durationsMs.sort()
  return { p50Ms: percentile(durationsMs, 50), p99Ms: percentile(durationsMs, 99), totalMs }
}

/** Calls per command Redis has executed so far (INFO commandstats), e.g. { get: 12, evalsha: 3 }. */
export async function redisCommandCalls(client: Redis): Promise<Record<string, number>> {
  const stats = await client.info('commandstats')
  const calls: Record<string, number> = {}
  for (const match of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) calls[match[1]!] = Number(match[2])
  return calls
}

/** Redis's share of a run: commands it executed and CPU seconds redis-server used meanwhile. */
export interface RedisShare {
  redisCommands?: number
  /** The same, per command name (INFO left out). */
  redisCommandsByName?: Record<string, number>
  redisCpuSeconds?: number
}

/** Runs `run` and adds the commands Redis executed and the CPU redis-server used meanwhile. */
export async function withRedisShare<Result extends object>(redis: BenchRedis, client: Redis, run: () => Promise<Result>): Promise<Result & RedisShare> {
  const callsBefore = await redisCommandCalls(client)
  const cpuBefore = processCpuSeconds(redis.redisPid)
  const result = await run()
  const cpuAfter = processCpuSeconds(redis.redisPid)
  const callsAfter = await redisCommandCalls(client)
  const byName: Record<string, number> = {}
  for (const [name, count] of Object.entries(callsAfter)) {
    const delta = count - (callsBefore[name] ?? 0)
    if (name !== 'info' && delta > 0) byName[name] = delta
  }
  const share: RedisShare = { redisCommands: Object.values(byName).reduce((sum, count) => sum + count, 0), redisCommandsByName: byName }
  if (cpuBefore !== undefined && cpuAfter !== undefined) share.redisCpuSeconds = cpuAfter - cpuBefore
  return { ...result, ...share }
}

/** 'evalsha 2.00, get 1.00': commands per response of a run, most frequent first. */
export function describeCommandsPerResponse(share: RedisShare, responses: number): string {
  const entries = Object.entries(share.redisCommandsByName ?? {}).sort((left, right) => right[1] - left[1])
  if (entries.length === 0) return 'none'
  return entries.map(([name, count]) => `${name} ${(count / responses).toFixed(2)}`).join(', ')
}
