import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { type RedisServer, skipWithoutRedis, startRedisServer } from '@aicache/testkit/redis'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { generousTimeoutMs, rawClient } from '../../test/support/redis-test-support.js'
import { startTestGateway } from '../../test/support/test-gateway.js'

const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Why was my card declined?' }] }
const retry = { maxAttempts: 3, baseDelayMs: 20, maxDelayMs: 50 }

interface Outcome {
  status: number
  code?: string | null
  body?: unknown
}

/** What a caller of the official client got: the answer's status, or the error's status and code. */
async function outcomeOf(openai: OpenAI): Promise<Outcome> {
  try {
    await openai.chat.completions.create(question)
    return { status: 200 }
  } catch (error) {
    if (!(error instanceof OpenAI.APIError)) throw error
    return { status: error.status ?? 0, code: error.code, body: error.error }
  }
}

describe.skipIf(skipWithoutRedis())('cross-instance single-flight when the upstream keeps failing', () => {
  let fake: FakeUpstream
  let redis: RedisServer
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    redis = await startRedisServer()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
    fake.setLatency(0)
    const client = rawClient(redis.url)
    await client.flushall()
    client.disconnect()
  })
  afterAll(async () => {
    await fake.close()
    await redis.stop()
  })

  /** One gateway instance (its own engine, memory tier and Redis connections) on the shared Redis. */
  async function instance() {
    const gateway = await startTestGateway({ upstream: fake.url, redis: { redis: redis.url, timeoutMs: generousTimeoutMs }, retry })
    await gateway.cache.ready()
    cleanups.push(gateway.close)
    return new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
  }

  /** The first instance's request holds the lock (its first attempt is in flight) when the second's arrives. */
  async function bothAsk(): Promise<[Outcome, Outcome]> {
    const [one, two] = [await instance(), await instance()]
    const first = outcomeOf(one)
    await expect.poll(() => fake.callCount(), { timeout: 5_000 }).toBeGreaterThan(0)
    return Promise.all([first, outcomeOf(two)])
  }

  it('a 5xx after every retry: the follower on the other instance gets the same error, and the upstream sees one instance’s attempts', async () => {
    fake.setLatency(150)
    fake.inject({ status: 503, times: Number.POSITIVE_INFINITY })
    const [first, second] = await bothAsk()
    expect(first).toMatchObject({ status: 503 })
    expect(second).toEqual(first)
    expect(fake.callCount()).toBe(retry.maxAttempts)
  })

  it('an upstream that drops every connection: both get the 502, after one instance’s attempts', async () => {
    fake.setLatency(150)
    fake.inject({ drop: 'before-headers', times: Number.POSITIVE_INFINITY })
    const [first, second] = await bothAsk()
    expect(first).toMatchObject({ status: 502, code: 'upstream_unreachable' })
    expect(second).toEqual(first)
    expect(fake.callCount()).toBe(retry.maxAttempts)
  })

  it('nothing of the failure is kept for later requests: the next one calls the upstream again and gets its answer', async () => {
    fake.setLatency(150)
    fake.inject({ status: 500, times: retry.maxAttempts })
    const [first, second] = await bothAsk()
    expect(first?.status).toBe(500)
    expect(second?.status).toBe(500)
    const callsAfterFailure = fake.callCount()
    const later = await instance()
    expect(await outcomeOf(later)).toEqual({ status: 200 })
    expect(fake.callCount()).toBe(callsAfterFailure + 1)
  })
})
