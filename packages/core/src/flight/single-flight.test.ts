import { describe, expect, it } from 'vitest'
import { SingleFlight } from './single-flight.js'

describe('SingleFlight', () => {
  it('lets identical work join the flight under way and forgets it once settled', async () => {
    const flights = new SingleFlight<number>()
    const flight = flights.start('k')
    expect(flights.join('k')).toBe(flight)
    expect(flights.join('other')).toBeUndefined()
    flight.resolve(42)
    expect(await flights.join('k')?.promise).toBeUndefined()
    expect(await flight.promise).toBe(42)
    expect(flights.size).toBe(0)
  })

  it('aborts the shared work only when every participant left', () => {
    const flight = new SingleFlight<number>().start('k')
    const one = new AbortController()
    const two = new AbortController()
    flight.attach(one.signal)
    flight.attach(two.signal)
    one.abort()
    expect(flight.signal.aborted).toBe(false)
    two.abort()
    expect(flight.signal.aborted).toBe(true)
  })

  it('does not let a finished flight be replaced by a late settle of an older one', () => {
    const flights = new SingleFlight<number>()
    const old = flights.start('k')
    const fresh = flights.start('k')
    old.resolve(1)
    expect(flights.join('k')).toBe(fresh)
  })

  it('does not raise an unhandled rejection when nobody waits', async () => {
    const flight = new SingleFlight<number>().start('k')
    flight.reject(new Error('upstream down'))
    await expect(flight.promise).rejects.toThrow('upstream down')
  })
})
