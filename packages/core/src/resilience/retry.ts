/** What one attempt ended with: a value, or the error it threw. */
export type AttemptOutcome<T> = { ok: true; value: T } | { ok: false; error: unknown }

/** Told before each retry waits. */
export interface RetryInfo<T> {
  /** The attempt that just failed, counted from 1. */
  attempt: number
  outcome: AttemptOutcome<T>
  delayMs: number
}

/** Options of {@link retryWithBackoff}. */
export interface RetryWithBackoffOptions<T> {
  /** Whether this outcome is worth another attempt. */
  isRetryable: (outcome: AttemptOutcome<T>) => boolean
  /**
   * How long to wait after the attempt `attempt` (from 1) failed, or
   * `undefined` to stop retrying and hand this outcome back (a server that
   * asked for a longer wait than we accept).
   * @default full-jitter exponential backoff, {@link fullJitterBackoff}
   */
  delayFor?: (outcome: AttemptOutcome<T>, attempt: number) => number | undefined
  /**
   * Consulted last, just before a retry would wait: `false` stops retrying.
   * A retry budget spends here, so it is only asked when a retry would happen.
   */
  allowRetry?: (outcome: AttemptOutcome<T>) => boolean
  /** Called before each retry waits, e.g. to discard a failed response's body. */
  onRetry?: (info: RetryInfo<T>) => void
  /** Called with a value that will not be handed back because the caller aborted, to free it. */
  onAbandon?: (value: T) => void
  /** Attempts in all, the first included. @default 3 */
  maxAttempts?: number
  /** No retry starts after this long since the first attempt began. @default 60_000 */
  deadlineMs?: number
  /** The caller's signal: stops waiting and retrying at once, rejecting with its reason. */
  signal?: AbortSignal
  /** @default Date.now */
  now?: () => number
  /** @default {@link abortableSleep} (global `setTimeout`, so fake timers drive it) */
  sleep?: (delayMs: number, signal: AbortSignal | undefined) => Promise<void>
}

/** Options of {@link fullJitterBackoff}. */
export interface BackoffOptions {
  /** @default 250 */
  baseDelayMs?: number
  /** @default 8_000 */
  maxDelayMs?: number
  /** Uniform in [0, 1). @default Math.random */
  random?: () => number
}

/**
 * "Full jitter" from the AWS architecture blog (Exponential Backoff and
 * Jitter): a delay drawn uniformly from `[0, min(maxDelayMs, baseDelayMs * 2^(attempt-1)))`.
 * Spreading retries over the whole interval keeps many clients that failed at
 * the same moment from retrying at the same moment.
 *
 * @example
 * ```ts
 * const delayFor = fullJitterBackoff({ baseDelayMs: 100 })
 * delayFor(3) // somewhere in [0, 400)
 * ```
 */
export function fullJitterBackoff({ baseDelayMs = 250, maxDelayMs = 8_000, random = Math.random }: BackoffOptions = {}) {
  return (attempt: number): number => random() * Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1))
}

const defaultBackoff = fullJitterBackoff()

/** Waits `delayMs`; rejects with the signal's reason as soon as it aborts. */
export function abortableSleep(delayMs: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason)
    const onAbort = () => {
      clearTimeout(timer)
      reject(signal!.reason)
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, delayMs)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}

async function settle<T>(run: () => Promise<T>): Promise<AttemptOutcome<T>> {
  try {
    return { ok: true, value: await run() }
  } catch (error) {
    return { ok: false, error }
  }
}

/**
 * Runs `attempt` until it gives a non-retryable outcome, attempts run out, the
 * deadline passes or the caller aborts. Resolves with the last value, or
 * rejects with the last error (or the abort reason).
 *
 * @example
 * ```ts
 * const response = await retryWithBackoff(() => fetch(url, { signal }), {
 *   isRetryable: (outcome) => !outcome.ok || outcome.value.status >= 500,
 *   signal,
 * })
 * ```
 */
export async function retryWithBackoff<T>(
  attempt: (attemptNumber: number) => Promise<T>,
  {
    isRetryable,
    delayFor = (_outcome, attemptNumber) => defaultBackoff(attemptNumber),
    allowRetry = () => true,
    onRetry,
    onAbandon,
    maxAttempts = 3,
    deadlineMs = 60_000,
    signal,
    now = Date.now,
    sleep = abortableSleep,
  }: RetryWithBackoffOptions<T>,
): Promise<T> {
  const startedMs = now()
  for (let attemptNumber = 1; ; attemptNumber++) {
    signal?.throwIfAborted()
    const outcome = await settle(() => attempt(attemptNumber))
    // After an abort the outcome is the abort's doing, not the upstream's.
    if (signal?.aborted) {
      if (outcome.ok) onAbandon?.(outcome.value)
      throw signal.reason
    }
    if (!(attemptNumber < maxAttempts && isRetryable(outcome))) return unwrap(outcome)
    const delayMs = delayFor(outcome, attemptNumber)
    // A retry that could only start after the deadline is not worth waiting for.
    if (delayMs === undefined || now() + delayMs - startedMs > deadlineMs) return unwrap(outcome)
    if (!allowRetry(outcome)) return unwrap(outcome)
    onRetry?.({ attempt: attemptNumber, outcome, delayMs })
    await sleep(delayMs, signal)
  }
}

function unwrap<T>(outcome: AttemptOutcome<T>): T {
  if (outcome.ok) return outcome.value
  throw outcome.error
}
