import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import type { CircuitState } from '../resilience/circuit-breaker.js'
import { recordingClock, resilientTo, sendAndRead } from '../../test/support/resilient-upstream-helpers.js'
import type { ResilienceOptions } from './resilient-upstream.js'
import type { Upstream } from './types.js'

// 50 requests a second, as the benchmark sends them: the clock moves 20 ms per request (and by every backoff).
const requestIntervalMs = 20
const coolDownMs = 10_000

/**
 * The engine's defaults (retries with their budget, the breaker), on a fake
 * clock with a fixed jitter, against the real HTTP upstream to the fake. The
 * fault pattern is seeded and the requests go one at a time, so every run
 * sees the same sequence of answers.
 */
function defaultsOnFakeClock(fake: FakeUpstream, options: ResilienceOptions = {}) {
  const { clock, hooks } = recordingClock()
  const states: CircuitState[] = []
  const { upstream } = resilientTo(fake, options, { ...hooks, random: () => 0.5, onBreakerStateChange: (state) => void states.push(state) })
  return { upstream, clock, states }
}

/** One request, as a client sees it: the status, or the code of the error aicache made. */
async function request(upstream: Upstream): Promise<number | string> {
  return sendAndRead(upstream).then(
    ({ status }) => status,
    (error: unknown) => (error instanceof AiCacheError ? error.code : String(error)),
  )
}

describe('createResilientUpstream: the breaker under partial and total failure (seeded faults)', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterAll(() => fake.close())
  beforeEach(() => fake.reset())

  it('at 30% 5xx the breaker stays closed and retries within the budget answer at least 90% of requests', async () => {
    fake.inject({ status: 503, probability: 0.3, seed: 18, times: Number.POSITIVE_INFINITY })
    const { upstream, clock, states } = defaultsOnFakeClock(fake)
    const results: Array<number | string> = []
    // 600 requests: twelve seconds of traffic, more than one breaker window and retry-budget window.
    for (let index = 0; index < 600; index++) {
      clock.nowMs += requestIntervalMs
      results.push(await request(upstream))
    }
    expect(states).toEqual([])
    expect(results).not.toContain('circuit_open')
    const succeeded = results.filter((result) => result === 200).length
    expect(succeeded / results.length).toBeGreaterThanOrEqual(0.9)
    // The faults really were about 30% of the upstream's answers.
    const failedAttempts = fake.calls.length - succeeded
    expect(failedAttempts / fake.calls.length).toBeGreaterThan(0.25)
  })

  it('at 100% 5xx it opens within a bounded number of calls, stops calling while open, and recovers within one cool-down', async () => {
    const { upstream, clock, states } = defaultsOnFakeClock(fake)
    // A long healthy history first: the window is full of successes when the upstream dies.
    for (let index = 0; index < 300; index++) {
      clock.nowMs += requestIntervalMs
      expect(await request(upstream)).toBe(200)
    }
    fake.reset()
    fake.inject({ status: 503, times: Number.POSITIVE_INFINITY })
    let requestsUntilOpen = 0
    while (!states.includes('open')) {
      clock.nowMs += requestIntervalMs
      expect(await request(upstream)).toBe(503)
      requestsUntilOpen++
      expect(requestsUntilOpen).toBeLessThanOrEqual(20)
    }
    // consecutiveFailures (20) bounds it whatever the window held.
    expect(fake.callCount()).toBe(20)

    // Open: every request fails fast and none reaches the upstream.
    const callsWhenOpened = fake.callCount()
    const whileOpen: Array<number | string> = []
    for (let elapsedMs = 0; elapsedMs < coolDownMs - 1_000; elapsedMs += requestIntervalMs) {
      clock.nowMs += requestIntervalMs
      whileOpen.push(await request(upstream))
    }
    expect(whileOpen.length).toBeGreaterThan(400)
    expect(new Set(whileOpen)).toEqual(new Set(['circuit_open']))
    expect(fake.callCount()).toBe(callsWhenOpened)

    // The upstream is back; within one cool-down of that, requests succeed again.
    fake.reset()
    const backAtMs = clock.nowMs
    let firstSuccessAtMs: number | undefined
    while (firstSuccessAtMs === undefined && clock.nowMs - backAtMs <= coolDownMs) {
      clock.nowMs += requestIntervalMs
      if ((await request(upstream)) === 200) firstSuccessAtMs = clock.nowMs
    }
    expect(firstSuccessAtMs).toBeDefined()
    for (let index = 0; index < 5; index++) expect(await request(upstream)).toBe(200)
    expect(states).toEqual(['open', 'half-open', 'closed'])
  })
})
