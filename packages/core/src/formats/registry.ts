import { chatCompletions } from './chat-completions.js'
import { completions } from './completions.js'
import { embeddings } from './embeddings.js'
import { responses } from './responses.js'
import { anthropicMessages } from './anthropic-messages.js'
import { choiceStream } from './choice-stream.js'
import type { RequestHeaders } from '../exchange/types.js'
import type { ApiFormat, StreamFormat } from './format.js'

/**
 * The API formats aicache caches, one descriptor each (see `ApiFormat`).
 * A new format is one module beside this one and one line here. The order
 * is the order in which a wrap-mode body is recognised (`formatOfBody`).
 */
export const apiFormats = [chatCompletions, completions, embeddings, responses, anthropicMessages] as const

/** The calls aicache caches, by the id of their format. */
export type Operation = (typeof apiFormats)[number]['id']

/** Every format's gateway paths (proxy mode), for adapters that register routes by path. */
export const gatewayPaths: readonly string[] = apiFormats.flatMap((format) => format.paths)

// Two flat arrays, compared in a loop: as cheap as a `switch` on the paths.
// A request's path is a new string, and using it as a property or Map key
// first looks it up in V8's string table.
const pathFormats: readonly ApiFormat[] = apiFormats.flatMap((format) => format.paths.map(() => format))

// Longest first, so `/chat/completions` is found before `/completions`.
const bySuffix: readonly ApiFormat[] = [...apiFormats].sort((a, b) => b.urlSuffix.length - a.urlSuffix.length)

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path
}

/** The format of a gateway path, or `undefined` for any other path. */
export function formatOfPath(path: string): ApiFormat | undefined {
  const trimmed = trimSlash(path)
  for (let index = 0; index < gatewayPaths.length; index++) {
    if (gatewayPaths[index] === trimmed) return pathFormats[index]
  }
  return undefined
}

/**
 * The format of a client-mode URL path: clients put their own base path in
 * front (`/v1`, `/openai/deployments/x`), so only the end counts.
 */
export function formatOfUrlPath(path: string): ApiFormat | undefined {
  const trimmed = trimSlash(path)
  for (const format of bySuffix) if (trimmed.endsWith(format.urlSuffix) && (format.claimsUrlPath?.(trimmed) ?? true)) return format
  return undefined
}

/**
 * The format whose upstream and error shape an uncached `/v1/` route
 * belongs to: Anthropic Messages for its own sub-routes
 * (`/v1/messages/count_tokens`, `/v1/messages/batches`) and for any call
 * that names an `anthropic-version` (as Anthropic's clients always do:
 * `/v1/models`, `/v1/files`); `undefined` (OpenAI's) for everything else.
 */
export function providerFormatOf(path: string, headers: RequestHeaders): ApiFormat | undefined {
  return path.startsWith('/v1/messages/') || headers['anthropic-version'] !== undefined ? anthropicMessages : undefined
}

/** The format an app's own JSON body looks like, in wrap mode: the first in the registry that recognises it. */
export function formatOfBody(body: unknown): ApiFormat | undefined {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return undefined
  const record = body as Record<string, unknown>
  for (const format of apiFormats) if (format.recognizes(record)) return format
  return undefined
}

/**
 * Whether an app's own JSON body is unmistakably an LLM call: a string
 * `model` and a body some format recognises (`messages`, `prompt` or
 * `input`). What wrap mode caches when it is mounted for every route of an app.
 */
export function isLlmCall(body: unknown): boolean {
  return formatOfBody(body) !== undefined && typeof (body as Record<string, unknown>)['model'] === 'string'
}

/**
 * The format that reads and converts an answer: the request's own, or for
 * an app's own route in wrap mode (which answers in a shape of its own,
 * so `format` is `undefined`) the chat completions one, whose choice-stream
 * code recognises chat and text completion streams by their content and
 * declines anything else (which is then replayed as recorded).
 */
export function answerFormatOf(format: ApiFormat | undefined): ApiFormat {
  return format ?? chatCompletions
}

/**
 * How the streams of a format are read: its own, or (an app's own route, a
 * format that does not stream but whose upstream answered with events
 * anyway) OpenAI's choice streams, which end at `[DONE]`.
 */
export function streamFormatOf(format: ApiFormat | undefined): StreamFormat {
  return format?.stream ?? choiceStream
}

/** The prompt text of a request body, by its format or the one its body looks like. */
export function promptTextOf(body: unknown, format: ApiFormat | undefined = formatOfBody(body)): string {
  if (format === undefined || body === null || typeof body !== 'object') return ''
  return format.promptText(body as Record<string, unknown>)
}
