/**
 * An open-loop load at a fixed rate, in this (the runner's) process: one
 * request every 1/rate seconds whatever the answers take, as independent
 * clients would send them, each answer recorded with its time. For the
 * failure scenarios, where what matters is which requests failed when, not
 * how many the server can take.
 */
import { Agent, request as httpRequest } from 'node:http'

/** What to send. */
export interface PacedLoadSpec {
  /** 'http://127.0.0.1:PORT'. */
  origin: string
  path: string
  headers: Readonly<Record<string, string>>
  /** Called for every request. */
  body: () => string
  requestsPerSecond: number
  durationSeconds: number
  timeoutMs: number
  /** Called with each answer as it arrives. */
  onReply?: (reply: PacedReply) => void
}

/** One request's answer. */
export interface PacedReply {
  /** When it was sent, from the start of the run. */
  sentAtMs: number
  /** 0 when there was no answer (connection error or timeout). */
  status: number
  /** `error.code` of an OpenAI error body, if there was one. */
  errorCode: string | undefined
}

function errorCodeOf(body: string): string | undefined {
  try {
    const code = (JSON.parse(body) as { error?: { code?: unknown } }).error?.code
    return typeof code === 'string' ? code : undefined
  } catch {
    return undefined
  }
}

function sendOne(spec: PacedLoadSpec, agent: Agent, sentAtMs: number): Promise<PacedReply> {
  const body = spec.body()
  return new Promise((resolve) => {
    const failed = () => resolve({ sentAtMs, status: 0, errorCode: undefined })
    const request = httpRequest(
      new URL(spec.path, spec.origin),
      { method: 'POST', agent, headers: { ...spec.headers, 'content-length': String(Buffer.byteLength(body)) }, timeout: spec.timeoutMs },
      (response) => {
        const chunks: Buffer[] = []
        response.on('data', (chunk: Buffer) => chunks.push(chunk))
        response.once('error', failed)
        response.once('end', () => {
          const status = response.statusCode ?? 0
          const text = Buffer.concat(chunks).toString('utf8')
          resolve({ sentAtMs, status, errorCode: status >= 400 ? errorCodeOf(text) : undefined })
        })
      },
    )
    request.once('timeout', () => request.destroy(new Error(`no answer within ${spec.timeoutMs} ms`)))
    request.once('error', failed)
    request.end(body)
  })
}

/** Sends `requestsPerSecond` for `durationSeconds`, then waits for every answer; replies in the order sent. */
export async function runPacedLoad(spec: PacedLoadSpec): Promise<PacedReply[]> {
  // A connection per request: a reused keep-alive socket that the server closes as it idles
  // would fail a request for a reason that has nothing to do with what is measured.
  const agent = new Agent({ keepAlive: false, maxSockets: Number.POSITIVE_INFINITY })
  const intervalMs = 1_000 / spec.requestsPerSecond
  const total = Math.round(spec.durationSeconds * spec.requestsPerSecond)
  const startedAt = performance.now()
  const pending: Array<Promise<PacedReply>> = []
  try {
    for (let index = 0; index < total; index++) {
      // Scheduled against the start, so a late timer does not slow the rate down.
      const waitMs = startedAt + index * intervalMs - performance.now()
      if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs))
      const sent = sendOne(spec, agent, performance.now() - startedAt)
      pending.push(spec.onReply ? sent.then((reply) => (spec.onReply!(reply), reply)) : sent)
    }
    return await Promise.all(pending)
  } finally {
    agent.destroy()
  }
}
