import { startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisCluster, startRedisServer } from '@aicache/testkit/redis'
import { afterEach, describe, expect, it } from 'vitest'
import { AiCache } from '../engine/engine.js'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { redisMetric } from '../telemetry/redis-instruments.js'
import { sdk } from '../../test/support/test-sdk.js'
import { memoryAdvice, parseInfo, type RedisServerFacts } from './redis-info.js'
import { closeClient, clusterClient, eventually, rawClient } from '../../test/support/redis-test-support.js'

/**
 * Redis's own facts (`INFO`) in `stats().redis.server` and the metrics, and
 * the one warning at start about memory settings unfit for a cache. Real
 * Redis servers with the settings under test.
 */

describe('memoryAdvice', () => {
  const info = (lines: string[]) => parseInfo(`# Memory\r\n${lines.join('\r\n')}\r\n`)
  it('names no maxmemory, then noeviction, and accepts evicting policies', () => {
    expect(memoryAdvice(info(['maxmemory:0', 'maxmemory_policy:allkeys-lru']))).toMatch(/no maxmemory.*CONFIG SET maxmemory 1gb/)
    expect(memoryAdvice(info(['maxmemory:1048576', 'maxmemory_policy:noeviction']))).toMatch(/noeviction.*allkeys-lru/)
    // Every entry aicache writes has a TTL, so volatile-* policies evict them too.
    for (const policy of ['allkeys-lru', 'allkeys-lfu', 'volatile-lru', 'volatile-ttl', 'allkeys-random']) {
      expect(memoryAdvice(info(['maxmemory:1048576', `maxmemory_policy:${policy}`]))).toBeUndefined()
    }
  })
})

describe.skipIf(skipWithoutRedis())('Redis INFO facts', () => {
  const cleanups: Array<() => Promise<void>> = []
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
  })

  async function server(extra: string[]): Promise<RedisServer> {
    const started = await startRedisServer(extra)
    cleanups.push(() => started.stop())
    return started
  }

  function engine(url: string, options: { infoIntervalMs: number; warnings: string[] }) {
    const { warnings } = options
    const cache = new AiCache({
      redis: { redis: url, infoIntervalMs: options.infoIntervalMs, onWarning: (message) => warnings.push(message), onStateChange: () => {} },
    })
    cleanups.push(() => cache.close())
    return cache
  }

  it('shows evictions past a small maxmemory in stats() and in the metrics', async () => {
    const redis = await server(['--maxmemory', '4mb', '--maxmemory-policy', 'allkeys-lru'])
    const telemetry = sdk()
    const warnings: string[] = []
    const fake = await startFakeUpstream()
    cleanups.push(() => fake.close())
    const gateway = await startTestGateway({
      upstream: fake.url,
      redis: { redis: redis.url, infoIntervalMs: 100, onWarning: (message) => warnings.push(message) },
      telemetry: { meterProvider: telemetry.meterProvider },
    })
    cleanups.push(gateway.close)
    const { cache } = gateway
    await cache.ready()
    // Instruments are made with the first request the engine observes.
    const asked = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(asked.status).toBe(200)
    const first = await eventually(() => cache.stats().redis?.server, 5_000, 'the first INFO read')
    expect(first).toMatchObject({ maxMemoryBytes: 4 * 1024 * 1024, maxMemoryPolicy: 'allkeys-lru', evictedKeys: 0, nodes: 1 })
    expect(await telemetry.sum(redisMetric.memoryMax)).toBe(4 * 1024 * 1024)
    expect(await telemetry.sum(redisMetric.connected)).toBe(1)
    // 12 MB of entries under aicache's prefix into 4 MB.
    const client = rawClient(redis.url)
    cleanups.push(async () => client.disconnect())
    const value = Buffer.alloc(100_000, 1)
    const fill = client.pipeline()
    for (let index = 0; index < 120; index++) fill.set(`aicache:{fill-${index}}:entry`, value, 'PX', 600_000)
    await fill.exec()
    await client.get('aicache:{fill-119}:entry')
    await client.get('aicache:{never-written}:entry')
    const later = (await eventually(
      () => {
        const server = cache.stats().redis?.server
        return server !== undefined && server.evictedKeys > 0 && server.keyspaceMisses > 0 ? server : false
      },
      5_000,
      'evictions in stats()',
    )) as RedisServerFacts
    expect(later.usedMemoryBytes).toBeGreaterThan(1_000_000)
    expect(later.usedMemoryBytes).toBeLessThanOrEqual(6 * 1024 * 1024)
    expect(later.keys).toBeLessThan(120)
    expect(await telemetry.sum(redisMetric.evictedKeys)).toBeGreaterThan(0)
    expect(await telemetry.sum(redisMetric.keyspaceHits)).toBeGreaterThan(0)
    expect(await telemetry.sum(redisMetric.memoryUsed)).toBeGreaterThan(1_000_000)
    expect(warnings).toEqual([])
  }, 60_000)

  it('warns once, with the fix, when Redis has no maxmemory', async () => {
    const redis = await server([])
    const warnings: string[] = []
    const cache = engine(redis.url, { infoIntervalMs: 50, warnings })
    await cache.ready()
    // Several reads later, still one warning.
    const first = (await eventually(() => cache.stats().redis?.server?.readAt ?? false, 5_000, 'a first read')) as number
    await eventually(() => (cache.stats().redis?.server?.readAt ?? 0) > first + 200, 5_000, 'more reads')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^aicache: Redis has no maxmemory.*CONFIG SET maxmemory 1gb and CONFIG SET maxmemory-policy allkeys-lru/)
  })

  it('warns once when a full Redis would refuse writes (noeviction), also with the INFO reading off', async () => {
    const redis = await server(['--maxmemory', '64mb', '--maxmemory-policy', 'noeviction'])
    const warnings: string[] = []
    const cache = engine(redis.url, { infoIntervalMs: 0, warnings })
    await cache.ready()
    await eventually(() => warnings.length > 0, 5_000, 'the warning')
    expect(warnings).toEqual([expect.stringMatching(/maxmemory-policy noeviction, so once full it refuses every write.*allkeys-lru/)])
    // Off: the check ran, and nothing is read on an interval.
    expect(cache.stats().redis?.server).toMatchObject({ maxMemoryPolicy: 'noeviction' })
    const { readAt } = cache.stats().redis!.server!
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(cache.stats().redis?.server?.readAt).toBe(readAt)
  })

  it('reads every master of a Cluster, sums them, and names the unfit nodes in its one warning', async () => {
    const cluster = await startRedisCluster()
    cleanups.push(() => cluster.stop())
    const client = await clusterClient(cluster)
    cleanups.push(async () => closeClient(client))
    const warnings: string[] = []
    const cache = new AiCache({ redis: { redis: client, infoIntervalMs: 100, onWarning: (message) => warnings.push(message), onStateChange: () => {} } })
    cleanups.push(() => cache.close())
    await cache.ready()
    const server = (await eventually(() => cache.stats().redis?.server ?? false, 5_000, 'INFO of the cluster')) as RedisServerFacts
    expect(server.nodes).toBe(3)
    expect(server.usedMemoryBytes).toBeGreaterThan(3 * 500_000)
    expect(warnings).toHaveLength(1)
    expect(warnings[0]!.match(/node 127\.0\.0\.1:\d+ has no maxmemory/g)).toHaveLength(3)
  }, 60_000)

  it('says nothing and records nothing of Redis without Redis', async () => {
    const telemetry = sdk()
    const fake = await startFakeUpstream()
    cleanups.push(() => fake.close())
    const gateway = await startTestGateway({ upstream: fake.url, telemetry: { meterProvider: telemetry.meterProvider } })
    cleanups.push(gateway.close)
    await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hello' }] }),
    })
    expect(gateway.cache.stats().redis).toBeUndefined()
    // The instruments exist (the memory tier's are there), the Redis ones observe nothing.
    expect(await telemetry.points('aicache.memory.entries')).toHaveLength(1)
    expect(await telemetry.points(redisMetric.connected)).toEqual([])
    expect(await telemetry.points(redisMetric.evictedKeys)).toEqual([])
  })
})
