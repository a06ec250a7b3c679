/**
 * One piece of work that identical concurrent requests share. Participants
 * attach their abort signals; the work is aborted only when every
 * participant has gone away.
 */
export class Flight<T> {
  readonly value: T
  readonly #controller = new AbortController()
  readonly #onFinish: () => void
  #participants = 0
  #finished = false

  constructor(value: T, onFinish: () => void) {
    this.value = value
    this.#onFinish = onFinish
  }

  /** Aborted when every participant has aborted. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Adds a participant whose leaving is told by `signal`. */
  attach(signal: AbortSignal): void {
    this.#participants++
    const leave = () => {
      if (--this.#participants === 0 && !this.#finished) this.#controller.abort(signal.reason)
    }
    if (signal.aborted) leave()
    else signal.addEventListener('abort', leave, { once: true })
  }

  /** The work is over: new identical requests start their own. */
  finish(): void {
    if (this.#finished) return
    this.#finished = true
    this.#onFinish()
  }
}

/**
 * In-process single-flight: the first request for a key starts a
 * {@link Flight}; identical requests that arrive before it finishes join it.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>()

  /** The flight under way for `key`, if any. */
  join(key: string): Flight<T> | undefined {
    return this.#flights.get(key)
  }

  /** Starts the flight for `key`; it leaves the table when it finishes. */
  start(key: string, value: T): Flight<T> {
    const flight: Flight<T> = new Flight<T>(value, () => {
      if (this.#flights.get(key) === flight) this.#flights.delete(key)
    })
    this.#flights.set(key, flight)
    return flight
  }

  /** Flights under way. */
  get size(): number {
    return this.#flights.size
  }
}
