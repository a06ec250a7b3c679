/** The state of a circuit breaker. */
export type BreakerState = 'closed' | 'open' | 'half-open'

/** Options of {@link GuardedRemote}. */
export interface GuardedRemoteOptions {
  /** A call that has not settled after this long counts as failed. @default 100 */
  timeoutMs?: number
  /** Consecutive failures that open the breaker. @default 5 */
  failureThreshold?: number
  /** How long the breaker stays open before one probe call is let through. @default 1000 */
  coolDownMs?: number
  /** Called once per state change, with the failure that caused an opening. */
  onStateChange?: (state: BreakerState, error?: unknown) => void
  /** The clock, for tests. @default Date.now */
  now?: () => number
}

type Admission = 'call' | 'probe' | 'refused'

/**
 * The one place where a remote store's failures are handled: each call gets
 * a deadline, failures are counted, and after `failureThreshold` in a row a
 * circuit breaker answers every call with its fallback at once (fail-open).
 * After `coolDownMs` one probe call is let through (half-open); its success
 * closes the breaker, its failure opens it again.
 *
 * @example
 * ```ts
 * const remote = new GuardedRemote({ timeoutMs: 100 })
 * const value = await remote.call(() => client.getBuffer(key), null) // null when Redis is slow or down
 * ```
 */
export class GuardedRemote {
  readonly #timeoutMs: number
  readonly #failureThreshold: number
  readonly #coolDownMs: number
  readonly #onStateChange: GuardedRemoteOptions['onStateChange']
  readonly #now: () => number
  #state: BreakerState = 'closed'
  #consecutiveFailures = 0
  #openedAt = 0
  #probing = false
  #errors = 0
  #closed = false

  constructor(options: GuardedRemoteOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 100
    this.#failureThreshold = options.failureThreshold ?? 5
    this.#coolDownMs = options.coolDownMs ?? 1000
    this.#onStateChange = options.onStateChange
    this.#now = options.now ?? Date.now
  }

  /** The breaker's state now. */
  get state(): BreakerState {
    return this.#state
  }

  /** Failed calls so far (errors and timeouts; calls refused by an open breaker are not counted). */
  get errors(): number {
    return this.#errors
  }

  /**
   * Runs `operation` with a deadline. Resolves with its value, or with
   * `fallback` when it fails, times out, or the breaker refuses it; never rejects.
   */
  async call<T, F>(operation: () => Promise<T>, fallback: F): Promise<T | F> {
    const admission = this.#admit()
    if (admission === 'refused') return fallback
    try {
      const value = await withTimeout(operation, this.#timeoutMs)
      this.#succeeded(admission)
      return value
    } catch (error) {
      this.#failed(admission, error)
      return fallback
    }
  }

  /** Refuses every later call (the owner is shutting down). */
  close(): void {
    this.#closed = true
  }

  #admit(): Admission {
    if (this.#closed) return 'refused'
    if (this.#state === 'closed') return 'call'
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.#coolDownMs) this.#change('half-open')
    // Half-open lets exactly one call find out whether the remote is back.
    if (this.#state === 'half-open' && !this.#probing) {
      this.#probing = true
      return 'probe'
    }
    return 'refused'
  }

  #succeeded(admission: Admission): void {
    if (admission === 'probe') {
      this.#probing = false
      this.#consecutiveFailures = 0
      this.#change('closed')
    } else if (this.#state === 'closed') {
      this.#consecutiveFailures = 0
    }
    // A late success of a call admitted before the breaker opened proves little: ignored.
  }

  #failed(admission: Admission, error: unknown): void {
    this.#errors++
    if (admission === 'probe') {
      this.#probing = false
      this.#open(error)
    } else if (this.#state === 'closed' && ++this.#consecutiveFailures >= this.#failureThreshold) {
      this.#open(error)
    }
  }

  #open(error: unknown): void {
    this.#openedAt = this.#now()
    this.#change('open', error)
  }

  #change(state: BreakerState, error?: unknown): void {
    if (this.#state === state) return
    this.#state = state
    try {
      this.#onStateChange?.(state, error)
    } catch {
      // A throwing log callback must not turn fail-open into fail-closed.
    }
  }
}

/** The error a call that ran out of time fails with. */
export class RemoteTimeoutError extends Error {
  override readonly name = 'RemoteTimeoutError'
}

async function withTimeout<T>(operation: () => Promise<T>, timeoutMs: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new RemoteTimeoutError(`Remote call timed out after ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    // The command itself cannot be cancelled; its late answer is ignored.
    return await Promise.race([operation(), deadline])
  } finally {
    clearTimeout(timer)
  }
}
