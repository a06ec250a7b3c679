import type { ServerResponse } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'

/** How an SSE answer is paced and whether it is cut off. */
export interface SseWriteOptions {
  chunkDelayMs: number
  dropMidBody: boolean
  /** End cleanly without the `[DONE]` frame, as a misbehaving upstream might. */
  omitDone?: boolean
  /** Pause after `[DONE]` before the body ends. */
  doneTailMs?: number
  /** Fail halfway with an error event, then `[DONE]` (see `Fault.streamError`). */
  streamError?: 'data' | 'event'
  headers: Record<string, string>
  /** How events are framed and how the stream ends; OpenAI chat's `data:` frames and `[DONE]` by default. */
  dialect?: SseDialect
}

/**
 * How one API frames its events: chat and completions send bare `data:`
 * frames closed by `data: [DONE]`; the Responses API and Anthropic Messages
 * name every event (`event: <type>`) and end with a terminal event instead.
 */
export interface SseDialect {
  /** The frame of one event. */
  frame(event: unknown): string
  /** Whether `data: [DONE]` follows the last event. */
  endsWithDone: boolean
  /** The frames a stream failing after the events `sent` ends with (see `Fault.streamError`). */
  failure(kind: 'data' | 'event', sent: readonly unknown[]): string[]
}

/** The error a failing stream reports, in the OpenAI error shape. */
const STREAM_ERROR = { message: 'The model failed while generating this answer.', type: 'server_error', code: 'internal_error', param: null }

function errorFrame(kind: 'data' | 'event'): string {
  const data = `data: ${JSON.stringify({ error: STREAM_ERROR })}\n\n`
  return kind === 'event' ? `event: error\n${data}` : data
}

/**
 * Writes and waits until the chunk reached the socket, so a following destroy cannot swallow it
 * and a vanished client ends the wait instead of hanging it.
 */
export function writeFlushed(response: ServerResponse, chunk: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (response.destroyed) return resolve()
    response.once('close', resolve)
    response.write(chunk, () => {
      response.off('close', resolve)
      resolve()
    })
  })
}

/** OpenAI chat and completions: `data: <json>` frames, `data: [DONE]`, and a bare error frame or `event: error`. */
export const DATA_DIALECT: SseDialect = {
  frame: (event) => `data: ${JSON.stringify(event)}\n\n`,
  endsWithDone: true,
  failure: (kind) => [errorFrame(kind)],
}

/** A frame naming its event by the payload's `type`, as the Responses API and Anthropic send them. */
export function namedFrame(event: unknown): string {
  const type = (event as { type?: unknown }).type
  return `event: ${String(type)}\ndata: ${JSON.stringify(event)}\n\n`
}

/**
 * Builds the frames of a stream. Failing (`streamError`) keeps about half the events and ends with the
 * dialect's failure frames; `omitDone` leaves out `[DONE]`, or the terminal event of a dialect without one.
 */
function framesOf(events: readonly unknown[], options: SseWriteOptions): string[] {
  const dialect = options.dialect ?? DATA_DIALECT
  let kept = [...events]
  if (options.omitDone && !dialect.endsWithDone) kept = kept.slice(0, -1)
  if (options.streamError !== undefined) kept = kept.slice(0, Math.max(1, Math.floor(kept.length / 2)))
  const frames = kept.map((event) => dialect.frame(event))
  if (options.streamError !== undefined) frames.push(...dialect.failure(options.streamError, kept))
  if (dialect.endsWithDone && !options.omitDone) frames.push('data: [DONE]\n\n')
  return frames
}

/**
 * Streams events as SSE frames in the dialect's form (by default `data: <json>\n\n` frames ending with
 * `data: [DONE]`), stopping as soon as the client leaves. The tail pause follows the last frame.
 */
export async function writeSse(response: ServerResponse, events: readonly unknown[], options: SseWriteOptions): Promise<void> {
  const frames = framesOf(events, options)
  const frameCount = options.dropMidBody ? Math.max(1, Math.floor(frames.length / 2)) : frames.length
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', ...options.headers })
  // Headers go out before the first chunk so time-to-first-byte is measurable.
  response.flushHeaders()
  for (const [index, frame] of frames.slice(0, frameCount).entries()) {
    if (index > 0 && options.chunkDelayMs > 0) await sleep(options.chunkDelayMs)
    if (response.destroyed) return
    await writeFlushed(response, frame)
  }
  if (options.dropMidBody) return void response.destroy()
  const endsCleanly = !options.omitDone || !(options.dialect ?? DATA_DIALECT).endsWithDone
  if (endsCleanly && (options.doneTailMs ?? 0) > 0) await sleep(options.doneTailMs)
  if (!response.destroyed) response.end()
}
