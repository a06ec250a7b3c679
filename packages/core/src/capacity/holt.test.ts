import { describe, expect, it } from 'vitest'
import { defaultHoltParameters, holtAhead, holtForecast, holtSmooth } from './holt.js'
import { recommend } from './recommend.js'

describe("Holt's smoothing", () => {
  it('predicts a linear ramp: the next five values of 10, 14, 18, ... continue it', () => {
    const ramp = Array.from({ length: 30 }, (_, index) => 10 + 4 * index)
    const forecast = holtForecast(ramp, { alpha: 0.5, beta: 0.3, damping: 1 }, 5)
    const expected = [1, 2, 3, 4, 5].map((step) => 10 + 4 * (29 + step))
    for (const [index, value] of forecast.entries()) expect(value).toBeCloseTo(expected[index]!, 0)
  })

  it('follows a ramp better than the last value does, five steps ahead', () => {
    const ramp = Array.from({ length: 40 }, (_, index) => 100 + 5 * index)
    const [, , , , fifth] = holtForecast(ramp, { alpha: 0.6, beta: 0.3, damping: 1 }, 5)
    const actual = 100 + 5 * 44
    expect(Math.abs(fifth! - actual)).toBeLessThan(Math.abs(ramp.at(-1)! - actual) / 10)
  })

  it('stays on a flat series, and a damped trend flattens out', () => {
    expect(holtForecast([50, 50, 50, 50], defaultHoltParameters, 3)).toEqual([50, 50, 50])
    const state = { level: 100, trend: 10 }
    const damped = { alpha: 0.5, beta: 0.1, damping: 0.5 }
    // 100 + 10 (0.5 + 0.25 + ...) approaches 110.
    expect(holtAhead(state, damped, 1)).toBeCloseTo(105)
    expect(holtAhead(state, damped, 50)).toBeCloseTo(110)
  })

  it('never forecasts a negative count', () => {
    expect(holtForecast([100, 60, 20, 0], { alpha: 0.9, beta: 0.9, damping: 1 }, 3).every((value) => value >= 0)).toBe(true)
  })

  it('gives every step to onStep, so an evaluation can forecast from each', () => {
    const levels: number[] = []
    holtSmooth([1, 2, 3], { alpha: 1, beta: 0, damping: 1 }, (state) => levels.push(state.level))
    expect(levels).toEqual([1, 2, 3])
  })
})

describe("the recommendation (Little's law)", () => {
  const target = { targetUtilisation: 0.5, minInstances: 2, maxInstances: 10, instanceRequestsPerSecond: undefined, instanceConcurrency: 8 }

  it('keeps rate × latency calls in flight, with the utilisation headroom, shared by instances', () => {
    // 20 calls/s of 1.5 s: 30 in flight, 60 at 50 % utilisation, 8 per instance: 8 instances.
    expect(recommend({ requestsPerSecond: 50, callsPerSecond: 20, upstreamLatencySeconds: 1.5 }, target)).toEqual({
      instances: 8,
      concurrency: 60,
      concurrencyPerInstance: 8,
      busyConcurrency: 30,
    })
  })

  it('stays within the instance bounds', () => {
    expect(recommend({ requestsPerSecond: 0, callsPerSecond: 0, upstreamLatencySeconds: undefined }, target).instances).toBe(2)
    expect(recommend({ requestsPerSecond: 1e6, callsPerSecond: 1e4, upstreamLatencySeconds: 2 }, target).instances).toBe(10)
  })

  it('also sizes by request rate when one instance has a known capacity', () => {
    const byRate = { ...target, instanceRequestsPerSecond: 100 }
    // 450 req/s at 50 % of 100 req/s per instance: 9 instances, though the upstream needs only 2.
    expect(recommend({ requestsPerSecond: 450, callsPerSecond: 1, upstreamLatencySeconds: 1 }, byRate).instances).toBe(9)
  })
})
