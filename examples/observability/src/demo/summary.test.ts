import { describe, expect, it } from 'vitest'
import { percentile } from './summary.js'

describe('percentile', () => {
  it('takes the nearest rank, whatever the order of the values', () => {
    expect(percentile([30, 10, 20, 40], 0.5)).toBe(20)
    expect(percentile([30, 10, 20, 40], 0.95)).toBe(40)
    expect(percentile([5], 0.5)).toBe(5)
    expect(percentile([], 0.5)).toBeNaN()
  })
})
