import { describe, expect, it } from 'vitest'
import { AiCacheError } from '../errors.js'
import { createConcurrencyLimiter } from './concurrency-limiter.js'

describe('createConcurrencyLimiter', () => {
  it('never lets more than maxConcurrent through, and serves waiters first in, first out', async () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 2, maxQueue: 10 })
    const first = await limiter.acquire()
    const second = await limiter.acquire()
    const order: number[] = []
    const third = limiter.acquire().then((release) => (order.push(3), release))
    const fourth = limiter.acquire().then((release) => (order.push(4), release))
    expect(limiter.inFlight).toBe(2)
    expect(limiter.queued).toBe(2)
    first()
    first() // a second release of the same slot does nothing
    const releaseThird = await third
    expect(limiter.inFlight).toBe(2)
    expect(limiter.queued).toBe(1)
    second()
    releaseThird()
    ;(await fourth)()
    expect(order).toEqual([3, 4])
    expect(limiter.inFlight).toBe(0)
  })

  it('rejects at once with upstream_overloaded when the queue is full', async () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 1, overloadRetryAfterMs: 2_000 })
    await limiter.acquire()
    void limiter.acquire()
    const error = await limiter.acquire().catch((caught: unknown) => caught)
    expect(error).toBeInstanceOf(AiCacheError)
    expect(error).toMatchObject({ code: 'upstream_overloaded', status: 503, retryAfterMs: 2_000 })
    expect((error as AiCacheError).headers).toEqual({ 'retry-after': '2' })
  })

  it('an aborted waiter leaves the queue and rejects with the abort reason', async () => {
    const limiter = createConcurrencyLimiter({ maxConcurrent: 1, maxQueue: 5 })
    const release = await limiter.acquire()
    const controller = new AbortController()
    const waiting = limiter.acquire(controller.signal)
    const behind = limiter.acquire()
    controller.abort(new Error('client left'))
    await expect(waiting).rejects.toThrow('client left')
    expect(limiter.queued).toBe(1)
    release()
    ;(await behind)()
    expect(limiter.inFlight).toBe(0)
  })
})
