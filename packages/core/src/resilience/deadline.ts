/** The error a call that ran out of time fails with. */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError'

  /** @param timeoutMs the deadline that passed */
  constructor(
    readonly timeoutMs: number,
    message = `The call did not answer within ${timeoutMs} ms`,
  ) {
    super(message)
  }
}

/**
 * Runs `operation` with a deadline: resolves or rejects as it does, or
 * rejects with {@link DeadlineExceededError} once `timeoutMs` passed first.
 * A synchronous throw of `operation` becomes a rejection. The operation is
 * not cancelled (a Redis command cannot be); its late answer is ignored,
 * a late rejection included. The timer does not keep the process alive.
 *
 * @example
 * ```ts
 * const value = await withDeadline(() => client.getBuffer(key), 100, 'Redis') // DeadlineExceededError after 100 ms
 * ```
 */
export function withDeadline<T>(operation: () => Promise<T>, timeoutMs: number, what = 'The call'): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new DeadlineExceededError(timeoutMs, `${what} did not answer within ${timeoutMs} ms`)), timeoutMs)
    timer.unref?.()
    let pending: Promise<T>
    try {
      pending = operation()
    } catch (error) {
      clearTimeout(timer)
      return reject(error)
    }
    pending.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
