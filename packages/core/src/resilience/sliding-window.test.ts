import { describe, expect, it } from 'vitest'
import { createSlidingWindow } from './sliding-window.js'

describe('createSlidingWindow', () => {
  it('counts each name apart, and forgets counts a bucket at a time as they slide out', () => {
    let nowMs = 0
    const window = createSlidingWindow(['success', 'failure'] as const, { windowMs: 1_000, now: () => nowMs })
    window.add('failure', 3)
    nowMs = 500
    window.add('success')
    expect([window.total('success'), window.total('failure')]).toEqual([1, 3])
    // The first bucket (0-99 ms) has left the window; the one at 500 ms has not.
    nowMs = 1_000
    expect([window.total('success'), window.total('failure')]).toEqual([1, 0])
    nowMs = 1_500
    expect(window.total('success')).toBe(0)
  })

  it('forgets everything after a long pause, and on clear()', () => {
    let nowMs = 0
    const window = createSlidingWindow(['request'] as const, { windowMs: 1_000, now: () => nowMs })
    window.add('request', 5)
    nowMs = 60_000
    expect(window.total('request')).toBe(0)
    window.add('request', 2)
    window.clear()
    expect(window.total('request')).toBe(0)
  })
})
