import { afterEach, describe, expect, it, vi } from 'vitest'
import { type AttemptOutcome, abortableSleep, fullJitterBackoff, retryWithBackoff } from './retry.js'

const failing = (outcome: AttemptOutcome<string>) => !outcome.ok || outcome.value === 'retry me'

function recordingSleep() {
  const delays: number[] = []
  return { delays, sleep: async (delayMs: number) => void delays.push(delayMs) }
}

describe('fullJitterBackoff', () => {
  it('draws from [0, min(maxDelay, base * 2^(attempt-1)))', () => {
    const top = fullJitterBackoff({ baseDelayMs: 100, maxDelayMs: 1_000, random: () => 0.999_999 })
    expect([1, 2, 3, 4, 5].map((attempt) => Math.round(top(attempt)))).toEqual([100, 200, 400, 800, 1_000])
    expect(fullJitterBackoff({ random: () => 0 })(3)).toBe(0)
    expect(fullJitterBackoff({ baseDelayMs: 100, random: () => 0.5 })(2)).toBe(100)
  })
})

describe('retryWithBackoff', () => {
  afterEach(() => vi.useRealTimers())

  it('returns the first success without waiting', async () => {
    const attempt = vi.fn(async () => 'ok')
    await expect(retryWithBackoff(attempt, { isRetryable: failing })).resolves.toBe('ok')
    expect(attempt).toHaveBeenCalledTimes(1)
  })

  it('retries retryable outcomes up to maxAttempts, then hands back the last one', async () => {
    const { delays, sleep } = recordingSleep()
    const attempt = vi.fn(async (_attemptNumber: number) => 'retry me')
    await expect(retryWithBackoff(attempt, { isRetryable: failing, maxAttempts: 4, sleep, delayFor: () => 5 })).resolves.toBe('retry me')
    expect(attempt.mock.calls.map(([number]) => number)).toEqual([1, 2, 3, 4])
    expect(delays).toEqual([5, 5, 5])
  })

  it('rethrows the last error when attempts run out', async () => {
    const { sleep } = recordingSleep()
    const error = new Error('down')
    await expect(retryWithBackoff(async () => Promise.reject(error), { isRetryable: failing, sleep })).rejects.toBe(error)
  })

  it('does not retry an outcome that is not retryable', async () => {
    const attempt = vi.fn(async () => 'final')
    await retryWithBackoff(attempt, { isRetryable: () => false })
    expect(attempt).toHaveBeenCalledTimes(1)
  })

  it('passes the outcome and the failed attempt number to delayFor', async () => {
    const { sleep } = recordingSleep()
    const delayFor = vi.fn(() => 1)
    let calls = 0
    await retryWithBackoff(async () => (++calls < 3 ? 'retry me' : 'ok'), { isRetryable: failing, delayFor, sleep })
    expect(delayFor.mock.calls).toEqual([
      [{ ok: true, value: 'retry me' }, 1],
      [{ ok: true, value: 'retry me' }, 2],
    ])
  })

  it('stops when delayFor returns undefined', async () => {
    const attempt = vi.fn(async () => 'retry me')
    await retryWithBackoff(attempt, { isRetryable: failing, delayFor: () => undefined })
    expect(attempt).toHaveBeenCalledTimes(1)
  })

  it('does not start a retry that could only begin after the deadline', async () => {
    let nowMs = 0
    const sleep = async (delayMs: number) => void (nowMs += delayMs)
    const attempt = vi.fn(async () => 'retry me')
    await retryWithBackoff(attempt, { isRetryable: failing, maxAttempts: 10, deadlineMs: 1_000, delayFor: () => 400, sleep, now: () => nowMs })
    // Retries start at 400 and 800; one at 1200 would be past the deadline.
    expect(attempt).toHaveBeenCalledTimes(3)
  })

  it('asks allowRetry last, only when a retry would happen', async () => {
    const allowRetry = vi.fn(() => false)
    const attempt = vi.fn(async () => 'retry me')
    await retryWithBackoff(attempt, { isRetryable: failing, maxAttempts: 1, allowRetry })
    expect(allowRetry).not.toHaveBeenCalled()
    await retryWithBackoff(attempt, { isRetryable: failing, maxAttempts: 2, allowRetry })
    expect(allowRetry).toHaveBeenCalledTimes(1)
    expect(attempt).toHaveBeenCalledTimes(2)
  })

  it('tells onRetry before each wait', async () => {
    const { sleep } = recordingSleep()
    const onRetry = vi.fn()
    await retryWithBackoff(async () => 'retry me', { isRetryable: failing, maxAttempts: 2, delayFor: () => 7, sleep, onRetry })
    expect(onRetry).toHaveBeenCalledWith({ attempt: 1, outcome: { ok: true, value: 'retry me' }, delayMs: 7 })
  })

  it('waits with the default sleep on a fake clock', async () => {
    vi.useFakeTimers()
    let calls = 0
    const result = retryWithBackoff(async () => (++calls === 1 ? 'retry me' : 'ok'), { isRetryable: failing, delayFor: () => 2_000 })
    await vi.advanceTimersByTimeAsync(1_999)
    expect(calls).toBe(1)
    await vi.advanceTimersByTimeAsync(1)
    await expect(result).resolves.toBe('ok')
    expect(calls).toBe(2)
  })

  it('an abort during backoff rejects at once and makes no further attempt', async () => {
    vi.useFakeTimers()
    const controller = new AbortController()
    const attempt = vi.fn(async () => 'retry me')
    const result = retryWithBackoff(attempt, { isRetryable: failing, delayFor: () => 10_000, signal: controller.signal })
    const settled = vi.fn()
    result.catch(settled)
    await vi.advanceTimersByTimeAsync(100)
    controller.abort(new Error('client left'))
    await vi.advanceTimersByTimeAsync(0)
    expect(settled).toHaveBeenCalledWith(new Error('client left'))
    await vi.advanceTimersByTimeAsync(60_000)
    expect(attempt).toHaveBeenCalledTimes(1)
  })

  it('rejects with the abort reason when the signal aborted during an attempt, and hands the value to onAbandon', async () => {
    const controller = new AbortController()
    const attempt = vi.fn(async () => {
      controller.abort(new Error('gone'))
      return 'ok'
    })
    const onAbandon = vi.fn()
    await expect(retryWithBackoff(attempt, { isRetryable: failing, signal: controller.signal, onAbandon })).rejects.toThrow('gone')
    expect(attempt).toHaveBeenCalledTimes(1)
    expect(onAbandon).toHaveBeenCalledWith('ok')
  })

  it('does not start when the signal is already aborted', async () => {
    const attempt = vi.fn(async () => 'ok')
    await expect(retryWithBackoff(attempt, { isRetryable: failing, signal: AbortSignal.abort(new Error('early')) })).rejects.toThrow('early')
    expect(attempt).not.toHaveBeenCalled()
  })
})

describe('abortableSleep', () => {
  it('rejects at once when already aborted', async () => {
    await expect(abortableSleep(1_000, AbortSignal.abort(new Error('no')))).rejects.toThrow('no')
  })
})
