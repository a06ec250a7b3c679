import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { setTimeout as sleep } from 'node:timers/promises'
import { isAnthropicPath } from './anthropic-error.js'
import { CONTROL_PREFIX, controlReply } from './control.js'
import { errorBodyFor, FaultQueue, faultReply } from './faults.js'
import { parseJson } from './json.js'
import { FakeMemory } from './memory.js'
import { jsonReply, writeReply, type ReplyWriteOptions } from './reply.js'
import { route } from './router.js'
import type { Fault, FakeUpstream, FakeUpstreamOptions, RecordedCall } from './types.js'

// Longer than common client pools' idle timeouts, like OpenAI's edge, so clients rather than the fake close idle sockets.
const KEEP_ALIVE_TIMEOUT_MS = 65_000
const LATENCY_HEADER = 'x-fake-latency-ms'
// Real providers end the body a few milliseconds after [DONE].
const DEFAULT_DONE_TAIL_MS = 10
const PLAIN_WRITE: ReplyWriteOptions = { chunkDelayMs: 0, dropMidBody: false, extraHeaders: {} }

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** Headers from the raw list, because node joins repeated headers while the recording wants the last value. */
function lastValueHeaders(request: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {}
  const raw = request.rawHeaders
  for (let index = 0; index + 1 < raw.length; index += 2) {
    headers[(raw[index] ?? '').toLowerCase()] = raw[index + 1] ?? ''
  }
  return headers
}

class FakeUpstreamServer implements FakeUpstream {
  readonly #server: Server
  readonly #host: string
  #port = 0
  #calls: RecordedCall[] = []
  #callNumber = 0
  #faults = new FaultQueue()
  readonly #memory = new FakeMemory()
  #latencyMs: number
  #chunkDelayMs: number
  #doneTailMs: number
  #settleChecks: Array<() => boolean> = []

  constructor(options: FakeUpstreamOptions) {
    this.#host = options.host ?? '127.0.0.1'
    this.#latencyMs = options.latencyMs ?? 0
    this.#chunkDelayMs = options.chunkDelayMs ?? 0
    this.#doneTailMs = options.doneTailMs ?? DEFAULT_DONE_TAIL_MS
    this.#server = createServer((request, response) => this.#onRequest(request, response))
    this.#server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS
    // Node needs headersTimeout above keepAliveTimeout, or reused sockets can be cut mid-request.
    this.#server.headersTimeout = KEEP_ALIVE_TIMEOUT_MS + 1_000
  }

  async listen(port: number): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject)
      this.#server.listen(port, this.#host, () => {
        this.#server.off('error', reject)
        resolve()
      })
    })
    this.#port = (this.#server.address() as AddressInfo).port
    return this
  }

  get port(): number {
    return this.#port
  }

  get origin(): string {
    const host = this.#host.includes(':') ? `[${this.#host}]` : this.#host
    return `http://${host}:${this.#port}`
  }

  get url(): string {
    return `${this.origin}/v1`
  }

  get calls(): readonly RecordedCall[] {
    return this.#calls
  }

  callCount(path?: string): number {
    return path === undefined ? this.#calls.length : this.#calls.filter((call) => call.path === path).length
  }

  inject(fault: Fault): void {
    this.#faults.add(fault)
  }

  setLatency(latencyMs: number): void {
    this.#latencyMs = latencyMs
  }

  setChunkDelay(chunkDelayMs: number): void {
    this.#chunkDelayMs = chunkDelayMs
  }

  setDoneTail(doneTailMs: number): void {
    this.#doneTailMs = doneTailMs
  }

  reset(): void {
    this.#calls = []
    this.#faults.clear()
    this.#memory.clear()
    this.#notifySettled()
  }

  settled(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        const isSettled = this.#calls.every((call) => call.completed || call.aborted)
        if (isSettled) resolve()
        return isSettled
      }
      if (!check()) this.#settleChecks.push(check)
    })
  }

  close(): Promise<void> {
    // Resolves even when already closed, so test teardown can call it unconditionally.
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()))
    this.#server.closeAllConnections()
    return closed
  }

  #notifySettled(): void {
    this.#settleChecks = this.#settleChecks.filter((check) => !check())
  }

  #onRequest(request: IncomingMessage, response: ServerResponse): void {
    this.#handle(request, response).catch((error: unknown) => {
      if (response.headersSent || response.destroyed) return void response.destroy()
      const path = new URL(request.url ?? '/', 'http://fake').pathname
      void writeReply(response, jsonReply(500, errorBodyFor(path, 500, String(error))), PLAIN_WRITE)
    })
  }

  async #handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const rawBody = await readBody(request)
    const path = new URL(request.url ?? '/', 'http://fake').pathname
    const method = request.method ?? 'GET'
    if (path.startsWith(CONTROL_PREFIX)) return writeReply(response, controlReply(method, path, rawBody, this), PLAIN_WRITE)
    const callNumber = ++this.#callNumber
    const call = this.#record(request, response, { method, path, rawBody })
    const fault = this.#faults.take(call)
    const delayMs = this.#latencyFor(call) + (fault?.delayMs ?? 0)
    if (delayMs > 0) await sleep(delayMs)
    if (fault?.drop === 'before-headers') return void request.socket.destroy()
    const reply = (fault && faultReply(fault, call)) ?? route(call, callNumber, this.#memory)
    const requestId = `req_fake_${callNumber}`
    await writeReply(response, reply, {
      chunkDelayMs: this.#chunkDelayMs,
      dropMidBody: fault?.drop === 'mid-body',
      stallMidBody: fault?.drop === 'stall-mid-body',
      omitDone: fault?.drop === 'before-done',
      doneTailMs: this.#doneTailMs,
      ...(fault?.streamError === undefined ? {} : { streamError: fault.streamError }),
      // Anthropic names its request id header `request-id`.
      extraHeaders: { 'x-request-id': requestId, ...(isAnthropicPath(path) ? { 'request-id': requestId } : {}), ...fault?.headers },
    })
  }

  #record(request: IncomingMessage, response: ServerResponse, target: Pick<RecordedCall, 'method' | 'path' | 'rawBody'>): RecordedCall {
    const call: RecordedCall = {
      ...target,
      headers: lastValueHeaders(request),
      body: parseJson(target.rawBody),
      completed: false,
      aborted: false,
    }
    this.#calls.push(call)
    response.once('finish', () => {
      call.completed = true
      this.#notifySettled()
    })
    response.once('close', () => {
      call.aborted = !call.completed
      this.#notifySettled()
    })
    return call
  }

  #latencyFor(call: RecordedCall): number {
    const override = Number(call.headers[LATENCY_HEADER] ?? Number.NaN)
    return Number.isFinite(override) && override >= 0 ? override : this.#latencyMs
  }
}

/** Starts the fake LLM upstream on a free (or the given) port. */
export function startFakeUpstream(options: FakeUpstreamOptions = {}): Promise<FakeUpstream> {
  return new FakeUpstreamServer(options).listen(options.port ?? 0)
}
