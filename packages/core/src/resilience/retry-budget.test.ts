import { describe, expect, it } from 'vitest'
import { createRetryBudget } from './retry-budget.js'

function withdrawAll(budget: { tryWithdraw(): boolean }): number {
  let granted = 0
  while (budget.tryWithdraw()) granted++
  return granted
}

describe('createRetryBudget', () => {
  it('allows the minimum per window even without traffic', () => {
    const budget = createRetryBudget({ minRetriesPerWindow: 10, now: () => 0 })
    expect(withdrawAll(budget)).toBe(10)
  })

  it('allows retries up to the ratio of requests in the window', () => {
    const budget = createRetryBudget({ ratio: 0.2, minRetriesPerWindow: 10, now: () => 0 })
    for (let index = 0; index < 1_000; index++) budget.recordRequest()
    expect(withdrawAll(budget)).toBe(200)
  })

  it('forgets requests and retries that slid out of the window', () => {
    let nowMs = 0
    const budget = createRetryBudget({ ratio: 0.5, windowMs: 10_000, minRetriesPerWindow: 0, now: () => nowMs })
    for (let index = 0; index < 100; index++) budget.recordRequest()
    expect(withdrawAll(budget)).toBe(50)
    nowMs = 5_000
    expect(budget.tryWithdraw()).toBe(false)
    nowMs = 10_000
    // Everything counted at time 0 has left the window.
    expect(budget.tryWithdraw()).toBe(false)
    for (let index = 0; index < 10; index++) budget.recordRequest()
    expect(withdrawAll(budget)).toBe(5)
  })
})
