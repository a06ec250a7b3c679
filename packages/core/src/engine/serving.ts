import type { ExchangeRequest } from '../exchange/types.js'
import type { RateLimiter } from '../limits/rate-limiter.js'
import type { RequestDirectives } from '../request/directives.js'
import type { RequestObservation } from '../telemetry/telemetry.js'
import type { PreparedRequest } from './prepare.js'
import type { Producer } from './producer.js'

/** What one request is being served with, passed along the engine's stages. */
export interface Serving {
  request: ExchangeRequest
  prepared: PreparedRequest
  /** Where the answer of a miss comes from. */
  producer: Producer
  observation: RequestObservation
  directives: RequestDirectives
  /** The cache key's scope. */
  scope: string
  /** Who the rate limits count this request against (`rateLimit.identity`). */
  caller: string
  limiter: RateLimiter | undefined
}

/** Whether a stage answered later (a promise) rather than at once. */
export function isPromise<T>(value: T | Promise<T>): value is Promise<T> {
  return value instanceof Promise
}
