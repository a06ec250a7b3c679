/** Single requests sent before a load, to prime caches and check targets answer what they should. */
import { CHAT_COMPLETIONS_PATH, REQUEST_HEADERS } from './workload.js'

// A target that hangs must fail the run, not stall it.
const PROBE_TIMEOUT_MS = 10_000

/** What one chat completion request got back. */
export interface ProbeResponse {
  status: number
  /** The `cache-status` header, '' when absent. */
  cacheStatus: string
  /** Every response header, as fetch reports them. */
  headers: Headers
  bodyText: string
}

/** Sends one chat completion request with the benchmark headers (or `headers`). */
export async function sendChatRequest(origin: string, body: string, headers: Readonly<Record<string, string>> = REQUEST_HEADERS): Promise<ProbeResponse> {
  const response = await fetch(`${origin}${CHAT_COMPLETIONS_PATH}`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  })
  const { status } = response
  return { status, cacheStatus: response.headers.get('cache-status') ?? '', headers: response.headers, bodyText: await response.text() }
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

/** What one streaming chat completion request got back. */
export interface StreamProbeResponse {
  status: number
  cacheStatus: string
  /** Every response header, as fetch reports them. */
  headers: Headers
  bytes: Buffer
  /** Server-sent events in the body, `data: [DONE]` included. */
  eventCount: number
}

/** Sends one streaming chat completion request and reads the whole stream. */
export async function sendStreamRequest(origin: string, body: string): Promise<StreamProbeResponse> {
  const response = await fetch(`${origin}${CHAT_COMPLETIONS_PATH}`, {
    method: 'POST',
    headers: REQUEST_HEADERS,
    body,
    signal: AbortSignal.timeout(PROBE_TIMEOUT_MS),
  })
  const bytes = Buffer.from(await response.arrayBuffer())
  const eventCount = bytes
    .toString('utf8')
    .split('\n\n')
    .filter((block) => block.startsWith('data: ')).length
  return { status: response.status, cacheStatus: response.headers.get('cache-status') ?? '', headers: response.headers, bytes, eventCount }
}

/** Throws unless the response is a 200 event stream that ended with `data: [DONE]`. */
export function assertCompleteStream(targetName: string, response: StreamProbeResponse): void {
  const text = response.bytes.toString('utf8')
  const isEventStream = (response.headers.get('content-type') ?? '').includes('text/event-stream')
  if (response.status !== 200 || !isEventStream || !text.endsWith('data: [DONE]\n\n')) {
    throw new Error(`${targetName} answered ${response.status} without a complete event stream: ${text.slice(0, 300)}`)
  }
}
