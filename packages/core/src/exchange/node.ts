import type { IncomingMessage, ServerResponse } from 'node:http'
import { Readable, Transform, pipeline as pipelineCallback } from 'node:stream'
import { AiCacheError } from '../errors.js'
import type { ExchangeRequest, RespondOutcome, ResponseHeaders, ResponseMeta, RouteDirectives, StreamOutcome, WrapCapture } from './types.js'

/** What a Node-based adapter knows of the request beyond `IncomingMessage`. */
export interface NodeExchangeOptions {
  /** Path without query, relative to where the middleware is mounted. */
  path: string
  /** Path with query, relative to where the middleware is mounted. */
  url: string
  /** The body, when a framework parser already consumed the stream. */
  parsedBody?: unknown
  /** The body's bytes, when the framework already read them (Fastify's `parseAs: 'buffer'`, a `verify` hook). */
  rawBody?: Buffer
  /** The framework's request object. */
  native?: unknown
  /** Cache settings of the route, under the request's own headers. */
  route?: RouteDirectives
  /** Where the middleware runs (see {@link ExchangeRequest.mount}). */
  mount?: 'app' | 'route'
}

/** The error of a request body over `maxBytes`, for adapters whose framework enforces the limit. */
export function bodyTooLargeError(maxBytes: number): AiCacheError {
  return new AiCacheError('body_too_large', `The request body is larger than the limit of ${maxBytes} bytes.`)
}

function readNodeBody(request: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const declared = Number(request.headers['content-length'])
  if (declared > maxBytes) return Promise.reject(bodyTooLargeError(maxBytes))
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let received = 0
    const onData = (chunk: Buffer) => {
      received += chunk.byteLength
      if (received > maxBytes) {
        cleanup()
        // Discard the rest so the connection can still carry the 413.
        request.resume()
        reject(bodyTooLargeError(maxBytes))
        return
      }
      chunks.push(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received))
    }
    const onError = (error: Error) => {
      cleanup()
      reject(error)
    }
    const cleanup = () => {
      request.off('data', onData)
      request.off('end', onEnd)
      request.off('error', onError)
    }
    request.on('data', onData)
    request.on('end', onEnd)
    request.on('error', onError)
  })
}

/**
 * A Node request as an {@link ExchangeRequest}. A class, not an object
 * literal: a literal with a getter gets a hidden class of its own each time
 * (the getter is a new closure), and those pile up in the old generation,
 * making every garbage collection of a busy server slower.
 */
class NodeExchange implements ExchangeRequest {
  readonly method: string
  readonly path: string
  readonly url: string
  readonly headers: IncomingMessage['headers']
  readonly parsedBody: unknown
  readonly native: unknown
  readonly route: RouteDirectives | undefined
  readonly mount: 'app' | 'route' | undefined
  readonly rawBody: Buffer | undefined
  readonly #request: IncomingMessage
  readonly #response: ServerResponse
  #controller: AbortController | undefined

  constructor(request: IncomingMessage, response: ServerResponse, options: NodeExchangeOptions) {
    this.method = request.method ?? 'GET'
    this.path = options.path
    this.url = options.url
    this.headers = request.headers
    this.parsedBody = options.parsedBody
    this.native = options.native
    this.route = options.route
    this.mount = options.mount
    this.rawBody = options.rawBody
    this.#request = request
    this.#response = response
  }

  readBody(maxBytes: number): Buffer | Promise<Buffer> {
    const raw = this.rawBody
    if (raw === undefined) return readNodeBody(this.#request, maxBytes)
    if (raw.byteLength > maxBytes) throw bodyTooLargeError(maxBytes)
    return raw
  }

  bodyStream(): Readable {
    return this.rawBody === undefined ? this.#request : Readable.from([this.rawBody])
  }

  /** The peer's address on the socket (read when asked: only an address-based rate limit needs it). */
  get remoteAddress(): string | undefined {
    return this.#request.socket?.remoteAddress
  }

  /** Aborted when the client leaves before the answer is complete. Created on first use only: hits never need it. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const response = this.#response
      const created = new AbortController()
      this.#controller = created
      if (response.destroyed && !response.writableFinished) created.abort()
      else response.once('close', () => response.writableFinished || created.abort())
    }
    return this.#controller.signal
  }
}

/** Describes a Node request as an {@link ExchangeRequest}. */
export function nodeExchange(request: IncomingMessage, response: ServerResponse, options: NodeExchangeOptions): ExchangeRequest {
  return new NodeExchange(request, response, options)
}

function withLength(headers: ResponseHeaders, length: number): ResponseHeaders {
  return { ...headers, 'content-length': length }
}

/**
 * Sends a complete or streamed outcome on a Node response. A complete one is
 * written at once; a stream resolves when it ended (or broke off).
 */
export function sendNodeOutcome(response: ServerResponse, outcome: RespondOutcome | StreamOutcome): Promise<void> | undefined {
  if (outcome.type === 'stream') return sendNodeStream(response, outcome)
  const headers = outcome.headers['content-length'] === undefined ? withLength(outcome.headers, outcome.body.byteLength) : outcome.headers
  response.writeHead(outcome.status, headers)
  response.end(outcome.body)
  return undefined
}

async function sendNodeStream(response: ServerResponse, outcome: StreamOutcome): Promise<void> {
  response.writeHead(outcome.status, outcome.headers)
  let started = false
  // The head leaves with the first chunk when that chunk is ready in this turn
  // of the event loop (one write, one packet: the first token arrives sooner);
  // otherwise alone at the end of the turn, so the client sees the answer
  // begin before a slow first token.
  const flush = setImmediate(() => {
    if (!started && !response.destroyed) response.flushHeaders()
  })
  try {
    // A loop rather than stream.pipeline: this is all a stream of chunks to a
    // response needs, without pipeline's per-stream setup on every miss.
    for await (const chunk of outcome.body) {
      // The client left: leaving the loop ends the source (the follower goes, a piped upstream answer is destroyed).
      if (response.destroyed) return
      started = true
      if (!response.write(chunk)) await drained(response)
    }
    response.end()
  } catch {
    // The upstream broke off or the client left; either way the response is over.
    response.destroy()
  } finally {
    clearImmediate(flush)
  }
}

/** Resolves when the response can take more, or is gone. */
function drained(response: ServerResponse): Promise<void> {
  if (response.destroyed) return Promise.resolve()
  return new Promise((resolve) => {
    const done = () => {
      response.off('drain', done)
      response.off('close', done)
      resolve()
    }
    response.on('drain', done)
    response.on('close', done)
  })
}

type WriteArguments = [chunk: unknown, encoding?: unknown, callback?: unknown]

function toBuffer(chunk: unknown, encoding: unknown): Buffer | undefined {
  if (chunk === undefined || chunk === null || typeof chunk === 'function') return undefined
  if (typeof chunk === 'string') return Buffer.from(chunk, typeof encoding === 'string' ? (encoding as BufferEncoding) : 'utf8')
  return Buffer.from(chunk as Uint8Array)
}

/**
 * Reports what a handler writes on a Node response (wrap mode) to `capture`,
 * chunk by chunk, then completes it when the response finished or abandons
 * it when the connection closed first.
 */
export function captureNodeResponse(response: ServerResponse, capture: WrapCapture, meta: () => ResponseMeta | undefined): void {
  const record = ([chunk, encoding]: WriteArguments) => {
    const buffer = toBuffer(chunk, encoding)
    if (buffer !== undefined && buffer.byteLength > 0) capture.write(buffer)
  }
  const write = response.write
  const end = response.end
  response.write = function (this: ServerResponse, ...args: WriteArguments) {
    record(args)
    return Reflect.apply(write, this, args) as boolean
  } as ServerResponse['write']
  response.end = function (this: ServerResponse, ...args: WriteArguments) {
    record(args)
    return Reflect.apply(end, this, args) as ServerResponse
  } as ServerResponse['end']
  // 'finish': the whole response was handed to the OS, before the client can
  // ask again; 'close' without it: the connection ended first.
  response.once('finish', () => {
    capture.complete({
      status: response.statusCode,
      headers: response.getHeaders(),
      meta: meta(),
    })
  })
  response.once('close', () => {
    if (!response.writableFinished) capture.abandon()
  })
}

/**
 * For adapters that hand the framework a body stream (Koa's `ctx.body`,
 * Fastify's payload): forwards it unchanged while reporting each chunk to
 * `capture`, then calls `onEnd` when it ended, or abandons the capture when
 * it failed or was destroyed because the client left.
 */
export function tapStream(source: Readable, capture: WrapCapture, onEnd: () => void): Readable {
  const tapped = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      capture.write(chunk)
      callback(null, chunk)
    },
  })
  pipelineCallback(source, tapped, (error) => (error ? capture.abandon() : onEnd()))
  return tapped
}
