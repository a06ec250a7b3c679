import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import type { CircuitState } from './circuit-breaker.js'
import { DeadlineExceededError } from './deadline.js'
import { createFailOpenGuard, type FailOpenGuard, type FailOpenGuardOptions } from './fail-open.js'

const working = () => Promise.resolve('value')
const never = () => new Promise<string>(() => {})
const failingWith = (error: Error) => () => Promise.reject(error)

// Three failures in a row open the circuit; one probe after a second.
const breaker = { consecutiveFailures: 3, coolDownMs: 1_000, halfOpenProbes: 1, minimumCalls: Number.POSITIVE_INFINITY }

describe('createFailOpenGuard', () => {
  let changes: Array<[CircuitState, CircuitState, unknown]>
  let failures: unknown[]
  let guard: FailOpenGuard

  const make = (options: Partial<FailOpenGuardOptions> = {}) =>
    createFailOpenGuard({
      name: 'test store',
      timeoutMs: 100,
      breaker,
      onStateChange: (state, previous, cause) => changes.push([state, previous, cause]),
      onFailure: (error) => failures.push(error),
      ...options,
    })

  async function openIt(): Promise<Error[]> {
    const errors = [new Error('first'), new Error('second'), new Error('third')]
    for (const error of errors) await expect(guard.call(failingWith(error), 'fallback')).resolves.toBe('fallback')
    return errors
  }

  beforeEach(() => {
    vi.useFakeTimers()
    changes = []
    failures = []
    guard = make()
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers with the value while the remote works', async () => {
    await expect(guard.call(working, 'fallback')).resolves.toBe('value')
    expect(guard.state).toBe('closed')
    expect(guard.failures).toBe(0)
    expect(changes).toEqual([])
  })

  it('answers the fallback when the deadline passes, and reports the timeout', async () => {
    let answered: unknown = 'nothing yet'
    void guard.call(never, 'fallback').then((value) => (answered = value))
    await vi.advanceTimersByTimeAsync(99)
    expect(answered).toBe('nothing yet')
    await vi.advanceTimersByTimeAsync(1)
    expect(answered).toBe('fallback')
    expect(guard.failures).toBe(1)
    expect(failures).toHaveLength(1)
    expect(failures[0]).toBeInstanceOf(DeadlineExceededError)
    expect((failures[0] as Error).message).toBe('The test store did not answer within 100 ms')
  })

  it('answers the fallback for a rejection and for a synchronous throw', async () => {
    const rejection = new Error('ECONNREFUSED')
    const thrown = new Error("Stream isn't writeable")
    await expect(guard.call(failingWith(rejection), 'fallback')).resolves.toBe('fallback')
    const throwing = (): Promise<string> => {
      throw thrown
    }
    await expect(guard.call(throwing, undefined)).resolves.toBeUndefined()
    expect(failures).toEqual([rejection, thrown])
  })

  it('opens after the failures in a row, reports the change once with its cause, and stops calling', async () => {
    const errors = await openIt()
    expect(guard.state).toBe('open')
    expect(changes).toEqual([['open', 'closed', errors[2]]])

    const operation = vi.fn(working)
    for (let index = 0; index < 10; index++) await expect(guard.call(operation, 'fallback')).resolves.toBe('fallback')
    expect(operation).not.toHaveBeenCalled()
    // Refused calls are neither failures nor new changes.
    expect(guard.failures).toBe(3)
    expect(failures).toEqual(errors)
    expect(changes).toHaveLength(1)
  })

  it('does not open when a success interrupts the failures', async () => {
    for (let round = 0; round < 5; round++) {
      await guard.call(failingWith(new Error('down')), undefined)
      await guard.call(failingWith(new Error('down')), undefined)
      await guard.call(working, undefined)
    }
    expect(guard.state).toBe('closed')
    expect(guard.failures).toBe(10)
    expect(changes).toEqual([])
  })

  it('half-opens after the cool-down, lets one probe through, and closes when it succeeds', async () => {
    await openIt()
    await vi.advanceTimersByTimeAsync(999)
    const early = vi.fn(working)
    await expect(guard.call(early, 'fallback')).resolves.toBe('fallback')
    expect(early).not.toHaveBeenCalled()
    expect(guard.state).toBe('open')

    await vi.advanceTimersByTimeAsync(1)
    expect(guard.state).toBe('half-open')
    expect(guard.state).toBe('half-open')
    let answerProbe: (value: string) => void = () => {}
    const probe = guard.call(() => new Promise<string>((resolve) => (answerProbe = resolve)), 'fallback')
    const other = vi.fn(working)
    await expect(guard.call(other, 'fallback')).resolves.toBe('fallback')
    expect(other).not.toHaveBeenCalled()

    answerProbe('back')
    await expect(probe).resolves.toBe('back')
    expect(guard.state).toBe('closed')
    expect(changes.map(([state, previous]) => [state, previous])).toEqual([
      ['open', 'closed'],
      ['half-open', 'open'],
      ['closed', 'half-open'],
    ])
    expect(changes[1]![2]).toBeUndefined()
    await expect(guard.call(working, 'fallback')).resolves.toBe('value')
  })

  it('opens again when the probe times out, with the timeout as cause, for a whole cool-down', async () => {
    await openIt()
    await vi.advanceTimersByTimeAsync(1_000)
    const probe = guard.call(never, 'fallback')
    await vi.advanceTimersByTimeAsync(100)
    await expect(probe).resolves.toBe('fallback')
    expect(guard.state).toBe('open')
    expect(changes.map(([state]) => state)).toEqual(['open', 'half-open', 'open'])
    expect(changes[2]![2]).toBeInstanceOf(DeadlineExceededError)

    // The cool-down counts from the failed probe, not from the first opening.
    await vi.advanceTimersByTimeAsync(999)
    const operation = vi.fn(working)
    await expect(guard.call(operation, 'fallback')).resolves.toBe('fallback')
    expect(operation).not.toHaveBeenCalled()
    await vi.advanceTimersByTimeAsync(1)
    await expect(guard.call(operation, 'fallback')).resolves.toBe('value')
    expect(guard.state).toBe('closed')
  })

  it('does not let a late success of a call started before the opening close the circuit', async () => {
    const slow = guard.call(() => new Promise<string>((resolve) => setTimeout(() => resolve('late'), 50)), 'fallback')
    await openIt()
    await vi.advanceTimersByTimeAsync(50)
    await expect(slow).resolves.toBe('late')
    expect(guard.state).toBe('open')
    expect(changes).toHaveLength(1)
  })

  it('passes the breaker options on: a failure rate opens it too', async () => {
    guard = make({ breaker: { failureRateThreshold: 0.5, minimumCalls: 4, consecutiveFailures: 100, coolDownMs: 1_000, halfOpenProbes: 1 } })
    for (let round = 0; round < 2; round++) {
      await guard.call(working, undefined)
      expect(guard.state).toBe('closed')
      await guard.call(failingWith(new Error('down')), undefined)
    }
    expect(guard.state).toBe('open')
    expect(changes.map(([state]) => state)).toEqual(['open'])
  })

  it('never rejects, even when its callbacks throw', async () => {
    const loud = make({
      breaker: { ...breaker, consecutiveFailures: 1 },
      onStateChange: () => {
        throw new Error('log failed')
      },
      onFailure: () => {
        throw new Error('metric failed')
      },
    })
    await expect(loud.call(failingWith(new Error('down')), 'fallback')).resolves.toBe('fallback')
    expect(loud.state).toBe('open')
    await vi.advanceTimersByTimeAsync(1_000)
    expect(loud.state).toBe('half-open')
  })

  it('refuses every call once closed, without running it', async () => {
    guard.close()
    const operation = vi.fn(working)
    await expect(guard.call(operation, 'fallback')).resolves.toBe('fallback')
    expect(operation).not.toHaveBeenCalled()
    expect(guard.failures).toBe(0)
  })
})
