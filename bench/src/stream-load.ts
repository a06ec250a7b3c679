/**
 * A bounded load of streaming requests with node:http, in the runner, that
 * times each response itself: time to first body byte (from the moment the
 * request was handed to the socket) and time to the end of the stream.
 * autocannon cannot tell the first byte of a body from the last.
 */
import { Agent, request as httpRequest } from 'node:http'
import { percentile } from './statistics.js'

const REQUEST_TIMEOUT_MS = 10_000
const DONE_FRAME = 'data: [DONE]\n\n'

/** What to send. */
export interface StreamLoadSpec {
  /** 'http://127.0.0.1:PORT'. */
  origin: string
  path: string
  headers: Readonly<Record<string, string>>
  /** Called for every request. */
  body: () => string
  /** What the end of a complete stream contains. @default 'data: [DONE]\n\n' (OpenAI's chat and completions) */
  streamEnd?: string
  /** Requests in flight at any time (one keep-alive connection each). */
  connections: number
  durationSeconds: number
}

/** What came back. Times are of complete 2xx streams only. */
export interface StreamLoadResult {
  /** Complete 2xx streams per second. */
  requestsPerSecond: number
  ttfbP50Ms: number
  ttfbP99Ms: number
  /** Time to the last byte. */
  totalP50Ms: number
  /** Every time to first byte, for pooling over rounds. */
  ttfbsMs: number[]
  responseCount: number
  /** Connection errors, timeouts, and 2xx streams that ended without their end (`data: [DONE]`). */
  errors: number
  non2xx: number
  /** CPU seconds the server process used during the run, where the scenario measured it. */
  serverCpuSeconds?: number
}

type Sample = { kind: 'ok'; ttfbMs: number; totalMs: number } | { kind: 'error' } | { kind: 'non2xx' }

function sendOne(spec: StreamLoadSpec, agent: Agent): Promise<Sample> {
  return new Promise((resolve) => {
    const body = spec.body()
    const streamEnd = spec.streamEnd ?? DONE_FRAME
    const request = httpRequest(`${spec.origin}${spec.path}`, {
      method: 'POST',
      agent,
      headers: { ...spec.headers, 'content-length': Buffer.byteLength(body) },
    })
    let sentAt = Number.NaN
    let settled = false
    const settle = (sample: Sample): void => {
      if (settled) return
      settled = true
      resolve(sample)
    }
    request.setTimeout(REQUEST_TIMEOUT_MS, () => request.destroy(new Error('timeout')))
    request.once('finish', () => (sentAt = performance.now()))
    request.once('error', () => settle({ kind: 'error' }))
    request.once('response', (response) => {
      const status = response.statusCode ?? 0
      let firstByteAt = Number.NaN
      let tail = ''
      let ended = false
      response.on('data', (chunk: Buffer) => {
        if (Number.isNaN(firstByteAt)) firstByteAt = performance.now()
        if (streamEnd === DONE_FRAME) {
          tail = (tail + chunk.toString('latin1')).slice(-DONE_FRAME.length)
          ended = tail === DONE_FRAME
        } else {
          // A typed stream's end event carries a payload after its name: look for the name.
          const text = tail + chunk.toString('latin1')
          ended ||= text.includes(streamEnd)
          tail = text.slice(-streamEnd.length)
        }
      })
      response.once('error', () => settle({ kind: 'error' }))
      response.once('end', () => {
        if (status < 200 || status > 299) return settle({ kind: 'non2xx' })
        if (!ended) return settle({ kind: 'error' })
        const endedAt = performance.now()
        settle({ kind: 'ok', ttfbMs: firstByteAt - sentAt, totalMs: endedAt - sentAt })
      })
    })
    request.end(body)
  })
}

/** Keeps `connections` streams in flight for `durationSeconds`, then waits for the last ones to end. */
export async function runStreamLoad(spec: StreamLoadSpec): Promise<StreamLoadResult> {
  const agent = new Agent({ keepAlive: true, maxSockets: spec.connections })
  const samples: Sample[] = []
  const startedAt = performance.now()
  const deadline = startedAt + spec.durationSeconds * 1000
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) samples.push(await sendOne(spec, agent))
  }
  try {
    await Promise.all(Array.from({ length: spec.connections }, worker))
  } finally {
    agent.destroy()
  }
  const elapsedSeconds = (performance.now() - startedAt) / 1000
  const ok = samples.filter((sample) => sample.kind === 'ok')
  const ttfbs = Float64Array.from(ok.map((sample) => sample.ttfbMs)).sort()
  const totals = Float64Array.from(ok.map((sample) => sample.totalMs)).sort()
  return {
    requestsPerSecond: ok.length / elapsedSeconds,
    ttfbP50Ms: percentile(ttfbs, 50),
    ttfbP99Ms: percentile(ttfbs, 99),
    totalP50Ms: percentile(totals, 50),
    ttfbsMs: Array.from(ttfbs),
    responseCount: samples.length,
    errors: samples.filter((sample) => sample.kind === 'error').length,
    non2xx: samples.filter((sample) => sample.kind === 'non2xx').length,
  }
}
