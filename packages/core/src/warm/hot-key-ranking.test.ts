import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import type { Redis } from 'ioredis'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { rawClient } from '../../test/support/redis-test-support.js'
import { HotKeyRanking } from './hot-key-ranking.js'

const periodMs = 60_000

describe.skipIf(skipWithoutRedis())('HotKeyRanking on a real Redis', () => {
  let server: RedisServer
  let client: Redis
  let nowMs = 10 * periodMs
  beforeAll(async () => {
    server = await startRedisServer()
    client = rawClient(server.url)
  })
  afterAll(async () => {
    client.disconnect()
    await server.stop()
  })
  beforeEach(async () => {
    nowMs = 10 * periodMs
    await client.flushall()
  })

  function ranking(maxRankedKeys = 100) {
    return new HotKeyRanking({ client, prefix: 'test', periodMs, periods: 3, maxRankedKeys, timeoutMs: 2_000, now: () => nowMs })
  }

  it('adds counts of several flushes and ranks the most asked-for first', async () => {
    const hot = ranking()
    await hot.add([
      {
        namespace: 'default',
        generation: 0,
        counts: [
          ['a', 1],
          ['b', 4],
        ],
      },
    ])
    await hot.add([
      {
        namespace: 'default',
        generation: 0,
        counts: [
          ['a', 2],
          ['c', 1],
        ],
      },
    ])
    expect(await hot.top('default', 0, 10)).toEqual([
      { key: 'b', score: 4 },
      { key: 'a', score: 3 },
      { key: 'c', score: 1 },
    ])
    expect(await hot.top('default', 0, 1)).toEqual([{ key: 'b', score: 4 }])
    // Another namespace, or another generation of this one, is ranked apart.
    expect(await hot.top('default', 1, 10)).toEqual([])
    expect(await hot.top('docs', 0, 10)).toEqual([])
  })

  it('weighs each older period half as much, and forgets periods past the look-back', async () => {
    const hot = ranking()
    await hot.add([{ namespace: 'default', generation: 0, counts: [['old', 8]] }])
    nowMs += periodMs
    await hot.add([{ namespace: 'default', generation: 0, counts: [['new', 5]] }])
    // 8 a period ago weighs 4: 5 now wins.
    expect(await hot.top('default', 0, 10)).toEqual([
      { key: 'new', score: 5 },
      { key: 'old', score: 4 },
    ])
    nowMs += 2 * periodMs
    expect(await hot.top('default', 0, 10)).toEqual([{ key: 'new', score: 1.25 }])
    // Each set expires after the look-back, so Redis forgets it by itself.
    const ttlMs = await client.pttl(hot.setKey('default', 0, 11))
    expect(ttlMs).toBeGreaterThan(0)
    expect(ttlMs).toBeLessThanOrEqual(3 * periodMs)
  })

  it('keeps only the maxRankedKeys highest counts of a set', async () => {
    const hot = ranking(2)
    await hot.add([
      {
        namespace: 'default',
        generation: 0,
        counts: [
          ['a', 3],
          ['b', 1],
          ['c', 2],
        ],
      },
    ])
    expect(await client.zcard(hot.setKey('default', 0, 10))).toBe(2)
    expect((await hot.top('default', 0, 10)).map(({ key }) => key)).toEqual(['a', 'c'])
  })
})
