/** Throughput targets shared by the scenarios that load a server with one fixed request. */
import type { Redis } from 'ioredis'
import type { BenchServer } from './bench-server.js'
import { withServerCpu } from './cpu-time.js'
import { runLoad, type LoadResult } from './load.js'
import { assertChatCompletion, sendChatRequest } from './probe.js'
import { type BenchRedis, type RedisShare, withRedisShare } from './redis.js'
import type { Target } from './rounds.js'
import { type BenchRequest, CHAT_COMPLETIONS_PATH, chatRequestBody, CUSTOMER_QUESTION, REQUEST_HEADERS } from './workload.js'

/** Further settings of a {@link fixedRequestTarget}. */
export interface FixedRequestOptions {
  /** A Redis the server uses, whose commands and CPU time are measured too (with the runner's client). */
  redis?: { server: BenchRedis; client: Redis }
  /** The path and headers of another format's request (`body` is then that request's); chat completions when unset. */
  request?: Pick<BenchRequest, 'path' | 'headers'>
}

/** A target that loads `server` with the same POST `body` on `connections` connections, measuring its CPU too. */
export function fixedRequestTarget(
  name: string,
  server: BenchServer,
  body: string,
  connections: number,
  options: FixedRequestOptions = {},
): Target<LoadResult & RedisShare> {
  const load = (durationSeconds: number) => () =>
    withServerCpu(server.process.pid, () =>
      runLoad({
        origin: server.origin,
        path: options.request?.path ?? CHAT_COMPLETIONS_PATH,
        headers: options.request?.headers ?? REQUEST_HEADERS,
        body,
        connections,
        durationSeconds,
      }),
    )
  const { redis } = options
  return {
    name,
    measure: (durationSeconds) => {
      server.process.assertRunning()
      if (redis === undefined) return load(durationSeconds)()
      redis.server.process.assertRunning()
      return withRedisShare(redis.server, redis.client, load(durationSeconds))
    },
  }
}

/**
 * Sends the request twice so it is cached and checks both answers; for an
 * aicache target, also that the second came from the cache.
 */
export async function primeJsonHit(server: BenchServer, name: string, body: string, expectHit: boolean): Promise<void> {
  assertChatCompletion(name, await sendChatRequest(server.origin, body))
  const second = await sendChatRequest(server.origin, body)
  assertChatCompletion(name, second)
  if (expectHit && !second.cacheStatus.includes('hit')) {
    throw new Error(`${name} did not answer the repeated request from its cache (cache-status: '${second.cacheStatus}')`)
  }
}

/**
 * {@link primeJsonHit} for a request of any format: sends it twice, checks
 * both are 200 JSON answers and, for an aicache target, that the second
 * came from the cache.
 */
export async function primeRequestHit(server: BenchServer, name: string, request: BenchRequest, expectHit: boolean): Promise<void> {
  for (let attempt = 0; attempt < 2; attempt++) {
    const response = await fetch(`${server.origin}${request.path}`, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      signal: AbortSignal.timeout(10_000),
    })
    const text = await response.text()
    if (response.status !== 200 || !(response.headers.get('content-type') ?? '').includes('json')) {
      throw new Error(`${name} answered ${response.status} to POST ${request.path}: ${text.slice(0, 300)}`)
    }
    const cacheStatus = response.headers.get('cache-status') ?? ''
    if (attempt === 1 && expectHit && !cacheStatus.includes('hit')) {
      throw new Error(`${name} did not answer the repeated POST ${request.path} from its cache (cache-status: '${cacheStatus}')`)
    }
  }
}

/**
 * Whether `server` answers a different question with that question's own
 * answer rather than a cached one (the fake upstream echoes the question): a
 * cache keyed too coarsely, e.g. by URL only, answers every question with the
 * first one's answer.
 */
export async function answersEachQuestion(server: BenchServer, name: string, marker: string): Promise<boolean> {
  const response = await sendChatRequest(server.origin, chatRequestBody(`${CUSTOMER_QUESTION} (${marker})`))
  assertChatCompletion(name, response)
  return response.bodyText.includes(`(${marker})`)
}

/**
 * Whether `server` answers the same request twice with the very same bytes:
 * the fake upstream gives every call a new id, so only a cache does.
 */
export async function answersRepeatFromCache(server: BenchServer, name: string, body: string): Promise<boolean> {
  const first = await sendChatRequest(server.origin, body)
  const second = await sendChatRequest(server.origin, body)
  assertChatCompletion(name, first)
  assertChatCompletion(name, second)
  return first.bodyText === second.bodyText
}
