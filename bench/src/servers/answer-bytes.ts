import { type BenchRequest, benchRequest } from '../workload.js'

// Well under the runner's wait for `listening`, so a hanging upstream is reported as such.
const ANSWER_TIMEOUT_MS = 10_000

/**
 * The exact bytes the fake upstream answers to the benchmark request (in
 * the format of `request`, chat completions by default), so the baselines
 * send what aicache sends on a hit.
 */
export async function fetchAnswerBytes(upstreamUrl: string, request: BenchRequest = benchRequest('chat')): Promise<Buffer> {
  // The upstream URL ends in /v1, as the request's path begins.
  const response = await fetch(`${upstreamUrl}${request.path.slice('/v1'.length)}`, {
    method: 'POST',
    headers: request.headers,
    body: request.body,
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  })
  const bytes = Buffer.from(await response.arrayBuffer())
  if (response.status !== 200) throw new Error(`The fake upstream answered ${response.status}: ${bytes.toString('utf8')}`)
  return bytes
}
