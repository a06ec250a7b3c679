import { describe, expect, it } from 'vitest'
import { SingleFlight } from './single-flight.js'

describe('SingleFlight', () => {
  it('lets identical work join the flight under way and forgets it once finished', () => {
    const flights = new SingleFlight<string>()
    const flight = flights.start('k', 'work')
    expect(flights.join('k')?.value).toBe('work')
    expect(flights.join('other')).toBeUndefined()
    flight.finish()
    expect(flights.join('k')).toBeUndefined()
    expect(flights.size).toBe(0)
  })

  it('aborts the shared work only when every participant left', () => {
    const flight = new SingleFlight<string>().start('k', 'work')
    const one = new AbortController()
    const two = new AbortController()
    flight.attach(one.signal)
    flight.attach(two.signal)
    one.abort()
    expect(flight.signal.aborted).toBe(false)
    two.abort()
    expect(flight.signal.aborted).toBe(true)
  })

  it('does not let an older flight finishing remove a newer one', () => {
    const flights = new SingleFlight<string>()
    const old = flights.start('k', 'old')
    flights.start('k', 'fresh')
    old.finish()
    expect(flights.join('k')?.value).toBe('fresh')
  })
})
