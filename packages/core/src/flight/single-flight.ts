/**
 * One in-flight computation that identical concurrent requests share.
 * Participants attach their abort signals; the shared work is aborted only
 * when every participant has gone away.
 */
export class Flight<T> {
  readonly promise: Promise<T>
  readonly #controller = new AbortController()
  #resolve!: (value: T) => void
  #reject!: (reason: unknown) => void
  #participants = 0
  #settled = false

  constructor(readonly onSettle: () => void) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
    // A flight nobody awaits (all callers left) must not raise an unhandled rejection.
    this.promise.catch(() => {})
  }

  /** Aborted when every participant has aborted. */
  get signal(): AbortSignal {
    return this.#controller.signal
  }

  /** Adds a participant whose leaving is told by `signal`. */
  attach(signal: AbortSignal): void {
    this.#participants++
    const leave = () => {
      if (--this.#participants === 0 && !this.#settled) this.#controller.abort(signal.reason)
    }
    if (signal.aborted) leave()
    else signal.addEventListener('abort', leave, { once: true })
  }

  resolve(value: T): void {
    if (this.#settle()) this.#resolve(value)
  }

  reject(reason: unknown): void {
    if (this.#settle()) this.#reject(reason)
  }

  #settle(): boolean {
    if (this.#settled) return false
    this.#settled = true
    this.onSettle()
    return true
  }
}

/**
 * In-process single-flight: the first request for a key starts a
 * {@link Flight}; identical requests that arrive before it settles join it.
 */
export class SingleFlight<T> {
  readonly #flights = new Map<string, Flight<T>>()

  /** The flight under way for `key`, if any. */
  join(key: string): Flight<T> | undefined {
    return this.#flights.get(key)
  }

  /** Starts the flight for `key`; it leaves the table when it settles. */
  start(key: string): Flight<T> {
    const flight: Flight<T> = new Flight<T>(() => {
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
