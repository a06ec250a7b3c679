import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { skipWithoutRedis } from '@aicache/testkit/redis'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { InvalidationMessage } from '../store/invalidation-messages.js'
import { createRedisLayer, type RedisLayer } from '../store/redis-layer.js'
import type { RedisLayerOptions } from '../store/redis-layer-options.js'
import { type SentinelSet, startSentinelSet } from '../../test/support/redis-processes-support.js'
import { eventually } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * Sentinel failover under load, with real processes: one master, one
 * replica, three sentinels. The master is killed (SIGKILL) while requests
 * flow; the sentinels promote the replica; aicache answers every request
 * meanwhile (from the upstream while Redis is unreachable), then finds the
 * new master through the sentinels: L2 hits and the invalidation bus work
 * again. The figures printed at the end are the ones docs/redis.md quotes.
 */

const prompts = Array.from({ length: 16 }, (_, index) => `Which plan suits a team of ${index + 2}?`)
const body = (prompt: string) => JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: prompt }] })

interface Sent {
  startedAt: number
  ok: boolean
  cacheStatus: string
}

describe.skipIf(skipWithoutRedis())('Redis Sentinel failover', () => {
  let fake: FakeUpstream
  let set: SentinelSet
  const closers: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    set = await startSentinelSet()
  }, 60_000)
  afterAll(async () => {
    await Promise.all(closers.map((close) => close()))
    await set?.stop()
    await fake?.close()
  })

  function layerOptions(): RedisLayerOptions {
    return {
      sentinels: set.sentinels,
      name: set.name,
      // A loaded test machine must not turn a slow moment into a breaker failure before the kill.
      timeoutMs: 1_000,
      infoIntervalMs: 0,
      onStateChange: () => {},
      onWarning: () => {},
    }
  }

  async function instance() {
    const gateway = await startTestGateway({ upstream: fake.url, memoryTier: false, redis: layerOptions() })
    closers.push(gateway.close)
    await gateway.cache.ready()
    const ask = async (prompt: string): Promise<Sent> => {
      const startedAt = Date.now()
      try {
        const response = await fetch(`${gateway.url}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-a' },
          body: body(prompt),
        })
        const text = await response.text()
        return { startedAt, ok: response.ok && text.includes('"choices"'), cacheStatus: response.headers.get('cache-status') ?? '' }
      } catch {
        return { startedAt, ok: false, cacheStatus: '' }
      }
    }
    return { ...gateway, ask }
  }

  async function layer(): Promise<RedisLayer> {
    const opened = await createRedisLayer(layerOptions())
    closers.push(() => opened.close())
    return opened
  }

  it('keeps answering while the master is killed, then uses the promoted replica for L2 and the bus', async () => {
    const one = await instance()
    const two = await instance()
    const listener = await layer()
    const sender = await layer()
    const heard: InvalidationMessage[] = []
    listener.onInvalidate((message) => heard.push(message))
    expect(one.cache.stats().redis?.connected).toBe(true)
    for (const prompt of prompts) expect((await one.ask(prompt)).ok).toBe(true)
    // Stored on the master and (asynchronously) on the replica: both instances hit L2.
    await eventually(async () => /detail=l2/.test((await two.ask(prompts[0]!)).cacheStatus), 10_000, 'an L2 hit before the kill')

    const sent: Sent[] = []
    let running = true
    const worker = async (offset: number) => {
      for (let index = offset; running; index++) sent.push(await one.ask(prompts[index % prompts.length]!))
    }
    const workers = [0, 4, 8, 12].map(worker)
    await eventually(() => sent.filter((request) => /detail=l2/.test(request.cacheStatus)).length >= 20, 20_000, 'L2 hits under load')

    const oldMaster = set.masterPort()
    const killedAt = Date.now()
    await set.killMaster()
    const newMaster = await set.promoted(oldMaster, 60_000)
    const promotedAt = Date.now()
    expect(newMaster).not.toBe(oldMaster)
    const l2Again = (await eventually(
      () => sent.find((request) => request.startedAt > killedAt && /detail=l2/.test(request.cacheStatus)) ?? false,
      60_000,
      'an L2 hit from the new master',
    )) as Sent
    await eventually(() => one.cache.stats().redis?.connected && one.cache.stats().redis?.state === 'closed', 30_000, 'connected again')
    // A few more seconds of traffic on the new master.
    const resumedAt = Date.now()
    await eventually(
      () => sent.filter((request) => request.startedAt > resumedAt && /detail=l2/.test(request.cacheStatus)).length >= 20,
      20_000,
      'L2 hits after the failover',
    )
    running = false
    await Promise.all(workers)

    // The bus follows the master: a key deleted through one layer reaches the other.
    await eventually(
      async () => {
        await sender.delete('after-failover')
        return heard.some((message) => message.kind === 'key' && message.key === 'after-failover')
      },
      30_000,
      'an invalidation over the new master',
    )
    // And a namespace invalidated on one instance is a miss on the other.
    await two.cache.invalidate()
    await eventually(async () => /fwd=uri-miss/.test((await one.ask(prompts[3]!)).cacheStatus), 10_000, 'the invalidation reaching the other instance')

    const failed = sent.filter((request) => !request.ok)
    const during = sent.filter((request) => request.startedAt > killedAt && request.startedAt < l2Again.startedAt)
    const figures = {
      requests: sent.length,
      failed: failed.length,
      servedWithoutL2: during.length,
      failoverBySentinelsMs: promotedAt - killedAt,
      withoutL2Ms: l2Again.startedAt - killedAt,
    }
    console.info(`sentinel failover: ${JSON.stringify(figures)}`)
    expect(failed).toEqual([])
    expect(figures.requests).toBeGreaterThan(figures.servedWithoutL2)
  }, 180_000)
})
