/** Single requests sent before a load, to prime caches and check targets answer what they should. */
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS } from './workload.js'

// A target that hangs must fail the run, not stall it.
const PROBE_TIMEOUT_MS = 10_000

/** What one chat completion request got back. */
export interface ProbeResponse {
  status: number
  /** The `cache-status` header, '' when absent. */
  cacheStatus: string
  bodyText: string
}

/** Sends one chat completion request with the benchmark headers. */
export async function sendChatRequest(origin: string, body: string): Promise<ProbeResponse> {
  const response = await fetch(`${origin}${CHAT_COMPLETIONS_PATH}`, {
    method: 'POST',
    headers: REQUEST_HEADERS,
    body,
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  })
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', bodyText: await response.text() }
}

/** Throws unless the response is a 200 with a chat completion in it. */
export function assertChatCompletion(targetName: string, response: ProbeResponse): void {
  let choices: unknown
  try {
    choices = (JSON.parse(response.bodyText) as { choices?: unknown }).choices
  } catch {
    choices = undefined
  }
  if (response.status !== 200 || !Array.isArray(choices) || choices.length === 0) {
    throw new Error(`${targetName} answered ${response.status} without a chat completion: ${response.bodyText.slice(0, 300)}`)
  }
}
