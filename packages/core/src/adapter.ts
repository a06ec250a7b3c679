/**
 * The contract between aicache's engine and a web framework adapter
 * (`@aicache/express`, `@aicache/koa`, `@aicache/fastify` are built on it).
 * An adapter turns the framework's request into an {@link ExchangeRequest}
 * (`nodeExchange` does that for Node's `IncomingMessage`), hands it to
 * `AiCache.handle`, and carries out the {@link Outcome}: sends a `respond`
 * or `stream` outcome (`sendNodeOutcome`), or lets the framework continue on
 * `next`, reporting a wrap-mode handler's response through the
 * {@link WrapCapture} (`captureNodeResponse`, `tapStream`).
 *
 * Apps do not need this entry: they use `@aicache/core` or an adapter.
 *
 * @example
 * ```ts
 * import { createAiCache } from '@aicache/core'
 * import { nodeExchange, sendNodeOutcome } from '@aicache/core/adapter'
 * ```
 */
export type {
  CapturedHeaders,
  CapturedResponse,
  ExchangeRequest,
  NextOutcome,
  Outcome,
  RequestHeaders,
  RespondOutcome,
  ResponseHeaders,
  ResponseMeta,
  RouteDirectives,
  StreamOutcome,
  TokenUsage,
  WrapCapture,
} from './exchange/types.js'
export { bodyTooLargeError, captureNodeResponse, nodeExchange, sendNodeOutcome, tapStream } from './exchange/node.js'
export type { NodeExchangeOptions } from './exchange/node.js'
export { resolveRouteOptions } from './exchange/route-options.js'
// The paths a proxy-mode gateway caches (one per registered API format), for frameworks that route them themselves.
export { gatewayPaths } from './formats/registry.js'
