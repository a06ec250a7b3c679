/**
 * The little of apicache 1.6 the benchmark server uses. apicache ships no
 * types and `@types/apicache` is not a dependency of the bench.
 */
declare module 'apicache' {
  import type { RequestHandler, Request, Response } from 'express'

  interface ApicacheOptions {
    /** A function of the request whose result is added to the URL to make the key. */
    appendKey?: (request: Request, response: Response) => string
    statusCodes?: { include?: number[]; exclude?: number[] }
  }

  const apicache: {
    options(options: ApicacheOptions): unknown
    /** Middleware caching responses for a duration in plain English, e.g. '1 hour'. */
    middleware(duration?: string): RequestHandler
  }
  export default apicache
}
