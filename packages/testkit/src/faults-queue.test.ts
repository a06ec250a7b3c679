import { describe, expect, it } from 'vitest'
import { FaultQueue } from './faults.js'
import type { RecordedCall } from './types.js'

const call: RecordedCall = { method: 'POST', path: '/v1/chat/completions', headers: {}, rawBody: '{}', body: {}, completed: false, aborted: false }

function takes(queue: FaultQueue, count: number): boolean[] {
  return Array.from({ length: count }, () => queue.take(call) !== undefined)
}

describe('FaultQueue with a probability', () => {
  it('applies to about its share of calls, in the same pattern for the same seed', () => {
    const seeded = () => {
      const queue = new FaultQueue()
      queue.add({ status: 503, probability: 0.3, seed: 18, times: Number.POSITIVE_INFINITY })
      return takes(queue, 2_000)
    }
    const pattern = seeded()
    const applied = pattern.filter(Boolean).length
    expect(applied).toBeGreaterThan(540)
    expect(applied).toBeLessThan(660)
    expect(seeded()).toEqual(pattern)
    const other = new FaultQueue()
    other.add({ status: 503, probability: 0.3, seed: 19, times: Number.POSITIVE_INFINITY })
    expect(takes(other, 2_000)).not.toEqual(pattern)
  })

  it('uses up `times` only on the calls it applies to, and leaves the others to the next fault', () => {
    const queue = new FaultQueue()
    queue.add({ status: 503, probability: 0.5, seed: 1, times: 3 })
    queue.add({ status: 429, times: Number.POSITIVE_INFINITY })
    const statuses = Array.from({ length: 40 }, () => queue.take(call)?.status)
    expect(statuses.filter((status) => status === 503)).toHaveLength(3)
    expect(statuses.filter((status) => status === 429)).toHaveLength(37)
  })
})
