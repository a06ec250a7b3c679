import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createUpstreamBudget } from './upstream-budget.js'

function track(promise: Promise<void>) {
  const state = { done: false, error: undefined as unknown }
  promise.then(
    () => void (state.done = true),
    (error: unknown) => void (state.error = error),
  )
  return state
}

describe('createUpstreamBudget (pacing)', () => {
  beforeEach(() => vi.useFakeTimers())
  afterEach(() => vi.useRealTimers())

  it('makes the call over the requests budget wait, not fail', async () => {
    const budget = createUpstreamBudget({ requestsPerMinute: 2 })
    await budget.wait(0)
    await budget.wait(0)
    const third = track(budget.wait(0))
    await vi.advanceTimersByTimeAsync(29_999)
    expect(third).toEqual({ done: false, error: undefined })
    expect(budget.queued).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    expect(third).toEqual({ done: true, error: undefined })
  })

  it('serves waiters in order, so a small call does not overtake a large one', async () => {
    const budget = createUpstreamBudget({ tokensPerMinute: 1_000 })
    await budget.wait(900)
    const large = track(budget.wait(500))
    const small = track(budget.wait(50))
    await vi.advanceTimersByTimeAsync(1_000)
    // 50 tokens would fit now, but the 500 waits first (400 short: 24 s).
    expect(small.done).toBe(false)
    await vi.advanceTimersByTimeAsync(23_000)
    expect(large.done).toBe(true)
    await vi.advanceTimersByTimeAsync(3_000)
    expect(small.done).toBe(true)
  })

  it('lets a call larger than the whole tokens budget through once the budget is full', async () => {
    const budget = createUpstreamBudget({ tokensPerMinute: 1_000 })
    await budget.wait(100)
    const huge = track(budget.wait(5_000))
    await vi.advanceTimersByTimeAsync(6_000)
    expect(huge.done).toBe(true)
  })

  it('an aborted waiter leaves the queue at once and the next one is served', async () => {
    const budget = createUpstreamBudget({ requestsPerMinute: 1 })
    await budget.wait(0)
    const controller = new AbortController()
    const aborted = track(budget.wait(0, controller.signal))
    const next = track(budget.wait(0))
    controller.abort(new Error('client left'))
    await vi.advanceTimersByTimeAsync(0)
    expect(aborted.error).toEqual(new Error('client left'))
    expect(budget.queued).toBe(1)
    await vi.advanceTimersByTimeAsync(60_000)
    expect(next.done).toBe(true)
  })

  it('rejects with upstream_overloaded when its queue is full', async () => {
    const budget = createUpstreamBudget({ requestsPerMinute: 1, maxQueue: 1 })
    await budget.wait(0)
    void budget.wait(0)
    await expect(budget.wait(0)).rejects.toMatchObject({ code: 'upstream_overloaded', status: 503 })
  })

  it('does nothing without limits', async () => {
    const budget = createUpstreamBudget({})
    for (let index = 0; index < 100; index++) await budget.wait(1_000_000)
    expect(budget.queued).toBe(0)
  })
})
