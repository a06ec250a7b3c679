/** One bounded load run with autocannon, in this (the runner's) process. */
import autocannon from 'autocannon'
import { percentile } from './statistics.js'

/** What to send. */
export interface LoadSpec {
  /** 'http://127.0.0.1:PORT'. */
  origin: string
  path: string
  headers: Readonly<Record<string, string>>
  /** A fixed body, or a function called for every request. */
  body: string | (() => string)
  connections: number
  durationSeconds: number
}

/** What came back. Latencies are of 2xx responses only. */
export interface LoadResult {
  /** 2xx responses per second. */
  requestsPerSecond: number
  p50Ms: number
  p99Ms: number
  /** Every response, whatever its status. */
  responseCount: number
  /** Connection errors and timeouts. */
  errors: number
  non2xx: number
  /** CPU seconds the server process used during the run, where the scenario measured it. */
  serverCpuSeconds?: number
}

const REQUEST_TIMEOUT_SECONDS = 10
// autocannon checks whether the duration is over only when it takes a sample (every second by default),
// which would make a run last up to a second longer than asked.
const SAMPLE_INTERVAL_MS = 100

function requestOf(spec: LoadSpec): autocannon.Request {
  const { body } = spec
  const request: autocannon.Request = { method: 'POST', path: spec.path, headers: { ...spec.headers } }
  if (typeof body === 'string') return { ...request, body }
  return { ...request, setupRequest: (built) => ({ ...built, body: body() }) }
}

/**
 * Runs the load for `durationSeconds` and measures latency itself: autocannon's
 * histogram has whole-millisecond resolution, too coarse for sub-millisecond
 * overheads, while its per-response event carries the exact time.
 */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const latenciesMs: number[] = []
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: spec.origin,
        connections: spec.connections,
        pipelining: 1,
        duration: spec.durationSeconds,
        sampleInt: SAMPLE_INTERVAL_MS,
        timeout: REQUEST_TIMEOUT_SECONDS,
        requests: [requestOf(spec)],
      },
      (error: unknown, result: autocannon.Result) => {
        if (error) return reject(error instanceof Error ? error : new Error(String(error)))
        const sorted = Float64Array.from(latenciesMs).sort()
        resolve({
          requestsPerSecond: sorted.length / result.duration,
          p50Ms: percentile(sorted, 50),
          p99Ms: percentile(sorted, 99),
          responseCount: result.requests.total,
          errors: result.errors,
          non2xx: result.non2xx,
        })
      },
    )
    instance.on('response', (_client, statusCode, _responseBytes, responseTimeMs) => {
      if (statusCode >= 200 && statusCode < 300) latenciesMs.push(responseTimeMs)
    })
  })
}
