import { AiCacheError } from '../errors.js'
import type { ExchangeRequest } from '../exchange/types.js'

/** An error, its stack and its causes, as text for the log. */
function describe(error: unknown): string {
  const lines: string[] = []
  let current: unknown = error
  // A cause chain is short; the bound only guards against a cycle.
  for (let depth = 0; current !== undefined && depth < 5; depth++) {
    const text = current instanceof Error ? (current.stack ?? `${current.name}: ${current.message}`) : String(current)
    lines.push(depth === 0 ? text : `caused by: ${text}`)
    current = current instanceof Error ? current.cause : undefined
  }
  return lines.join('\n')
}

/**
 * Turns an error aicache did not expect (a bug) into the 500 it is answered
 * with, and logs it once with its stack and causes, so no 500 goes unseen.
 * The log names the method and path only: never the body, the query or a
 * header, which may hold prompts and credentials. The answer says nothing of
 * the cause.
 */
export function internalError(request: ExchangeRequest, error: unknown): AiCacheError {
  console.error(`aicache: internal error answering ${request.method} ${request.path}: ${describe(error)}`)
  return new AiCacheError('internal_error', 'The server had an error while processing your request.', { cause: error })
}
