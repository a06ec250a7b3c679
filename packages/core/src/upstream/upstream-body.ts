import type { IncomingMessage } from 'node:http'
import { AiCacheError } from '../errors.js'

/**
 * An upstream response body whose failures are aicache errors: a body cut
 * after the headers is `upstream_unreachable` (502), one that stalls past
 * the upstream timeout is `upstream_timeout` (504), as docs/resilience.md
 * lists them, so a non-stream answer that breaks off gets the OpenAI error
 * shape and a `Cache-Status` instead of a 500. The caller's own abort stays
 * what it was.
 *
 * It keeps the stream's `once('close')`, `closed` and `destroy()`, so the
 * concurrency cap still learns when the body is done even if nobody reads it.
 */
export class UpstreamBody implements AsyncIterable<Uint8Array> {
  readonly #response: IncomingMessage
  readonly #failure: (cause: unknown) => unknown

  constructor(response: IncomingMessage, failure: (cause: unknown) => unknown) {
    this.#response = response
    this.#failure = failure
  }

  get closed(): boolean {
    return this.#response.closed
  }

  once(event: 'close', listener: () => void): this {
    this.#response.once(event, listener)
    return this
  }

  destroy(): void {
    this.#response.destroy()
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      // Leaving this loop early destroys the response, and with it the
      // connection: a body not read to its end is never reused.
      for await (const chunk of this.#response) yield chunk as Buffer
    } catch (cause) {
      throw this.#failure(cause)
    }
  }
}

/** The error for a body that broke off after the headers. */
export function bodyCutError(cause: unknown): AiCacheError {
  return new AiCacheError('upstream_unreachable', 'The upstream connection broke before the answer was complete.', { cause })
}
