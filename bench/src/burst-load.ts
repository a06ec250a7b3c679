/**
 * A burst: N identical requests sent at once, each on its own new
 * connection, spread round-robin over one or more origins, in this (the
 * runner's) process. For stampedes: how many of them reach the upstream.
 */
import { Agent, request as httpRequest } from 'node:http'
import { percentile } from './statistics.js'

/** What to send. */
export interface BurstSpec {
  /** 'http://127.0.0.1:PORT' each; request i goes to origins[i % origins.length]. */
  origins: readonly string[]
  path: string
  headers: Readonly<Record<string, string>>
  body: string
  count: number
  timeoutMs: number
}

/** What came back. Latencies are of 2xx responses, from the request's start to its last byte. */
export interface BurstResult {
  p50Ms: number
  p99Ms: number
  /** The slowest 2xx response: when the whole burst was answered. */
  maxMs: number
  okCount: number
  /** Connection errors and timeouts. */
  errors: number
  non2xx: number
  /** Distinct bodies among the 2xx responses: 1 when every request got the same answer. */
  distinctBodies: number
  /** How many responses carried each `cache-status` value ('' when absent). */
  cacheStatuses: Record<string, number>
}

interface Reply {
  status: number
  cacheStatus: string
  body: string
  durationMs: number
}

function sendOne(origin: string, spec: BurstSpec, agent: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const startedAt = process.hrtime.bigint()
    const url = new URL(spec.path, origin)
    const request = httpRequest(
      url,
      { method: 'POST', agent, headers: { ...spec.headers, 'content-length': String(Buffer.byteLength(spec.body)) }, timeout: spec.timeoutMs },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('error', reject)
        response.once('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            cacheStatus: String(response.headers['cache-status'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
            durationMs: Number(process.hrtime.bigint() - startedAt) / 1e6,
          }),
        )
      },
    )
    request.once('timeout', () => request.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)))
    request.once('error', reject)
    request.end(spec.body)
  })
}

/** Sends the whole burst at once and waits for every answer (or its timeout). */
export async function runBurst(spec: BurstSpec): Promise<BurstResult> {
  // No keep-alive and no socket limit: every request opens its own connection right away, as N cold clients would.
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
  try {
    const settled = await Promise.allSettled(
      Array.from({ length: spec.count }, (_unused, index) => sendOne(spec.origins[index % spec.origins.length]!, spec, agent)),
    )
    const replies = settled.filter((result) => result.status === 'fulfilled').map((result) => result.value)
    const ok = replies.filter((reply) => reply.status >= 200 && reply.status < 300)
    const durations = Float64Array.from(ok.map((reply) => reply.durationMs)).sort()
    const cacheStatuses: Record<string, number> = {}
    for (const reply of replies) cacheStatuses[reply.cacheStatus] = (cacheStatuses[reply.cacheStatus] ?? 0) + 1
    return {
      p50Ms: percentile(durations, 50),
      p99Ms: percentile(durations, 99),
      maxMs: durations.length === 0 ? Number.NaN : durations[durations.length - 1]!,
      okCount: ok.length,
      errors: settled.length - replies.length,
      non2xx: replies.length - ok.length,
      distinctBodies: new Set(ok.map((reply) => reply.body)).size,
      cacheStatuses,
    }
  } finally {
    agent.destroy()
  }
}
