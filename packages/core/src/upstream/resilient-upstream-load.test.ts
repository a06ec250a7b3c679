import { type FakeUpstream, type RecordedCall, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { chatCall, recordingClock, resilientTo, sendAndRead } from '../../test/support/resilient-upstream-helpers.js'
import type { Upstream } from './types.js'

/** Runs `total` client calls, `parallel` at a time; returns each status, or the error code. */
async function load(upstream: Upstream, total: number, parallel: number): Promise<Array<number | string>> {
  const results: Array<number | string> = []
  let next = 0
  async function worker() {
    while (next < total) {
      next++
      results.push(
        await sendAndRead(upstream).then(
          ({ status }) => status,
          (error: AiCacheError) => error.code,
        ),
      )
    }
  }
  await Promise.all(Array.from({ length: parallel }, worker))
  return results
}

describe('createResilientUpstream under load', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())
  beforeEach(() => {
    fake.reset()
    fake.setLatency(0)
  })

  /** Fails 3 calls in 10 (call numbers ending in 3, 6, 9) with 500, 502 and 503, forever. */
  function failThirtyPercent() {
    const callNumber = (call: RecordedCall) => fake.calls.indexOf(call) + 1
    for (const [ending, status] of [
      [3, 500],
      [6, 502],
      [9, 503],
    ] as const) {
      fake.inject({ status, times: Number.POSITIVE_INFINITY, match: (call) => callNumber(call) % 10 === ending })
    }
  }

  it('1,000 calls against 30% failures: at least 99% succeed, and attempts stay within the retry budget', async () => {
    failThirtyPercent()
    const retry = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, budgetRatio: 0.5, minRetriesPerWindow: 10 }
    const { upstream } = resilientTo(fake, { retry, circuitBreaker: false })
    const results = await load(upstream, 1_000, 20)
    const succeeded = results.filter((status) => status === 200).length
    expect(succeeded).toBeGreaterThanOrEqual(990)
    const retries = fake.callCount() - 1_000
    expect(retries).toBeGreaterThan(300)
    expect(retries).toBeLessThanOrEqual(Math.max(retry.minRetriesPerWindow, retry.budgetRatio * 1_000))
  })

  it('the retry budget caps the extra load when everything fails (20% + the minimum, not 4x)', async () => {
    fake.inject({ status: 503, times: Number.POSITIVE_INFINITY })
    const retry = { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 1, budgetRatio: 0.2 }
    const { upstream } = resilientTo(fake, { retry, circuitBreaker: false })
    const results = await load(upstream, 200, 10)
    expect(results.every((status) => status === 503)).toBe(true)
    // 200 requests allow max(10, 0.2 * 200) = 40 retries over the window.
    expect(fake.callCount()).toBeLessThanOrEqual(240)
    expect(fake.callCount()).toBeGreaterThan(200)
  })

  it('200 concurrent calls against a cap of 10 never have more than 10 upstream calls in flight', async () => {
    fake.setLatency(20)
    const { upstream, inner } = resilientTo(fake, { concurrency: { maxConcurrent: 10, maxQueue: 1_000 } })
    let maxUnfinishedAtFake = 0
    const watch = setInterval(() => {
      const unfinished = fake.calls.filter((call) => !call.completed && !call.aborted).length
      maxUnfinishedAtFake = Math.max(maxUnfinishedAtFake, unfinished)
    }, 1)
    const results = await Promise.all(Array.from({ length: 200 }, () => sendAndRead(upstream)))
    clearInterval(watch)
    expect(results.every(({ status }) => status === 200)).toBe(true)
    expect(fake.callCount()).toBe(200)
    expect(inner.maxInFlight).toBe(10)
    expect(maxUnfinishedAtFake).toBeLessThanOrEqual(10)
  })

  it('a full queue rejects at once with upstream_overloaded (503, Retry-After)', async () => {
    fake.setLatency(200)
    const { upstream } = resilientTo(fake, { concurrency: { maxConcurrent: 1, maxQueue: 1 } })
    const first = sendAndRead(upstream)
    const second = sendAndRead(upstream)
    const startedMs = Date.now()
    const error = await sendAndRead(upstream).catch((caught: unknown) => caught)
    expect(Date.now() - startedMs).toBeLessThan(100)
    expect(error).toBeInstanceOf(AiCacheError)
    expect(error).toMatchObject({ code: 'upstream_overloaded', status: 503, headers: { 'retry-after': '1' } })
    expect((await first).status).toBe(200)
    expect((await second).status).toBe(200)
    expect(fake.callCount()).toBe(2)
  })

  it('a waiter aborted in the queue leaves it without reaching the upstream', async () => {
    fake.setLatency(100)
    const { upstream } = resilientTo(fake, { concurrency: { maxConcurrent: 1, maxQueue: 10 } })
    const first = sendAndRead(upstream)
    const controller = new AbortController()
    const queued = upstream.send(chatCall(controller.signal))
    controller.abort(new Error('client left'))
    await expect(queued).rejects.toThrow('client left')
    await first
    expect(fake.callCount()).toBe(1)
  })

  it('paces to the upstream budget: the call over N requests/min waits instead of failing', async () => {
    const { clock, hooks } = recordingClock()
    const { upstream } = resilientTo(fake, { upstreamBudget: { requestsPerMinute: 3 } }, hooks)
    for (let index = 0; index < 3; index++) expect((await sendAndRead(upstream)).status).toBe(200)
    expect(clock.delays).toEqual([])
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect(clock.delays).toEqual([20_000])
    expect(fake.callCount()).toBe(4)
  })

  it('paces tokens by prompt + max_tokens, as the provider counts them', async () => {
    const { clock, hooks } = recordingClock()
    // The chat body reserves a handful of prompt tokens plus its max_tokens of 16.
    const { upstream } = resilientTo(fake, { upstreamBudget: { tokensPerMinute: 50 } }, hooks)
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect(clock.delays).toEqual([])
    expect((await sendAndRead(upstream)).status).toBe(200)
    expect(clock.delays.length).toBeGreaterThan(0)
  })
})
