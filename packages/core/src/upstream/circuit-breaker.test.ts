import { describe, expect, it, vi } from 'vitest'
import { AiCacheError } from '../errors.js'
import { type CallVerdict, createCircuitBreaker } from './circuit-breaker.js'
import type { AttemptOutcome } from './retry.js'

const verdict = (outcome: AttemptOutcome<string>): CallVerdict => (outcome.ok ? 'success' : 'failure')
const fail = () => Promise.reject(new Error('down'))
const succeed = () => Promise.resolve('up')

function setup(options = { failureThreshold: 3, coolDownMs: 1_000 }) {
  let nowMs = 0
  const onStateChange = vi.fn()
  const breaker = createCircuitBreaker(options, { now: () => nowMs, onStateChange })
  return { breaker, onStateChange, advance: (ms: number) => void (nowMs += ms) }
}

async function failTimes(breaker: ReturnType<typeof setup>['breaker'], times: number) {
  for (let index = 0; index < times; index++) await breaker.execute(fail, verdict).catch(() => {})
}

describe('createCircuitBreaker', () => {
  it('opens after the threshold of consecutive failures and then fails fast', async () => {
    const { breaker, onStateChange } = setup()
    await failTimes(breaker, 3)
    expect(breaker.state).toBe('open')
    expect(onStateChange).toHaveBeenCalledWith('open', 'closed')
    const run = vi.fn(succeed)
    const error = await breaker.execute(run, verdict).catch((caught: unknown) => caught)
    expect(run).not.toHaveBeenCalled()
    expect(error).toBeInstanceOf(AiCacheError)
    expect(error).toMatchObject({ code: 'circuit_open', status: 503, retryAfterMs: 1_000 })
    expect((error as AiCacheError).headers['retry-after']).toBe('1')
  })

  it('a success resets the count of consecutive failures', async () => {
    const { breaker } = setup()
    await failTimes(breaker, 2)
    await breaker.execute(succeed, verdict)
    await failTimes(breaker, 2)
    expect(breaker.state).toBe('closed')
  })

  it('tells the time left until the probe in retryAfterMs', async () => {
    const { breaker, advance } = setup()
    await failTimes(breaker, 3)
    advance(400)
    await expect(breaker.execute(succeed, verdict)).rejects.toMatchObject({ retryAfterMs: 600 })
  })

  it('lets one probe through after the cool-down; its success closes the circuit', async () => {
    const { breaker, advance, onStateChange } = setup()
    await failTimes(breaker, 3)
    advance(1_000)
    expect(breaker.state).toBe('half-open')
    let finishProbe!: (value: string) => void
    const probe = breaker.execute(() => new Promise<string>((resolve) => (finishProbe = resolve)), verdict)
    // Others fail fast while the probe is out.
    await expect(breaker.execute(succeed, verdict)).rejects.toMatchObject({ code: 'circuit_open' })
    finishProbe('up')
    await expect(probe).resolves.toBe('up')
    expect(breaker.state).toBe('closed')
    expect(onStateChange.mock.calls).toEqual([
      ['open', 'closed'],
      ['half-open', 'open'],
      ['closed', 'half-open'],
    ])
  })

  it('a failed probe opens the circuit for another cool-down', async () => {
    const { breaker, advance } = setup()
    await failTimes(breaker, 3)
    advance(1_000)
    await failTimes(breaker, 1)
    expect(breaker.state).toBe('open')
    advance(999)
    expect(breaker.isCallable()).toBe(false)
    advance(1)
    expect(breaker.isCallable()).toBe(true)
  })

  it('an ignored probe (the caller aborted) frees the probe for the next call', async () => {
    const { breaker, advance } = setup()
    await failTimes(breaker, 3)
    advance(1_000)
    await breaker.execute(fail, () => 'ignore').catch(() => {})
    expect(breaker.state).toBe('half-open')
    await breaker.execute(succeed, verdict)
    expect(breaker.state).toBe('closed')
  })

  it('a late failure from before the circuit opened does not move the new state', async () => {
    const { breaker, advance } = setup({ failureThreshold: 1, coolDownMs: 1_000 })
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
