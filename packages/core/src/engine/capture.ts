import type { CapturedResponse, Outcome } from '../exchange/types.js'
import type { Production } from '../flight/production.js'
import type { CacheEntry } from '../store/entry.js'
import type { LockHandle } from '../store/redis-layer.js'
import { SseParser } from '../stream/sse.js'
import type { ForwardReason } from './cache-status.js'
import { HandlerAbandoned } from './follow.js'
import type { PreparedRequest } from './prepare.js'
import { isEventStream } from './pump.js'
import { jsonEntry, pickStoredHeaders, type StorePlan, streamEntry } from './recording.js'

const noBody = Buffer.alloc(0)

/** Everything capturing one wrapped handler's answer needs. */
export interface CaptureJob {
  prepared: PreparedRequest
  production: Production
  plan: StorePlan | undefined
  reason: ForwardReason
  /** The cross-instance lock, released once the answer is stored (or abandoned). */
  lock: LockHandle | undefined
  /** Past this size the answer could not be kept anyway. */
  maxBytes: number
  keep: (plan: StorePlan | undefined, entry: CacheEntry | undefined, counted?: Promise<CacheEntry | undefined>) => Promise<void>
  /** The answer was stored (or not): what it cost is counted. */
  onStored: (entry: CacheEntry | undefined) => void
}

/**
 * Wrap mode, a miss: the app's handler runs; what it writes is recorded
 * into the production (for requests waiting on it) and stored when it ends.
 */
export function captureHandler(job: CaptureJob): Outcome {
  const { prepared, production, reason, lock, maxBytes } = job
  const startedAt = Date.now()
  const chunks: Array<{ chunk: Buffer; atMs: number }> = []
  let bytes = 0
  // Adapters may see both an end and a close; only the first ending counts.
  let settled = false
  return {
    type: 'next',
    body: prepared.body(),
    headers: { 'cache-status': `aicache; fwd=${reason}` },
    capture: {
      write: (chunk) => {
        if (settled) return
        bytes += chunk.byteLength
        // Past the memory tier's size the answer could not be kept anyway.
        if (bytes <= maxBytes) chunks.push({ chunk: Buffer.from(chunk), atMs: Date.now() })
      },
      complete: (response: CapturedResponse) => {
        if (settled) return
        settled = true
        if (bytes > maxBytes) {
          void lock?.release()
          return production.fail(new HandlerAbandoned())
        }
        completeCapture(job, response, chunks, startedAt)
          .catch((error: unknown) => production.fail(error))
          .finally(() => lock?.release())
      },
      abandon: () => {
        if (settled) return
        settled = true
        void lock?.release()
        production.fail(new HandlerAbandoned())
      },
    },
  }
}

async function completeCapture(
  job: CaptureJob,
  response: CapturedResponse,
  chunks: ReadonlyArray<{ chunk: Buffer; atMs: number }>,
  startedAt: number,
): Promise<void> {
  const { production, plan } = job
  const { status } = response
  // Requests that share this answer get only the headers an entry keeps:
  // a handler's cookies or per-user headers are not theirs.
  const headers = pickStoredHeaders(response.headers)
  if (isEventStream(response.headers)) {
    const parser = new SseParser(startedAt)
    const events = chunks.flatMap(({ chunk, atMs }) => parser.push(chunk, atMs))
    events.push(...parser.end())
    production.start({ status, headers, streaming: true })
    for (const event of events) production.append(event)
    // A handler's clean end completes its stream, with or without [DONE].
    const recording = plan ? streamEntry(plan, status, response.headers, events, response.meta) : undefined
    const entry = recording?.entry
    const stored = job.keep(plan, entry, recording?.counted)
    // What it cost is known once it is counted.
    if (recording?.counted) void recording.counted.then((counted) => job.onStored(counted ?? entry))
    else job.onStored(entry)
    production.finish({ body: noBody, stored: entry !== undefined, complete: true, usage: entry?.usage })
    return stored
  }
  const body = Buffer.concat(chunks.map(({ chunk }) => chunk))
  production.start({ status, headers, streaming: false })
  const entry = plan && jsonEntry(plan, status, response.headers, body, response.meta)
  const stored = job.keep(plan, entry)
  job.onStored(entry)
  production.finish({ body, stored: entry !== undefined, complete: true, usage: entry?.usage })
  return stored
}
