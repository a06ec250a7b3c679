import OpenAI from 'openai'
import { type CacheVerdict, readCacheStatus } from './cache-status.js'

/** One request a workload makes. */
export interface PlannedRequest {
  /** The caller's key: callers with different keys never share answers (aicache's default scope). */
  apiKey: string
  model: string
  question: string
  stream: boolean
  /** Extra request headers, forwarded upstream (the demo upstream reads `x-fake-latency-ms`). */
  headers?: Record<string, string>
}

/** A request as it was answered, measured by the client. */
export interface PlayedRequest extends PlannedRequest {
  /** From `Cache-Status`; `error` when the call failed. */
  result: CacheVerdict['result'] | 'error'
  tier?: string
  /** From sending the request to reading the last byte (the last chunk of a stream). */
  latencyMs: number
  /** HTTP status of a failed call. */
  errorStatus?: number
}

/** Options of {@link playWorkload}. */
export interface PlayOptions {
  /** Requests in flight at once; 1 plays them strictly in order. @default 1 */
  concurrency?: number
}

async function play(client: OpenAI, request: PlannedRequest): Promise<PlayedRequest> {
  const body = { model: request.model, messages: [{ role: 'user' as const, content: request.question }] }
  const options = { headers: request.headers ?? {} }
  const startedAt = performance.now()
  try {
    let response: Response
    if (request.stream) {
      const streamed = await client.chat.completions.create({ ...body, stream: true, stream_options: { include_usage: true } }, options).withResponse()
      for await (const _chunk of streamed.data);
      response = streamed.response
    } else {
      response = (await client.chat.completions.create(body, options).withResponse()).response
    }
    return { ...request, ...readCacheStatus(response.headers.get('cache-status')), latencyMs: performance.now() - startedAt }
  } catch (error) {
    const errorStatus = error instanceof OpenAI.APIError ? error.status : undefined
    return { ...request, result: 'error', latencyMs: performance.now() - startedAt, ...(errorStatus === undefined ? {} : { errorStatus }) }
  }
}

/**
 * Sends the requests with the official `openai` client (one per API key,
 * no client retries so each call is seen as it was answered) and returns
 * them in plan order with how each was answered and how long it took.
 *
 * @example
 * ```ts
 * const played = await playWorkload('http://127.0.0.1:8787/v1', [
 *   { apiKey: 'sk-a', model: 'gpt-4o-mini', question: 'How do I locate my card?', stream: false },
 * ])
 * ```
 */
export async function playWorkload(baseURL: string, requests: readonly PlannedRequest[], options: PlayOptions = {}): Promise<PlayedRequest[]> {
  const clients = new Map<string, OpenAI>()
  const clientFor = (apiKey: string) => {
    let client = clients.get(apiKey)
    if (!client) clients.set(apiKey, (client = new OpenAI({ baseURL, apiKey, maxRetries: 0 })))
    return client
  }
  const played: PlayedRequest[] = new Array(requests.length)
  let next = 0
  const worker = async () => {
    while (next < requests.length) {
      const index = next++
      const request = requests[index] as PlannedRequest
      played[index] = await play(clientFor(request.apiKey), request)
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency ?? 1) }, worker))
  return played
}
