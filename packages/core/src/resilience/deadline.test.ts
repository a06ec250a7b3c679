import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeadlineExceededError, withDeadline } from './deadline.js'

const never = () => new Promise<string>(() => {})

describe('withDeadline', () => {
  describe('with fake timers', () => {
    beforeEach(() => {
      vi.useFakeTimers()
    })
    afterEach(() => {
      vi.useRealTimers()
    })

    it('resolves with the value of a call that answers in time, and leaves no timer behind', async () => {
      const answer = withDeadline(() => new Promise<string>((resolve) => setTimeout(() => resolve('value'), 99)), 100)
      await vi.advanceTimersByTimeAsync(99)
      await expect(answer).resolves.toBe('value')
      expect(vi.getTimerCount()).toBe(0)
    })

    it('rejects with DeadlineExceededError when the deadline passes first, not before', async () => {
      let settled = false
      const answer = withDeadline(never, 100, 'The rate-limit store')
      answer.catch(() => {}).finally(() => (settled = true))
      await vi.advanceTimersByTimeAsync(99)
      expect(settled).toBe(false)
      await vi.advanceTimersByTimeAsync(1)
      const error = await answer.catch((caught: unknown) => caught)
      expect(error).toBeInstanceOf(DeadlineExceededError)
      expect(error).toMatchObject({ name: 'DeadlineExceededError', timeoutMs: 100 })
      expect((error as Error).message).toBe('The rate-limit store did not answer within 100 ms')
    })

    it("passes the call's own failure through", async () => {
      const failure = new Error('ECONNREFUSED')
      await expect(withDeadline(() => Promise.reject(failure), 100)).rejects.toBe(failure)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('turns a synchronous throw into a rejection', async () => {
      const failure = new Error("Stream isn't writeable")
      const throwing = (): Promise<string> => {
        throw failure
      }
      await expect(withDeadline(throwing, 100)).rejects.toBe(failure)
      expect(vi.getTimerCount()).toBe(0)
    })

    it('ignores a rejection that arrives after the deadline (no unhandled rejection)', async () => {
      const late = () => new Promise<string>((_resolve, reject) => setTimeout(() => reject(new Error('too late')), 200))
      const answer = withDeadline(late, 100)
      const caught = answer.catch((error: unknown) => error)
      await vi.advanceTimersByTimeAsync(200)
      expect(await caught).toBeInstanceOf(DeadlineExceededError)
    })
  })

  it('does not keep the process alive with its timer', async () => {
    const timers = () => process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length
    const before = timers()
    const answer = withDeadline(never, 60_000)
    expect(timers()).toBe(before)
    const held = setTimeout(() => {}, 60_000)
    expect(timers()).toBe(before + 1) // a referenced timer is counted
    clearTimeout(held)
    void answer.catch(() => {})
  })
})
