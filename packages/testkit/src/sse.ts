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

/** Streams events as `data: <json>\n\n` frames ending with `data: [DONE]`, stopping as soon as the client leaves. */
export async function writeSse(response: ServerResponse, events: readonly unknown[], options: SseWriteOptions): Promise<void> {
  const frames = events.map((event) => `data: ${JSON.stringify(event)}\n\n`)
  if (options.streamError !== undefined) frames.splice(Math.max(1, Math.floor(frames.length / 2)), Infinity, errorFrame(options.streamError))
  if (!options.omitDone) frames.push('data: [DONE]\n\n')
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
  if (!options.omitDone && (options.doneTailMs ?? 0) > 0) await sleep(options.doneTailMs)
  if (!response.destroyed) response.end()
}
