import { chatRequestBody, REQUEST_HEADERS } from '../workload.js'

// Well under the runner's wait for `listening`, so a hanging upstream is reported as such.
const ANSWER_TIMEOUT_MS = 10_000

/**
 * The exact bytes the fake upstream answers to the benchmark request, so the
 * baselines send what aicache sends on a hit.
 */
export async function fetchAnswerBytes(upstreamUrl: string): Promise<Buffer> {
  const response = await fetch(`${upstreamUrl}/chat/completions`, {
    method: 'POST',
    headers: REQUEST_HEADERS,
    body: chatRequestBody(),
    signal: AbortSignal.timeout(ANSWER_TIMEOUT_MS),
  })
  const bytes = Buffer.from(await response.arrayBuffer())
  if (response.status !== 200) throw new Error(`The fake upstream answered ${response.status}: ${bytes.toString('utf8')}`)
  return bytes
}
