/** Throughput targets shared by the scenarios that load a server with one fixed request. */
import type { BenchServer } from './bench-server.js'
import { withServerCpu } from './cpu-time.js'
import { runLoad, type LoadResult } from './load.js'
import { assertChatCompletion, sendChatRequest } from './probe.js'
import type { Target } from './rounds.js'
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS } from './workload.js'

/** A target that loads `server` with the same POST `body` on `connections` connections, measuring its CPU too. */
export function fixedRequestTarget(name: string, server: BenchServer, body: string, connections: number): Target<LoadResult> {
  return {
    name,
    measure: (durationSeconds) => {
      server.process.assertRunning()
      return withServerCpu(server.process.pid, () =>
        runLoad({ origin: server.origin, path: CHAT_COMPLETIONS_PATH, headers: REQUEST_HEADERS, body, connections, durationSeconds }),
      )
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
