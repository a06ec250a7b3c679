import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { DeadlineExceededError } from '../resilience/deadline.js'
import { type BreakerState, GuardedRemote } from './guarded-remote.js'

const failing = () => Promise.reject(new Error('ECONNREFUSED'))
const working = () => Promise.resolve('value')
const never = () => new Promise<string>(() => {})

describe('GuardedRemote', () => {
  let changes: Array<[BreakerState, unknown]>
  let remote: GuardedRemote

  beforeEach(() => {
    vi.useFakeTimers()
    changes = []
    remote = new GuardedRemote({
      timeoutMs: 100,
      failureThreshold: 3,
      coolDownMs: 1000,
      onStateChange: (state, error) => changes.push([state, error]),
    })
  })
  afterEach(() => {
    vi.useRealTimers()
  })

  it('answers with the value while the remote works', async () => {
    await expect(remote.call(working, 'fallback')).resolves.toBe('value')
    expect(remote.state).toBe('closed')
    expect(remote.errors).toBe(0)
  })

  it('answers with the fallback after the deadline and counts a timeout', async () => {
    const answer = remote.call(never, 'fallback')
    await vi.advanceTimersByTimeAsync(100)
    await expect(answer).resolves.toBe('fallback')
    expect(remote.errors).toBe(1)
  })

  it('opens after consecutive failures and reports the change once', async () => {
    for (let index = 0; index < 10; index++) await remote.call(failing, undefined)
    expect(remote.state).toBe('open')
    expect(remote.errors).toBe(3)
    expect(changes).toHaveLength(1)
    expect(changes[0]![0]).toBe('open')
    expect(changes[0]![1]).toBeInstanceOf(Error)
  })

  it('does not open when a success interrupts the failures', async () => {
    for (let round = 0; round < 5; round++) {
      await remote.call(failing, undefined)
      await remote.call(failing, undefined)
      await remote.call(working, undefined)
    }
    expect(remote.state).toBe('closed')
    expect(changes).toEqual([])
  })

  it('refuses calls while open without running them', async () => {
    for (let index = 0; index < 3; index++) await remote.call(failing, undefined)
    const operation = vi.fn(working)
    await expect(remote.call(operation, 'fallback')).resolves.toBe('fallback')
    expect(operation).not.toHaveBeenCalled()
  })

  it('lets one probe through after the cool-down and closes when it succeeds', async () => {
    for (let index = 0; index < 3; index++) await remote.call(failing, undefined)
    await vi.advanceTimersByTimeAsync(1000)
    let resolveProbe: (value: string) => void = () => {}
    const probe = remote.call(() => new Promise<string>((resolve) => (resolveProbe = resolve)), 'fallback')
    expect(remote.state).toBe('half-open')
    const other = vi.fn(working)
    await expect(remote.call(other, 'fallback')).resolves.toBe('fallback')
    expect(other).not.toHaveBeenCalled()
    resolveProbe('value')
    await expect(probe).resolves.toBe('value')
    expect(remote.state).toBe('closed')
    expect(changes.map(([state]) => state)).toEqual(['open', 'half-open', 'closed'])
  })

  it('opens again when the probe fails, and waits a whole cool-down again', async () => {
    for (let index = 0; index < 3; index++) await remote.call(failing, undefined)
    await vi.advanceTimersByTimeAsync(1000)
    const probe = remote.call(never, 'fallback')
    await vi.advanceTimersByTimeAsync(100)
    await probe
    expect(remote.state).toBe('open')
    expect(changes.map(([state]) => state)).toEqual(['open', 'half-open', 'open'])
    expect(changes[2]![1]).toBeInstanceOf(DeadlineExceededError)
    await vi.advanceTimersByTimeAsync(500)
    await expect(remote.call(working, 'fallback')).resolves.toBe('fallback')
  })

  it('turns a synchronous throw into the fallback', async () => {
    const throwing = (): Promise<string> => {
      throw new Error("Stream isn't writeable")
    }
    await expect(remote.call(throwing, 'fallback')).resolves.toBe('fallback')
    expect(remote.errors).toBe(1)
  })

  it('survives a throwing state-change callback', async () => {
    const loud = new GuardedRemote({
      failureThreshold: 1,
      onStateChange: () => {
        throw new Error('log failed')
      },
    })
    await expect(loud.call(failing, 'fallback')).resolves.toBe('fallback')
    expect(loud.state).toBe('open')
  })

  it('refuses everything once closed', async () => {
    remote.close()
    const operation = vi.fn(working)
    await expect(remote.call(operation, 'fallback')).resolves.toBe('fallback')
    expect(operation).not.toHaveBeenCalled()
  })
})
