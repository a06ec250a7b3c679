/**
 * The little of Koa 3 the benchmark servers use. Koa ships no types and
 * `@types/koa` is not a dependency of the bench; the adapter's own types
 * still come from `@types/koa` through `@aicache/koa`.
 */
declare module 'koa' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface Context {
    type: string
    body: unknown
  }
  export type Next = () => Promise<unknown>
  // Loose on purpose: middleware typed against `@types/koa` (the adapter's, @koa/router's) must fit.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- see above
  export type Middleware = (context: any, next: Next) => unknown

  export default class Koa {
    use(middleware: Middleware): this
    callback(): (request: IncomingMessage, response: ServerResponse) => void
  }
}
