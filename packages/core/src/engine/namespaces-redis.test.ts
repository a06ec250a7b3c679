import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import type { Redis } from 'ioredis'
import OpenAI from 'openai'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createRedisLayer, type RedisLayer } from '../store/redis-layer.js'
import type { RedisLayerOptions } from '../store/redis-layer-options.js'
import { closeClient, eventually, generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * Namespaces are named by callers (`x-aicache-namespace`): what they can make
 * an instance remember is bounded, and bounding it never brings back an
 * invalidated namespace's old entries. Real Redis, real sockets.
 */

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Which plan am I on?' }] }

async function scriptCalls(raw: Redis): Promise<number> {
  const info = await raw.info('commandstats')
  const calls = (name: string) => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0)
  return calls('evalsha') + calls('eval')
}

describe.skipIf(skipWithoutRedis())('namespaces callers create', () => {
  let fake: FakeUpstream
  let server: RedisServer
  let raw: Redis
  const cleanups: Array<() => Promise<void>> = []
  beforeEach(async () => {
    fake = await startFakeUpstream()
    server = await startRedisServer()
    raw = rawClient(server.url)
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    closeClient(raw)
    await server.stop()
    await fake.close()
  })

  async function layer(maxNamespaces: number): Promise<RedisLayer> {
    const created = await createRedisLayer({ redis: server.url, timeoutMs: generousTimeoutMs, maxNamespaces })
    cleanups.push(() => created.close())
    return created
  }

  async function instance(options: RedisLayerOptions) {
    const gateway = await startTestGateway({ upstream: fake.url, redis: { timeoutMs: generousTimeoutMs, ...options } })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const ask = async (namespace: string) => {
      const { data, response } = await openai.chat.completions.create(question, { headers: { 'x-aicache-namespace': namespace } }).withResponse()
      return { id: data.id, status: response.headers.get('cache-status') ?? '' }
    }
    return { ...gateway, ask }
  }

  it('remembers at most maxNamespaces of them, plus the invalidated ones', async () => {
    const instance = await layer(50)
    for (const namespace of ['kept-1', 'kept-2', 'kept-3']) await instance.bumpGeneration(namespace)
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, index) => instance.loadGeneration(`tenant-${batch}-${index}`)))
    }
    // 50 never invalidated, the three invalidated, and the epoch of every namespace.
    expect(instance.trackedNamespaces).toBeLessThanOrEqual(50 + 3 + 1)
    expect(instance.generation('kept-2')).toBe(1)
  })

  it('re-reads a bounded number of generations after a reconnect', async () => {
    const instance = await layer(50)
    for (let batch = 0; batch < 10; batch++) {
      await Promise.all(Array.from({ length: 100 }, (_, index) => instance.loadGeneration(`tenant-${batch}-${index}`)))
    }
    const recent = 'tenant-9-99'
    expect(instance.isGenerationSynced(recent)).toBe(true)
    const before = await scriptCalls(raw)
    await raw.call('CLIENT', 'KILL', 'TYPE', 'pubsub')
    await eventually(() => !instance.isGenerationSynced(recent), 2_000, 'the lost subscription noticed')
    await eventually(() => instance.isGenerationSynced(recent), 5_000, 'synced again after the reconnect')
    // Let every re-read that was started finish before counting.
    let previous = -1
    await eventually(
      async () => {
        const calls = await scriptCalls(raw)
        const settled = calls === previous
        previous = calls
        return settled
      },
      5_000,
      're-reads settling',
    )
    // INFO itself is no script; 1,000 namespaces were seen, at most 51 are re-read.
    expect(previous - before).toBeLessThanOrEqual(50 + 1)
    expect(previous - before).toBeGreaterThan(0)
  })

  it('reads a forgotten namespace from Redis again instead of taking it to be 0', async () => {
    const one = await instance({ redis: server.url, maxNamespaces: 5 })
    const first = await one.ask('orders')
    expect((await one.ask('orders')).status).toMatch(/hit; .*detail=l1/)
    // Other callers' namespaces push 'orders' out of what this instance remembers.
    for (let index = 0; index < 10; index++) await one.ask(`noise-${index}`)
    // Meanwhile its generation went up without this instance hearing it (as during a lost subscription).
    await raw.set('aicache:gen:orders', '3')
    const after = await one.ask('orders')
    expect(after.status).toMatch(/fwd=uri-miss/)
    expect(after.id).not.toBe(first.id)
  })

  it('never serves an invalidated namespace its old entries, however many namespaces follow, even with Redis gone', async () => {
    const one = await instance({ redis: server.url, maxNamespaces: 5 })
    const old = await one.ask('orders')
    await one.cache.invalidate({ namespace: 'orders' })
    const current = await one.ask('orders')
    expect(current.status).toMatch(/fwd=uri-miss/)
    for (let index = 0; index < 10; index++) await one.ask(`noise-${index}`)
    await server.kill()
    // Both answers are in the memory tier; only the one of the current generation may be served.
    const answer = await one.ask('orders')
    expect(answer.id).toBe(current.id)
    expect(answer.id).not.toBe(old.id)
    await server.restart()
  })

  it('invalidates every namespace on every instance with { all: true }', async () => {
    const one = await instance({ redis: server.url })
    const two = await instance({ redis: server.url })
    for (const namespace of ['orders', 'billing']) {
      await one.ask(namespace)
      await eventually(async () => /hit/.test((await two.ask(namespace)).status), 3_000, `a hit on two in ${namespace}`)
    }
    await one.cache.invalidate({ all: true })
    await eventually(async () => /fwd=uri-miss/.test((await two.ask('orders')).status), 3_000, 'the epoch reaching two')
    expect((await two.ask('billing')).status).toMatch(/fwd=uri-miss/)
    // A namespace nobody used before the epoch is simply empty.
    expect((await one.ask('never-seen')).status).toMatch(/fwd=uri-miss/)
  })
})
