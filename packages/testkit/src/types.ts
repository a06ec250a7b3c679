/** Options for {@link startFakeUpstream}. */
export interface FakeUpstreamOptions {
  /** @default 0 (a free port) */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** Delay before response headers, every call. @default 0 */
  latencyMs?: number
  /** Delay between SSE chunks. @default 0 */
  chunkDelayMs?: number
  /**
   * Pause between `data: [DONE]` and the end of the body. Real providers
   * close their stream a few milliseconds after `[DONE]`, and clients that
   * stop reading at `[DONE]` (openai 7) cancel the body in that gap.
   * @default 10
   */
  doneTailMs?: number
}

/** One request the fake received, as the client sent it. */
export interface RecordedCall {
  method: string
  /** Path without query, e.g. '/v1/chat/completions'. */
  path: string
  /** Lower-cased names, last value wins. */
  headers: Record<string, string>
  rawBody: string
  /** Parsed JSON, or undefined when the body is empty or not JSON. */
  body: unknown
  /** True once the response was fully written. */
  completed: boolean
  /** True if the connection closed before the response was complete. */
  aborted: boolean
}

/** A misbehaviour the fake applies to the next matching calls instead of its normal answer. */
export interface Fault {
  /** How many matching calls it applies to. @default 1 */
  times?: number
  /** Only calls for which this returns true (default: every call). */
  match?: (call: RecordedCall) => boolean
  /**
   * Chance (0 to 1) that a matching call gets this fault, drawn from a
   * generator seeded with `seed`, so the pattern is the same in every run. A
   * call it passes over gets the next matching fault or the normal answer,
   * and does not use up `times`. @default 1
   */
  probability?: number
  /** Seed of the `probability` draws. @default 1 */
  seed?: number
  /** Answer with this status and (JSON) body instead of the normal answer. */
  status?: number
  /** Response body; for status >= 400 defaults to an error body matching the status, in the route's shape (Anthropic's for `/v1/messages`, else OpenAI's). */
  body?: unknown
  /** Extra response headers, e.g. {'retry-after': '2'}; without `status` they are added to the normal answer. */
  headers?: Record<string, string>
  /** Extra delay before answering. */
  delayMs?: number
  /**
   * 'before-headers': destroy the socket without answering;
   * 'mid-body': send about half the SSE chunks (or half the JSON bytes), then destroy the socket;
   * 'before-done': send every SSE chunk but `data: [DONE]`, then end the response cleanly (streams
   * without `[DONE]`, Responses and Messages, leave out their terminal event instead);
   * 'stall-mid-body': send the headers and about half the JSON bytes, then nothing more, leaving
   * the connection open until the client closes it (a body hanging after the headers).
   */
  drop?: 'before-headers' | 'mid-body' | 'before-done' | 'stall-mid-body'
  /**
   * A stream that fails halfway as vLLM and some OpenAI-compatible servers
   * end a failed stream: about half the SSE chunks, then an error event,
   * then `data: [DONE]` and a clean end. 'data' sends
   * `data: {"error": {...}}`; 'event' sends `event: error` with that data.
   * A Responses stream ends with `response.failed` ('data') or an `error`
   * event ('event'); a Messages stream with Anthropic's `event: error`
   * (either kind). Neither has `[DONE]`.
   */
  streamError?: 'data' | 'event'
}

/** A running fake LLM upstream (OpenAI-compatible routes and Anthropic Messages). */
export interface FakeUpstream {
  /** Base URL like the OpenAI one: 'http://127.0.0.1:PORT/v1'. */
  readonly url: string
  /** 'http://127.0.0.1:PORT'. */
  readonly origin: string
  readonly port: number
  readonly calls: readonly RecordedCall[]
  /** Calls so far, optionally only those with this path ('/v1/chat/completions'). */
  callCount(path?: string): number
  /** Queue a fault; faults are consumed in order, each for `times` matching calls. */
  inject(fault: Fault): void
  setLatency(latencyMs: number): void
  setChunkDelay(chunkDelayMs: number): void
  /** See {@link FakeUpstreamOptions.doneTailMs}. */
  setDoneTail(doneTailMs: number): void
  /** Forget calls, queued faults, stored Responses API answers and the Anthropic prompt cache. */
  reset(): void
  /** Resolves when every recorded call is completed or aborted (useful after a client aborts). */
  settled(): Promise<void>
  /** Closes the server and all its sockets. */
  close(): Promise<void>
}
