import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import type { Redis } from 'ioredis'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import type { BreakerState } from './guarded-remote.js'
import { createRedisLayer, type RedisLayer } from './redis-layer.js'
import { redisKeys } from './redis-keys.js'
import { closeClient, eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { expectSameEntry, sampleEntry } from '../../test/support/store-entries.js'

async function timed<T>(work: Promise<T>): Promise<{ value: T; elapsedMs: number }> {
  const startedAt = performance.now()
  const value = await work
  return { value, elapsedMs: performance.now() - startedAt }
}

describe.skipIf(skipWithoutRedis())('Redis layer fails open', () => {
  let server: RedisServer
  let layer: RedisLayer | undefined
  let raw: Redis | undefined
  let changes: BreakerState[]

  beforeEach(async () => {
    server = await startRedisServer()
    changes = []
  })
  afterEach(async () => {
    await layer?.close()
    closeClient(raw)
    await server.stop()
    layer = undefined
    raw = undefined
  })

  // 300 ms, not the default 100: test machines are shared, and a busy moment must not look like an outage.
  const open = (options: { timeoutMs?: number } = {}) =>
    createRedisLayer({
      redis: server.url,
      timeoutMs: 300,
      onStateChange: (state) => changes.push(state),
      ...options,
    })

  it('misses at once while Redis is dead, opens the breaker once, and recovers after a restart', async () => {
    layer = await open()
    await layer.set('before', sampleEntry())
    expect(await layer.get('before')).toBeDefined()

    await server.kill()
    const { value, elapsedMs } = await timed(layer.get('before'))
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeLessThan(500)
    for (let index = 0; index < 20; index++) {
      await expect(layer.set(`during-${index}`, sampleEntry())).resolves.toBeUndefined()
      expect(await layer.get('before')).toBeUndefined()
    }
    expect(layer.state).toBe('open')
    expect(layer.errors).toBeGreaterThanOrEqual(5)
    expect(changes).toEqual(['open'])
    const removal = await timed(layer.delete('before'))
    expect(removal.elapsedMs).toBeLessThan(50)
    expect((await layer.acquire('during'))?.held).toBe(false)

    await server.restart()
    const entry = sampleEntry({ model: 'after' })
    const layerAfter = layer
    await eventually(
      async () => {
        await layerAfter.set('after', entry)
        return (await layerAfter.get('after')) !== undefined
      },
      5_000,
      'L2 working again',
    )
    expectSameEntry(await layer.get('after'), entry)
    expect(layer.state).toBe('closed')
    expect(changes[0]).toBe('open')
    expect(changes.at(-1)).toBe('closed')
    // Once per change: never the same state twice in a row.
    changes.forEach((state, index) => expect(state).not.toBe(changes[index - 1]))
  })

  it('answers in about timeoutMs when Redis is paused, not when it answers', async () => {
    layer = await open({ timeoutMs: 100 })
    await layer.set('paused', sampleEntry())
    raw = rawClient(server.url)
    await raw.call('CLIENT', 'PAUSE', '2000')
    const { value, elapsedMs } = await timed(layer.get('paused'))
    expect(value).toBeUndefined()
    expect(elapsedMs).toBeGreaterThanOrEqual(90)
    expect(elapsedMs).toBeLessThan(1000)
    const write = await timed(layer.set('paused-write', sampleEntry()))
    expect(write.elapsedMs).toBeLessThan(1000)
  })

  it('deletes a value of a foreign type under a cache key (WRONGTYPE) and misses', async () => {
    layer = await open({ timeoutMs: generousTimeoutMs })
    raw = rawClient(server.url)
    const key = redisKeys('aicache').entry('hash')
    await raw.hset(key, 'field', 'value')
    expect(await layer.get('hash')).toBeUndefined()
    expect(await raw.exists(key)).toBe(0)
    expect(layer.state).toBe('closed')
  })

  it('starts within about a second when Redis is down, and uses it once it is up', async () => {
    await server.kill()
    const started = await timed(createRedisLayer({ redis: server.url }))
    const late = (layer = started.value)
    expect(started.elapsedMs).toBeLessThan(2_000)
    expect(await late.get('anything')).toBeUndefined()
    await server.restart()
    await eventually(
      async () => {
        await late.set('late', sampleEntry())
        return (await late.get('late')) !== undefined
      },
      5_000,
      'L2 working after a late start',
    )
  })
})
