import type { ServerResponse } from 'node:http'
import { writeFlushed, writeSse, type SseDialect } from './sse.js'

/** What the fake answers, decided before anything is written so faults can alter it. */
export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers: Record<string, string> }
  | { kind: 'sse'; events: readonly unknown[]; headers: Record<string, string>; dialect?: SseDialect }

/** A JSON answer. */
export function jsonReply(status: number, body: unknown, headers: Record<string, string> = {}): Reply {
  return { kind: 'json', status, body, headers }
}

/** A server-sent events answer, framed as OpenAI chat frames them unless a dialect is given. */
export function sseReply(events: readonly unknown[], dialect?: SseDialect): Reply {
  return dialect === undefined ? { kind: 'sse', events, headers: {} } : { kind: 'sse', events, headers: {}, dialect }
}

/** How a reply is delivered. */
export interface ReplyWriteOptions {
  chunkDelayMs: number
  dropMidBody: boolean
  /** Send half a JSON body, then nothing until the client closes the connection. */
  stallMidBody?: boolean
  omitDone?: boolean
  doneTailMs?: number
  streamError?: 'data' | 'event'
  extraHeaders: Record<string, string>
}

async function writeJson(response: ServerResponse, reply: Reply & { kind: 'json' }, options: ReplyWriteOptions): Promise<void> {
  const bytes = Buffer.from(reply.body === undefined ? '' : JSON.stringify(reply.body))
  response.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': String(bytes.length),
    ...reply.headers,
    ...options.extraHeaders,
  })
  if (!options.dropMidBody && !options.stallMidBody) {
    response.end(bytes)
    return
  }
  await writeFlushed(response, bytes.subarray(0, Math.floor(bytes.length / 2)))
  if (options.stallMidBody) {
    if (!response.destroyed) await new Promise((resolve) => response.once('close', resolve))
    return
  }
  response.destroy()
}

/** Writes a reply, cutting it off halfway when a mid-body drop was injected. */
export async function writeReply(response: ServerResponse, reply: Reply, options: ReplyWriteOptions): Promise<void> {
  if (response.destroyed) return
  if (reply.kind === 'json') return writeJson(response, reply, options)
  const headers = { ...reply.headers, ...options.extraHeaders }
  return writeSse(response, reply.events, {
    chunkDelayMs: options.chunkDelayMs,
    dropMidBody: options.dropMidBody,
    omitDone: options.omitDone ?? false,
    doneTailMs: options.doneTailMs ?? 0,
    ...(options.streamError === undefined ? {} : { streamError: options.streamError }),
    ...(reply.dialect === undefined ? {} : { dialect: reply.dialect }),
    headers,
  })
}
