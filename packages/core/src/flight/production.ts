import type { TokenUsage } from '../exchange/types.js'
import type { SseEvent } from '../stream/sse.js'

/** Status and headers of an answer being produced. */
export interface ProductionHead {
  status: number
  headers: Record<string, string | string[]>
  /** The body is an event stream, followed live through `follow()`. */
  streaming: boolean
  /** Answered by an entry another instance produced: no call was made here. */
  shared?: boolean
}

/** How an answer being produced ended. */
export interface ProductionResult {
  /** The whole body, for answers that are not streamed. */
  body: Buffer
  /** Whether the answer was stored. */
  stored: boolean
  /** A stream reached its end marker (`[DONE]`, or a wrapped handler's clean end). */
  complete: boolean
  /** What producing it cost, when the answer said. */
  usage?: TokenUsage
  /** The error a stream reported in an event (such a stream is not complete). */
  failure?: string
}

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (reason: unknown) => void
  const promise = new Promise<T>((onResolve, onReject) => {
    resolve = onResolve
    reject = onReject
  })
  // Nobody may be waiting (every follower left); that is not an unhandled rejection.
  promise.catch(() => {})
  return { promise, resolve, reject }
}

/**
 * One answer being produced (by the upstream or a wrapped handler) that any
 * number of identical requests follow: each gets the head, then the events
 * recorded so far, then the rest as they arrive.
 */
export class Production {
  /** Events of a streamed answer, in order. */
  readonly events: SseEvent[] = []
  readonly #head = deferred<ProductionHead>()
  readonly #result = deferred<ProductionResult>()
  #wake = new Set<() => void>()
  #ended = false
  #failure: { reason: unknown } | undefined

  head(): Promise<ProductionHead> {
    return this.#head.promise
  }

  result(): Promise<ProductionResult> {
    return this.#result.promise
  }

  start(head: ProductionHead): void {
    this.#head.resolve(head)
  }

  append(event: SseEvent): void {
    this.events.push(event)
    this.#notify()
  }

  finish(result: ProductionResult): void {
    if (this.#ended) return
    this.#ended = true
    this.#result.resolve(result)
    this.#notify()
  }

  fail(reason: unknown): void {
    if (this.#ended) return
    this.#ended = true
    this.#failure = { reason }
    this.#head.reject(reason)
    this.#result.reject(reason)
    this.#notify()
  }

  /**
   * Every event from the first, live until the end, in batches: each batch is
   * what was produced since the previous one (a late follower gets all it
   * missed at once). Throws if production failed.
   */
  async *follow(): AsyncGenerator<readonly SseEvent[]> {
    let next = 0
    for (;;) {
      if (next < this.events.length) {
        const batch = next === 0 && this.#ended ? this.events : this.events.slice(next)
        next = this.events.length
        yield batch
        continue
      }
      if (this.#failure) throw this.#failure.reason
      if (this.#ended) return
      await new Promise<void>((resolve) => this.#wake.add(resolve))
    }
  }

  #notify(): void {
    const wake = this.#wake
    this.#wake = new Set()
    for (const resolve of wake) resolve()
  }
}
