import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api'
import express, { type ErrorRequestHandler, type RequestHandler } from 'express'
import { type AiCache, type AiCacheOptions, aiCache, createAiCache } from '@aicache/express'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'

/** Options of {@link startGateway}. */
export interface GatewayOptions {
  /** Port of the gateway; 0 picks a free one. @default 8787 */
  port?: number
  /** @default '127.0.0.1' */
  host?: string
  /** OpenAI-compatible upstream. Without it a built-in demo upstream (a fake LLM) is started. */
  upstreamUrl?: string
  /** Latency of the built-in demo upstream before its first byte. @default 300 */
  demoLatencyMs?: number
  /** Engine options besides `upstream`. */
  cache?: Omit<AiCacheOptions, 'upstream'>
}

/** A running gateway. */
export interface Gateway {
  /** `http://HOST:PORT` */
  readonly url: string
  /** What clients use as the OpenAI base URL: `http://HOST:PORT/v1`. */
  readonly openAiBaseUrl: string
  readonly upstreamUrl: string
  /** The built-in demo upstream, when no upstream URL was given. */
  readonly demoUpstream: FakeUpstream | undefined
  readonly engine: AiCache
  close(): Promise<void>
}

function openAiError(status: number, message: string, code: string | null) {
  return { error: { message, type: status < 500 ? 'invalid_request_error' : 'api_error', code, param: null } }
}

/**
 * An HTTP server span per request (HTTP semantic conventions), continuing the
 * caller's trace from its `traceparent` header, with aicache's spans under
 * it. What `@opentelemetry/instrumentation-http` does, in the few lines this
 * gateway needs, without loading the SDK before the app.
 */
function serverSpans(): RequestHandler {
  const tracer = trace.getTracer('@aicache/example-observability')
  return (req, res, next) => {
    const parent = propagation.extract(context.active(), req.headers)
    const span = tracer.startSpan(
      `${req.method} ${req.path}`,
      {
        kind: SpanKind.SERVER,
        attributes: { 'http.request.method': req.method, 'url.path': req.path, 'url.scheme': req.protocol, 'http.route': req.path },
      },
      parent,
    )
    let ended = false
    const end = () => {
      if (ended) return
      ended = true
      span.setAttribute('http.response.status_code', res.statusCode)
      // Server spans: only 5xx is an error; a 4xx is the caller's doing.
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR })
      span.end()
    }
    res.once('finish', end)
    res.once('close', end)
    context.with(trace.setSpan(parent, span), next)
  }
}

function createApp(engine: AiCache): express.Express {
  const app = express()
  app.disable('x-powered-by')
  app.use(serverSpans())
  app.use(aiCache(engine))
  app.use((req, res) => {
    res.status(404).json(openAiError(404, `No route ${req.method} ${req.path}.`, 'not_found'))
  })
  const onError: ErrorRequestHandler = (error: { status?: number; message?: string }, _req, res, _next) => {
    const status = error.status && error.status >= 400 && error.status < 600 ? error.status : 500
    res.status(status).json(openAiError(status, status < 500 ? String(error.message) : 'Internal error', null))
  }
  app.use(onError)
  return app
}

/**
 * The aicache gateway: Express with `@aicache/express` in proxy mode, in front
 * of `upstreamUrl` or of the built-in demo upstream.
 *
 * @example
 * ```ts
 * const gateway = await startGateway({ port: 0 })
 * const openai = new OpenAI({ baseURL: gateway.openAiBaseUrl, apiKey: 'sk-demo' })
 * await gateway.close()
 * ```
 */
export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const demoUpstream = options.upstreamUrl ? undefined : await startFakeUpstream({ latencyMs: options.demoLatencyMs ?? 300 })
  const upstreamUrl = options.upstreamUrl ?? (demoUpstream as FakeUpstream).url
  const engine = createAiCache({ ...options.cache, upstream: upstreamUrl })
  const host = options.host ?? '127.0.0.1'
  const server: Server = createApp(engine).listen(options.port ?? 8787, host)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('listening', resolve)
      server.once('error', reject)
    })
  } catch (error) {
    await Promise.all([engine.close(), demoUpstream?.close()])
    throw error
  }
  const url = `http://${host}:${(server.address() as AddressInfo).port}`
  return {
    url,
    openAiBaseUrl: `${url}/v1`,
    upstreamUrl,
    demoUpstream,
    engine,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      server.closeAllConnections()
      await closed
      await Promise.all([engine.close(), demoUpstream?.close()])
    },
  }
}
