import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, Outcome } from '../exchange/types.js'
import type { ApiFormat } from '../formats/format.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import { internalError } from './internal-error.js'
import { errorOutcome } from './outcomes.js'
import type { StatsRecorder } from './stats.js'

const noBody = Buffer.alloc(0)

/**
 * The answer to an error while serving, counted in `stats().errors`, in the
 * error shape of `format` (the route's, when known). An error aicache did
 * not expect becomes a logged 500 on a server (`unexpected: 'answer'`), and
 * is rethrown in client mode, where the caller's `fetch` rejects with it.
 */
export function failedOutcome(
  stats: StatsRecorder,
  request: ExchangeRequest,
  error: unknown,
  unexpected: 'answer' | 'throw' = 'answer',
  format?: ApiFormat,
): Outcome {
  if (AiCacheError.isInstance(error)) {
    stats.errors++
    return errorOutcome(error, format)
  }
  // The client left: nobody reads this answer.
  if (request.signal.aborted) return { type: 'respond', status: 499, headers: {}, body: noBody }
  if (unexpected === 'throw') throw error
  stats.errors++
  return errorOutcome(internalError(request, error), format)
}

/** An error while serving: an aicache error becomes its answer, anything else is rethrown; either way the observation ends. */
export function observedFailure(request: ExchangeRequest, observation: RequestObservation, error: unknown, format?: ApiFormat): Outcome {
  if (AiCacheError.isInstance(error)) {
    observation.fail(error.code)
    return errorOutcome(error, format)
  }
  observation.fail(request.signal.aborted ? 'client_aborted' : ((error as Error)?.name ?? 'error'))
  throw error
}
