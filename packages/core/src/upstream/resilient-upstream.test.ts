import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest'
import { AiCacheError } from '../errors.js'
import { chatCall, recordingClock, resilientTo, sendAndRead } from '../../test/support/resilient-upstream-helpers.js'

describe('createResilientUpstream: retries', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())
  beforeEach(() => fake.reset())

  it('waits at least the 2 s a 429 asked for with Retry-After, then succeeds', async () => {
    const { clock, hooks } = recordingClock()
    const onRetry = vi.fn()
    const { upstream } = resilientTo(fake, {}, { ...hooks, onRetry })
    fake.inject({ status: 429, headers: { 'retry-after': '2' } })
    const answer = await sendAndRead(upstream)
    expect(answer.status).toBe(200)
    expect(fake.callCount()).toBe(2)
    expect(clock.delays).toEqual([2_000])
    expect(onRetry).toHaveBeenCalledWith({ attempt: 1, delayMs: 2_000, status: 429, error: undefined })
  })

  it('honours retry-after-ms over Retry-After', async () => {
    const { clock, hooks } = recordingClock()
    const { upstream } = resilientTo(fake, {}, hooks)
    fake.inject({ status: 503, headers: { 'retry-after-ms': '1500', 'retry-after': '9' } })
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect(clock.delays).toEqual([1_500])
  })

  it('does not retry a 429 whose body says insufficient_quota, and passes it through whole', async () => {
    const { hooks } = recordingClock()
    const { upstream } = resilientTo(fake, {}, hooks)
    const body = { error: { message: 'You exceeded your current quota.', type: 'insufficient_quota', param: null, code: 'insufficient_quota' } }
    fake.inject({ status: 429, body })
    const answer = await sendAndRead(upstream)
    expect(answer.status).toBe(429)
    expect(JSON.parse(answer.body)).toEqual(body)
    expect(fake.callCount()).toBe(1)
  })

  it('does not retry a 400, and returns it as it is', async () => {
    const { hooks } = recordingClock()
    const { upstream } = resilientTo(fake, {}, hooks)
    fake.inject({ status: 400 })
    const answer = await sendAndRead(upstream)
    expect(answer.status).toBe(400)
    expect(JSON.parse(answer.body).error.type).toBe('invalid_request_error')
    expect(fake.callCount()).toBe(1)
  })

  it('hands back a 429 that asks for a longer wait than maxRetryAfterMs, with its Retry-After', async () => {
    const { hooks } = recordingClock()
    const { upstream } = resilientTo(fake, { retry: { maxRetryAfterMs: 5_000 } }, hooks)
    fake.inject({ status: 429, headers: { 'retry-after': '60' } })
    const answer = await sendAndRead(upstream)
    expect(answer.status).toBe(429)
    expect(answer.headers['retry-after']).toBe('60')
    expect(fake.callCount()).toBe(1)
  })

  it('returns the last failing response when attempts run out', async () => {
    const { clock, hooks } = recordingClock()
    const { upstream } = resilientTo(fake, { retry: { maxAttempts: 3, baseDelayMs: 100 } }, { ...hooks, random: () => 0.5 })
    fake.inject({ status: 502, times: 3 })
    expect((await sendAndRead(upstream)).status).toBe(502)
    expect(fake.callCount()).toBe(3)
    // Full jitter: half of 100, then half of 200.
    expect(clock.delays).toEqual([50, 100])
  })

  it('retries a dropped connection and throws upstream_unreachable when every attempt drops', async () => {
    const { hooks } = recordingClock()
    const { upstream } = resilientTo(fake, {}, hooks)
    fake.inject({ drop: 'before-headers' })
    expect((await sendAndRead(upstream)).status).toBe(200)
    fake.inject({ drop: 'before-headers', times: 3 })
    await expect(sendAndRead(upstream)).rejects.toMatchObject({ code: 'upstream_unreachable' })
    expect(fake.callCount()).toBe(5)
  })

  it('sends a call with a streamed body only once', async () => {
    const { hooks } = recordingClock()
    const { upstream } = resilientTo(fake, {}, hooks)
    fake.inject({ status: 500 })
    async function* body() {
      yield Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }))
    }
    expect((await sendAndRead(upstream, { ...chatCall(), body: body() })).status).toBe(500)
    expect(fake.callCount()).toBe(1)
  })

  it('an abort during backoff rejects promptly and makes no further attempt', async () => {
    const { upstream } = resilientTo(fake, { retry: { baseDelayMs: 10_000, maxDelayMs: 10_000 } }, { random: () => 0.999 })
    fake.inject({ status: 503 })
    const controller = new AbortController()
    const startedMs = Date.now()
    const sent = upstream.send(chatCall(controller.signal))
    await vi.waitFor(() => expect(fake.callCount()).toBe(1))
    await new Promise((resolve) => setTimeout(resolve, 50))
    controller.abort(new Error('client left'))
    await expect(sent).rejects.toThrow('client left')
    expect(Date.now() - startedMs).toBeLessThan(2_000)
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(fake.callCount()).toBe(1)
  })
})

describe('createResilientUpstream: circuit breaker', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())

  it('opens under 100% failure, then fails fast without calling, and closes after the cool-down once the upstream recovers', async () => {
    const { clock, hooks } = recordingClock()
    const states: string[] = []
    const { upstream } = resilientTo(
      fake,
      { retry: { maxAttempts: 2 }, circuitBreaker: { consecutiveFailures: 5, coolDownMs: 10_000, halfOpenProbes: 1 } },
      { ...hooks, onBreakerStateChange: (state) => void states.push(state) },
    )
    fake.inject({ status: 500, times: Number.POSITIVE_INFINITY })
    while (!states.includes('open')) expect((await sendAndRead(upstream)).status).toBe(500)
    expect(fake.callCount()).toBe(5)
    const calls = fake.callCount()
    for (let index = 0; index < 20; index++) {
      const error = await upstream.send(chatCall()).catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(AiCacheError)
      expect(error).toMatchObject({ code: 'circuit_open', status: 503 })
      expect((error as AiCacheError).retryAfterMs).toBeGreaterThan(0)
    }
    expect(fake.callCount()).toBe(calls)
    fake.reset()
    clock.nowMs += 10_000
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect(states).toEqual(['open', 'half-open', 'closed'])
    expect((await sendAndRead(upstream)).status).toBe(200)
  })
})
