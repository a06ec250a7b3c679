import { describe, expect, it, vi } from 'vitest'
import { AiCacheError } from '../errors.js'
import { type CallVerdict, type CircuitBreakerOptions, createCircuitBreaker } from './circuit-breaker.js'
import type { AttemptOutcome } from './retry.js'

const verdict = (outcome: AttemptOutcome<string>): CallVerdict => (outcome.ok ? 'success' : 'failure')
const fail = () => Promise.reject(new Error('down'))
const succeed = () => Promise.resolve('up')

const small: CircuitBreakerOptions = {
  failureRateThreshold: 0.5,
  minimumCalls: 10,
  windowMs: 10_000,
  consecutiveFailures: 8,
  coolDownMs: 1_000,
  halfOpenProbes: 3,
}

function setup(options: CircuitBreakerOptions = small) {
  let nowMs = 0
  const onStateChange = vi.fn()
  const breaker = createCircuitBreaker(options, { now: () => nowMs, onStateChange })
  return { breaker, onStateChange, advance: (ms: number) => void (nowMs += ms) }
}

type Breaker = ReturnType<typeof setup>['breaker']

async function failTimes(breaker: Breaker, times: number) {
  for (let index = 0; index < times; index++) await breaker.execute(fail, verdict).catch(() => {})
}

async function succeedTimes(breaker: Breaker, times: number) {
  for (let index = 0; index < times; index++) await breaker.execute(succeed, verdict)
}

async function open(breaker: Breaker) {
  await failTimes(breaker, small.consecutiveFailures!)
  expect(breaker.state).toBe('open')
}

describe('createCircuitBreaker', () => {
  it('stays closed at a 30% failure rate, however long it lasts', async () => {
    const { breaker, advance, onStateChange } = setup()
    // Six failures in every twenty calls, bunched together: five in a row (the old rule) happen every twenty calls.
    for (let index = 0; index < 1_000; index++) {
      advance(20)
      await breaker.execute(index % 20 < 6 ? fail : succeed, verdict).catch(() => {})
    }
    expect(breaker.state).toBe('closed')
    expect(onStateChange).not.toHaveBeenCalled()
  })

  it('opens when the failure rate in the window reaches the threshold, then fails fast', async () => {
    const { breaker, onStateChange } = setup()
    // Alternating: never two failures in a row, half of the calls failing.
    for (let index = 0; index < 9; index++) await breaker.execute(index % 2 === 0 ? fail : succeed, verdict).catch(() => {})
    expect(breaker.state).toBe('closed')
    await breaker.execute(succeed, verdict)
    await failTimes(breaker, 1)
    expect(breaker.state).toBe('open')
    expect(onStateChange).toHaveBeenCalledWith('open', 'closed')
    const run = vi.fn(succeed)
    const error = await breaker.execute(run, verdict).catch((caught: unknown) => caught)
    expect(run).not.toHaveBeenCalled()
    expect(error).toBeInstanceOf(AiCacheError)
    expect(error).toMatchObject({ code: 'circuit_open', status: 503, retryAfterMs: 1_000 })
    expect((error as AiCacheError).headers['retry-after']).toBe('1')
  })

  it('a failure rate says nothing before the window holds minimumCalls', async () => {
    const { breaker } = setup({ ...small, consecutiveFailures: 1_000 })
    await failTimes(breaker, 9)
    expect(breaker.state).toBe('closed')
    await failTimes(breaker, 1)
    expect(breaker.state).toBe('open')
  })

  it('opens after consecutiveFailures in a row, even after a window full of successes', async () => {
    const { breaker } = setup()
    await succeedTimes(breaker, 500)
    await failTimes(breaker, 7)
    expect(breaker.state).toBe('closed')
    await failTimes(breaker, 1)
    expect(breaker.state).toBe('open')
  })

  it('forgets outcomes that slid out of the window', async () => {
    const { breaker, advance } = setup({ ...small, consecutiveFailures: 1_000 })
    await failTimes(breaker, 4)
    await succeedTimes(breaker, 6)
    advance(10_000)
    // With the old ten still counted, 13 failures of 19 calls would open it; alone, nine calls are under minimumCalls.
    await failTimes(breaker, 9)
    expect(breaker.state).toBe('closed')
    await failTimes(breaker, 1)
    expect(breaker.state).toBe('open')
  })

  it('tells the time left until the probes in retryAfterMs', async () => {
    const { breaker, advance } = setup()
    await open(breaker)
    advance(400)
    await expect(breaker.execute(succeed, verdict)).rejects.toMatchObject({ retryAfterMs: 600 })
  })

  it('lets halfOpenProbes calls through after the cool-down; their successes close the circuit', async () => {
    const { breaker, advance, onStateChange } = setup()
    await open(breaker)
    advance(1_000)
    expect(breaker.state).toBe('half-open')
    const finishers: Array<(value: string) => void> = []
    const probes = Array.from({ length: 3 }, () => breaker.execute(() => new Promise<string>((resolve) => finishers.push(resolve)), verdict))
    // Others fail fast while the probes are out.
    await expect(breaker.execute(succeed, verdict)).rejects.toMatchObject({ code: 'circuit_open', retryAfterMs: 1_000 })
    expect(breaker.isCallable()).toBe(false)
    finishers[0]!('up')
    await probes[0]
    expect(breaker.state).toBe('half-open')
    finishers[1]!('up')
    await probes[1]
    // Two of three succeeded: the failure rate of the probes can no longer reach one half.
    expect(breaker.state).toBe('closed')
    finishers[2]!('up')
    await Promise.all(probes)
    expect(onStateChange.mock.calls).toEqual([
      ['open', 'closed'],
      ['half-open', 'open'],
      ['closed', 'half-open'],
    ])
  })

  it('failed probes open the circuit for another cool-down', async () => {
    const { breaker, advance } = setup()
    await open(breaker)
    advance(1_000)
    await succeedTimes(breaker, 1)
    await failTimes(breaker, 2)
    expect(breaker.state).toBe('open')
    advance(999)
    expect(breaker.isCallable()).toBe(false)
    advance(1)
    expect(breaker.isCallable()).toBe(true)
  })

  it('an ignored probe (the caller aborted) frees its place for the next call', async () => {
    const { breaker, advance } = setup({ ...small, halfOpenProbes: 1 })
    await open(breaker)
    advance(1_000)
    await breaker.execute(fail, () => 'ignore').catch(() => {})
    expect(breaker.state).toBe('half-open')
    await breaker.execute(succeed, verdict)
    expect(breaker.state).toBe('closed')
  })

  it('a late failure from before the circuit opened does not move the new state', async () => {
    const { breaker, advance } = setup({ ...small, consecutiveFailures: 1, halfOpenProbes: 1 })
    let failLate!: (error: Error) => void
    const late = breaker.execute(() => new Promise<string>((_resolve, reject) => (failLate = reject)), verdict)
    await failTimes(breaker, 1)
    advance(1_000)
    await breaker.execute(succeed, verdict)
    failLate(new Error('old news'))
    await late.catch(() => {})
    expect(breaker.state).toBe('closed')
  })
})
