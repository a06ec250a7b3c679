import type { AiCacheError } from '../errors.js'
import type { TokenUsage } from '../exchange/types.js'
import type { SseEvent } from '../stream/sse.js'

/** What an answer says of itself: for the entry, the rate limit's settlement and the GenAI span. */
export interface AnswerDescription {
  /** The model that answered. */
  model?: string
  usage?: TokenUsage
  /** `gen_ai.response.id`. */
  responseId?: string
  /** `gen_ai.response.finish_reasons`. */
  finishReasons?: string[]
  /** The generated text, recorded on the span only with `telemetry.recordContent`. */
  completionText?: string
}

/** An error aicache made itself, in a format's own error shape: the status and JSON body to answer with. */
export interface ErrorAnswer {
  status: number
  body: Record<string, unknown>
}

/**
 * Which of the `upstream` option's URLs a format's calls go to: `openai`
 * (any OpenAI-compatible API) or `anthropic`.
 */
export type UpstreamName = 'openai' | 'anthropic'

/** What a stream of this format is made of, event by event. */
export interface StreamFormat {
  /**
   * Whether this event ends the answer: after it nothing more is part of
   * it, and a stream that never sent it is incomplete and never stored.
   * OpenAI's `data: [DONE]`; a typed stream's closing event
   * (`event: message_stop`, `event: response.completed`).
   */
  isEnd(event: SseEvent): boolean
  /** The failure an event reports (an `event: error`, an error payload), or `undefined`. */
  errorOf(event: SseEvent): { message: string } | undefined
  /**
   * Whether an event only carries usage the client did not ask for, so it
   * is left out of what that client sees. Absent when usage is part of the
   * answer itself (a typed stream's closing events).
   */
  isUsageOnly?(event: SseEvent): boolean
  /** The usage the stream reported, or `undefined`. */
  usageOf(events: readonly SseEvent[]): TokenUsage | undefined
  /**
   * The body of the upstream request when the stream is to report its
   * usage whether or not the client asked for it (OpenAI's
   * `stream_options.include_usage`). Absent when streams always report it.
   */
  requestingUsage?(body: Record<string, unknown>): Record<string, unknown>
  /**
   * The whole answer a recorded stream amounts to, or `undefined` when the
   * events are not a stream of this format (then they are replayed as
   * recorded, never turned into an invented JSON).
   */
  assemble(events: readonly SseEvent[]): Record<string, unknown> | undefined
  /**
   * The stream the API would have sent for a whole answer, its end event
   * included, or `undefined` for a body that is not an answer of this format.
   */
  synthesize(answer: unknown, includeUsage: boolean): SseEvent[] | undefined
}

/**
 * One provider API that aicache caches: everything the engine, the
 * adapters, the rate limits and telemetry need to know of it. The engine
 * never switches on a format; it asks the descriptor carried on the
 * prepared request (`prepared.format`) or the registry.
 *
 * A new format (the OpenAI Responses API, Anthropic Messages) is one module
 * under `src/formats/` exporting a descriptor, and one line in
 * `registry.ts`:
 * - `paths` / `urlSuffix`: `['/v1/responses']` and `'/responses'`;
 *   `['/v1/messages']` and `'/messages'`.
 * - `stream.isEnd` reads the event name of a typed stream
 *   (`event.event === 'message_stop'`), `stream.errorOf` its `event: error`,
 *   `stream.usageOf` adds `message_start`'s input tokens to
 *   `message_delta`'s output tokens; `isUsageOnly` and `requestingUsage`
 *   are left out where usage always comes with the answer.
 * - `providerName` answers `'anthropic'`; `genAiOperation` is one of the
 *   spec's names in `telemetry/names.ts` (`chat` for both).
 * - `describeAnswer` reads its own usage fields (`input_tokens`,
 *   `output_tokens`) and model; `hasAnswerShape` its own answer object
 *   (`type: 'message'`, `output: [...]`).
 * - `upstream: 'anthropic'` sends its calls to the `upstream` option's
 *   Anthropic URL, with `upstreamApiKey` as `x-api-key`; `keyHeaders`
 *   names the request headers that are part of the key
 *   (`anthropic-version`); `errorAnswer` puts the errors aicache makes
 *   itself in the API's own shape (docs/decisions/0050, 0051).
 *
 * The id, paths, suffix and names are plain fields, read on every request
 * without a call; everything else runs on a miss or once per entry and form.
 */
export interface ApiFormat<Id extends string = string> {
  /** The operation's name (`Operation`), and the first part of every key of the format. */
  readonly id: Id
  /** Gateway paths in proxy mode, without a trailing slash (`/v1/chat/completions`). */
  readonly paths: readonly string[]
  /**
   * How a client-mode URL path ends (`/chat/completions`): clients put their
   * own base path in front (`/v1`, `/openai/deployments/x`). A longer suffix
   * wins over one it ends with (`/chat/completions` over `/completions`).
   */
  readonly urlSuffix: string
  /**
   * Whether a client-mode path ending in `urlSuffix` is really this
   * format's (OpenAI's `/threads/{id}/messages` is not Anthropic's
   * `/messages`). Absent: every such path is.
   */
  claimsUrlPath?(path: string): boolean
  /** Which of the `upstream` option's URLs serves this format; `openai` when absent. */
  readonly upstream?: UpstreamName
  /**
   * Request headers (lower-case) that change what the API answers, so they
   * are part of the key as the body is (`anthropic-version`,
   * `anthropic-beta`). Absent when only the body counts.
   */
  readonly keyHeaders?: readonly string[]
  /** `gen_ai.operation.name`: one of the spec's values (`genAiOperationName` in telemetry/names.ts). */
  readonly genAiOperation: string
  /** The request span's name (`aicache chat`). */
  readonly requestSpanName: string
  /** `gen_ai.provider.name` of a call to this upstream. */
  providerName(upstream: URL): string
  /**
   * Whether an app's own JSON body is a request of this format (wrap mode,
   * where the path says nothing). The registry asks formats in its order;
   * the first that recognises the body has it.
   */
  recognizes(body: Record<string, unknown>): boolean
  /**
   * Checks the format's own fields of a request body (the fields all
   * formats share are checked before); throws an `AiCacheError` naming the field.
   */
  validate(body: Record<string, unknown>): void
  /** The request's text, parts joined by newlines: what the tokenizer counts for a prompt. */
  promptText(body: Record<string, unknown>): string
  /** Tokens the format adds to the prompt's text (a chat's per-message framing). */
  framingTokens(body: Record<string, unknown>): number
  /**
   * The most tokens a request may generate, for the rate limit's
   * reservation; `defaultMaxTokens` when it sets no limit, 0 for a format
   * that generates nothing (embeddings).
   */
  maxOutputTokens(body: Record<string, unknown>, defaultMaxTokens: number): number
  /**
   * Parses an upstream answer's bytes, `undefined` when they are not JSON.
   * Called at most once per answer (see `AnswerJson`): shape check, usage,
   * model and recording share the result.
   */
  parseAnswer(body: Buffer): unknown
  /**
   * Whether a request is forwarded without being looked up, shared or
   * stored (a Responses `background: true` request starts a job its client
   * polls by id). Absent when every valid request is cacheable.
   */
  uncached?(body: Record<string, unknown>): boolean
  /**
   * Text added to the key for a field the canonical request leaves out
   * that still changes what the answer is good for (a Responses answer made
   * with `store: false` has an id that cannot be retrieved or chained with
   * `previous_response_id`). Absent when the canonical request says it all.
   */
  keyNote?(body: Record<string, unknown>): string
  /**
   * The semantic cache's view of a request (docs/semantic-cache.md): `text`,
   * the last user turn's text, which is compared by meaning; `context`,
   * everything else of the request (the body with that turn's text taken
   * out), which must be identical for a stored answer to be served. Return
   * `undefined` when the request is no candidate: the last turn is not the
   * user's (a tool result, an assistant prefill), or holds anything but text
   * (an image, a file, audio). Absent for formats that are never looked up
   * by meaning (embeddings, completions).
   *
   * A new chat-like format implements it by taking its last message out of
   * its own message list: Anthropic Messages would return the last
   * `messages` item's text when its `role` is `user` and every content block
   * is `type: 'text'`, and as context the body with that item's `content`
   * removed (`system`, `tools`, earlier turns and sampling parameters stay).
   */
  semanticQuery?(body: Record<string, unknown>): SemanticQuery | undefined
  /** Whether a parsed 2xx answer has the shape an answer of this format has (else it is not stored). */
  hasAnswerShape(answer: Record<string, unknown>): boolean
  /** Model, usage and the GenAI facts of a parsed answer. */
  describeAnswer(answer: Record<string, unknown>): AnswerDescription
  /** The generated text of an answer, counted when it reported no usage. */
  outputText(answer: Record<string, unknown>): string
  /**
   * An error aicache made itself (a refused body, a rate limit, an
   * unreachable upstream), in the format's own error shape. Absent: the
   * OpenAI error body and the error's own status.
   */
  errorAnswer?(error: AiCacheError): ErrorAnswer
  /** How its streams are read, assembled and synthesised; absent for a format that does not stream. */
  readonly stream?: StreamFormat
}

/** A request split for the semantic cache: see {@link ApiFormat.semanticQuery}. */
export interface SemanticQuery {
  /** The last user turn's text, trimmed and never empty: compared by meaning. */
  text: string
  /** The request without that text: canonicalised and hashed into the context key. */
  context: Record<string, unknown>
}

/** `JSON.parse` of an answer's bytes, `undefined` when they are not JSON: the `parseAnswer` of JSON formats. */
export function parseJsonAnswer(body: Buffer): unknown {
  try {
    return JSON.parse(body.toString('utf8'))
  } catch {
    return undefined
  }
}
