import {
  type Attributes,
  type Context,
  context,
  type MeterProvider,
  type Span,
  type SpanOptions,
  SpanKind,
  SpanStatusCode,
  INVALID_SPAN_CONTEXT,
  ProxyTracerProvider,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { Outcome, TokenUsage } from '../exchange/types.js'
import type { CacheEntry } from '../store/entry.js'
import { entryMemo } from '../store/entry-memo.js'
import type { PriceOf } from '../pricing/pricing.js'
import type { ApiFormat } from '../formats/format.js'
import { answerFormatOf, apiFormats } from '../formats/registry.js'
import type { Tier } from '../engine/cache-status.js'
import type { StatsRecorder } from '../engine/stats.js'
import { Counts, SeriesLimit } from './counts.js'
import { type EngineCounts, type GaugeSources, type Instruments, InstrumentSet } from './instruments.js'
import { attribute, genAi, instrumentationName, type RefreshReason, type RequestResult, type StaleReason } from './names.js'
import { type Recordable, recordAtEndOfTurn } from './end-of-turn.js'
import { RequestTally } from './tally.js'
import { LoadSignals } from '../capacity/load-signals.js'

/** Telemetry options of the engine. */
export interface TelemetryOptions {
  /** Tracer provider to use instead of the global one. */
  tracerProvider?: TracerProvider
  /** Meter provider to use instead of the global one. */
  meterProvider?: MeterProvider
  /** Put prompt and answer text on spans. Off by default: they may hold personal data. @default false */
  recordContent?: boolean
  /**
   * Name of this engine, as `aicache.engine` on its metrics. Engines of one
   * process without a name (or with the same one) add up into one set of series.
   */
  engine?: string
}

/** What an upstream call said about itself, for its GenAI span and metrics. */
export interface UpstreamFacts {
  status?: number
  responseId?: string
  responseModel?: string
  finishReasons?: string[]
  usage?: TokenUsage
  errorType?: string
  completionText?: string
}

/** Where an upstream call goes. */
export interface UpstreamTarget {
  /** `gen_ai.operation.name` (the format's `genAiOperation`). */
  operationName: string
  model: string | undefined
  providerName: string
  address: string
  port: number
  /** The request asked for a stream. */
  stream?: boolean
  /** The parsed request body: its parameters go on the span. */
  requestBody?: () => unknown
}

type Json = Record<string, unknown>
const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value)

/** The GenAI request attributes of a request body: sampling parameters and whether it streams. */
function requestAttributes(body: unknown, stream: boolean | undefined): Attributes {
  const attributes: Attributes = {}
  if (stream !== undefined) attributes[genAi.requestStream] = stream
  if (!isObject(body)) return attributes
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : undefined)
  const maxTokens = number(body['max_completion_tokens']) ?? number(body['max_tokens'])
  if (maxTokens !== undefined) attributes[genAi.requestMaxTokens] = maxTokens
  const temperature = number(body['temperature'])
  if (temperature !== undefined) attributes[genAi.requestTemperature] = temperature
  const topP = number(body['top_p'])
  if (topP !== undefined) attributes[genAi.requestTopP] = topP
  const seed = number(body['seed'])
  if (seed !== undefined) attributes[genAi.requestSeed] = seed
  const stop = body['stop']
  if (typeof stop === 'string') attributes[genAi.requestStopSequences] = [stop]
  else if (Array.isArray(stop) && stop.every((item) => typeof item === 'string')) attributes[genAi.requestStopSequences] = stop as string[]
  return attributes
}

/** A message's content as GenAI parts: text parts as they are, other parts by their type. */
function partsOf(content: unknown): Json[] {
  if (typeof content === 'string') return [{ type: 'text', content }]
  if (!Array.isArray(content)) return content === undefined || content === null ? [] : [{ type: 'text', content: JSON.stringify(content) }]
  return content.map((part) =>
    isObject(part) && part['type'] === 'text' && typeof part['text'] === 'string'
      ? { type: 'text', content: part['text'] }
      : { type: isObject(part) && typeof part['type'] === 'string' ? part['type'] : 'unknown' },
  )
}

/** `gen_ai.input.messages` of a request body: chat messages, or a prompt / input as one user message. */
function inputMessages(body: unknown): string {
  if (!isObject(body)) return '[]'
  const messages = body['messages']
  if (Array.isArray(messages)) {
    return JSON.stringify(messages.map((message) => (isObject(message) ? { role: message['role'], parts: partsOf(message['content']) } : {})))
  }
  const prompt = body['prompt'] ?? body['input']
  const prompts = Array.isArray(prompt) && prompt.every((item) => typeof item === 'string') ? prompt : [prompt]
  return JSON.stringify(
    prompts.filter((item) => item !== undefined).map((item) => ({ role: 'user', parts: partsOf(typeof item === 'string' ? item : JSON.stringify(item)) })),
  )
}

// Stands in for the span while no SDK traces; it records nothing, so one serves all.
const notRecording = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

// The delegate of a global tracer provider no SDK has registered with: the
// API's no-op provider, one object per copy of the API. Compared by identity,
// which survives minification (class names do not).
const noopTracerProvider = new ProxyTracerProvider().getDelegate()

/** A span, or one that records nothing when the SDK throws: telemetry never fails a request. */
function startSpan(tracer: Tracer, name: string, options: SpanOptions, parent: Context): Span {
  try {
    return tracer.startSpan(name, options, parent)
  } catch {
    return notRecording
  }
}

/** One upstream call: a GenAI client span and the GenAI metrics. */
export class UpstreamObservation {
  readonly #telemetry: Telemetry
  readonly #target: UpstreamTarget
  readonly #span: Span
  readonly #startedAt = performance.now()
  #attempts = 1
  #ended = false
  // Operation and model, as the series of the load signals.
  readonly #loadSeries: string
  // Chunks of a streamed answer, timed only while an SDK records metrics.
  readonly #chunkAttributes: Attributes | undefined
  #lastChunkAt = 0

  constructor(telemetry: Telemetry, target: UpstreamTarget, parent: Context) {
    this.#telemetry = telemetry
    this.#target = target
    const operation = target.operationName
    this.#span = startSpan(
      telemetry.tracer,
      `${operation} ${target.model ?? ''}`.trim(),
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [genAi.operationName]: operation,
          [genAi.providerName]: target.providerName,
          [genAi.serverAddress]: target.address,
          [genAi.serverPort]: target.port,
          ...(target.model === undefined ? {} : { [genAi.requestModel]: target.model }),
        },
      },
      parent,
    )
    this.#chunkAttributes =
      target.stream && telemetry.instruments
        ? telemetry.chunkSeries.attributesOf(`${operation}\n${target.model ?? ''}\n${target.address}:${target.port}`, {
            ...telemetry.engineAttributes,
            [genAi.operationName]: operation,
            [genAi.providerName]: target.providerName,
            [genAi.serverAddress]: target.address,
            [genAi.serverPort]: target.port,
            ...(target.model === undefined ? {} : { [genAi.requestModel]: target.model }),
          })
        : undefined
    this.#loadSeries = `${operation}\n${target.model ?? ''}`
    telemetry.signals.callStarted(this.#loadSeries, () => this.#loadAttributes())
    if (this.#span.isRecording()) {
      const body = target.requestBody?.()
      this.#span.setAttributes(requestAttributes(body, target.stream))
      if (telemetry.recordContent && body !== undefined) this.#span.setAttribute(genAi.inputMessages, inputMessages(body))
    }
  }

  #loadAttributes(): Attributes {
    const { model, operationName } = this.#target
    return { ...this.#telemetry.engineAttributes, [genAi.operationName]: operationName, ...(model === undefined ? {} : { [genAi.requestModel]: model }) }
  }

  /** A chunk of a streamed answer arrived: the GenAI streaming metrics time it. */
  chunk(): void {
    const attributes = this.#chunkAttributes
    if (attributes === undefined) return
    const instruments = this.#telemetry.instruments
    const now = performance.now()
    if (this.#lastChunkAt === 0) instruments?.timeToFirstChunk.record((now - this.#startedAt) / 1000, attributes)
    else instruments?.timePerOutputChunk.record((now - this.#lastChunkAt) / 1000, attributes)
    this.#lastChunkAt = now
  }

  /** Runs `work` with this span active, so HTTP client spans nest under it. */
  within<T>(work: () => T): T {
    return context.with(trace.setSpan(context.active(), this.#span), work)
  }

  /** One more attempt is being made. */
  retried(attempt: number, reason: string): void {
    this.#attempts = attempt
    this.#span.addEvent('aicache.retry', { attempt, reason })
    this.#telemetry.retried(this.#target.operationName)
  }

  end(facts: UpstreamFacts): void {
    if (this.#ended) return
    this.#ended = true
    const telemetry = this.#telemetry
    const instruments = telemetry.instruments
    const operation = this.#target.operationName
    const errorType = facts.errorType ?? (facts.status !== undefined && facts.status >= 400 ? String(facts.status) : undefined)
    const tokens = facts.usage ? facts.usage.inputTokens + facts.usage.outputTokens : 0
    telemetry.signals.callEnded(this.#loadSeries, () => this.#loadAttributes(), performance.now() - this.#startedAt, tokens)
    const common: Attributes = {
      ...telemetry.engineAttributes,
      [genAi.operationName]: operation,
      [genAi.providerName]: this.#target.providerName,
      [genAi.serverAddress]: this.#target.address,
      [genAi.serverPort]: this.#target.port,
      ...(this.#target.model === undefined ? {} : { [genAi.requestModel]: this.#target.model }),
      ...(facts.responseModel === undefined ? {} : { [genAi.responseModel]: facts.responseModel }),
      ...(errorType === undefined ? {} : { [genAi.errorType]: errorType }),
    }
    // Models come from clients: past the limit, calls are recorded in the overflow set.
    if (instruments) {
      const key = `${operation}\n${this.#target.model ?? ''}\n${facts.responseModel ?? ''}\n${errorType ?? ''}\n${this.#target.address}:${this.#target.port}`
      instruments.operationDuration.record((performance.now() - this.#startedAt) / 1000, telemetry.durationSeries.attributesOf(key, common))
      if (facts.usage) {
        const { tokenSeries } = telemetry
        instruments.tokenUsage.record(facts.usage.inputTokens, tokenSeries.attributesOf(`${key}\ninput`, { ...common, [genAi.tokenType]: 'input' }))
        instruments.tokenUsage.record(facts.usage.outputTokens, tokenSeries.attributesOf(`${key}\noutput`, { ...common, [genAi.tokenType]: 'output' }))
      }
    }
    const providerName = this.#target.providerName
    const costSpentUsd = telemetry.costOf(providerName, facts.responseModel, this.#target.model, facts.usage)
    if (facts.usage) telemetry.providerCached(facts.usage, operation, providerName, this.#target.model)
    if (errorType !== undefined) {
      telemetry.counts.upstreamErrors.add(`${operation}\n${errorType}`, 1, () => ({
        ...telemetry.engineAttributes,
        [genAi.operationName]: operation,
        [genAi.errorType]: errorType,
      }))
    }
    if (costSpentUsd !== undefined) {
      const model = this.#target.model ?? 'unknown'
      telemetry.counts.costSpent.add(model, costSpentUsd, () => ({ ...telemetry.engineAttributes, [genAi.requestModel]: model }))
      telemetry.stats.spent(costSpentUsd)
    }
    const span = this.#span
    span.setAttributes(common)
    span.setAttribute(attribute.upstreamAttempts, this.#attempts)
    if (facts.responseId !== undefined) span.setAttribute(genAi.responseId, facts.responseId)
    if (facts.finishReasons?.length) span.setAttribute(genAi.responseFinishReasons, facts.finishReasons)
    if (facts.usage) {
      const usage = facts.usage
      span.setAttribute(genAi.usageInputTokens, usage.inputTokens)
      span.setAttribute(genAi.usageOutputTokens, usage.outputTokens)
      if (usage.cacheReadTokens !== undefined) span.setAttribute(genAi.usageCacheReadInputTokens, usage.cacheReadTokens)
      if (usage.cacheWriteTokens !== undefined) span.setAttribute(genAi.usageCacheCreationInputTokens, usage.cacheWriteTokens)
      if (usage.reasoningTokens !== undefined) span.setAttribute(genAi.usageReasoningOutputTokens, usage.reasoningTokens)
    }
    if (costSpentUsd !== undefined) span.setAttribute(attribute.costSpentUsd, costSpentUsd)
    if (telemetry.recordContent && facts.completionText !== undefined) {
      const message = { role: 'assistant', parts: [{ type: 'text', content: facts.completionText }], finish_reason: facts.finishReasons?.[0] ?? 'stop' }
      span.setAttribute(genAi.outputMessages, JSON.stringify([message]))
    }
    if (errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: errorType })
    span.end()
  }
}

/**
 * One request to a cacheable operation. The engine fills in what happened;
 * `end()` counts it in `stats()` and the request tally at once, and queues
 * its span and latency point for the end of the event loop's turn
 * (`end-of-turn.ts`), so the three can never disagree.
 */
export class RequestObservation implements Recordable {
  result: RequestResult = 'miss'
  tier: Tier | undefined
  namespace: string | undefined
  /** The cache key; its first 12 characters go on the span as the key hash. */
  key: string | undefined
  /** The entry a hit answered from: its usage is what the hit did not spend. */
  saved: CacheEntry | undefined
  errorType: string | undefined
  rateLimited = false
  /** More attributes for the request's span (the per-input embeddings counts). */
  attributes: Attributes | undefined
  /** A semantic lookup's best neighbour: its similarity, and why it was not served (unset on a semantic hit). */
  similarity: number | undefined
  semanticRejection: string | undefined
  /** Answered from a stale entry, and why (freshness/). */
  stale: StaleReason | undefined
  readonly #telemetry: Telemetry
  readonly #format: ApiFormat | undefined
  readonly #model: string | undefined
  readonly #stream: boolean
  // The context the request ran in (a framework's HTTP span, say) while spans record; undefined otherwise.
  readonly #parent: Context | undefined
  // Started when an upstream call needs it as its parent; otherwise made whole when the request is recorded.
  #span: Span | undefined
  // Read only when a span or a histogram will use them (0 otherwise): without an SDK a hit does not read the clock.
  readonly #startedAt: number
  #endedAt = 0
  readonly #instruments: Instruments | undefined
  #durationAttributes: Attributes | undefined
  #costSavedUsd: number | undefined
  #ended = false

  constructor(telemetry: Telemetry, format: ApiFormat | undefined, model: string | undefined, stream: boolean) {
    this.#telemetry = telemetry
    this.#format = format
    this.#model = model
    this.#stream = stream
    // Looked up once per request: an SDK registered meanwhile records from the next one.
    this.#instruments = telemetry.instruments
    telemetry.signals.requestStarted()
    this.#parent = telemetry.tracing() ? context.active() : undefined
    this.#startedAt = this.#parent !== undefined || this.#instruments !== undefined ? performance.now() : 0
  }

  /** The attributes known when the request starts. */
  #startAttributes(): Attributes {
    const format = this.#format
    const model = this.#model
    return {
      [attribute.stream]: this.#stream,
      ...(format === undefined ? {} : { [genAi.operationName]: format.genAiOperation }),
      ...(model === undefined ? {} : { [genAi.requestModel]: model }),
    }
  }

  /** Starts the request's span, dated from the request's start. */
  #startSpan(attributes: Attributes, parent: Context): Span {
    const name = this.#format === undefined ? 'aicache request' : this.#format.requestSpanName
    return startSpan(this.#telemetry.tracer, name, { kind: SpanKind.INTERNAL, attributes, startTime: this.#startedAt }, parent)
  }

  /** Context with this request's span, parent of its upstream call. */
  get context(): Context {
    const parent = this.#parent
    if (parent === undefined) return trace.setSpan(context.active(), notRecording)
    this.#span ??= this.#startSpan(this.#startAttributes(), parent)
    return trace.setSpan(parent, this.#span)
  }

  /** Records a lookup of a remote tier (an L1 lookup takes less time than recording it would: it is not timed). */
  lookedUp(tier: Exclude<Tier, 'l1'>, startedAt: number, found: boolean): void {
    this.#instruments?.lookupDuration.record((performance.now() - startedAt) / 1000, {
      ...this.#telemetry.engineAttributes,
      [attribute.tier]: tier,
      [attribute.result]: found ? 'hit' : 'miss',
    })
  }

  /** Starts the upstream call this request makes for everyone following it. */
  upstream(target: UpstreamTarget): UpstreamObservation {
    return new UpstreamObservation(this.#telemetry, target, this.context)
  }

  /** Ends when the answer is complete: now, when a streamed body ends, or when `settled` does. */
  settle(outcome: Outcome, settled?: Promise<unknown>): Outcome {
    if (outcome.type === 'stream') {
      const body = outcome.body
      const end = () => this.end()
      return {
        ...outcome,
        body: (async function* () {
          try {
            yield* body
          } finally {
            end()
          }
        })(),
      }
    }
    if (settled)
      settled.then(
        () => this.end(),
        () => this.end(),
      )
    else this.end()
    return outcome
  }

  fail(errorType: string): void {
    this.result = 'error'
    this.errorType = errorType
    this.end()
  }

  end(): void {
    if (this.#ended) return
    this.#ended = true
    const telemetry = this.#telemetry
    telemetry.signals.requestEnded()
    const saved = this.saved
    const costSavedUsd = saved && telemetry.savedCost(saved, this.#model, this.#format)
    telemetry.stats.request(this.result, this.tier, saved?.usage, costSavedUsd)
    const operationName = this.#format?.genAiOperation
    const series = telemetry.tally.add(this.result, this.tier, operationName, this.#model, saved?.usage, costSavedUsd)
    if (this.rateLimited) telemetry.rejected(operationName)
    if (this.stale !== undefined) telemetry.servedStale(this.stale)
    if (this.#parent === undefined && this.#instruments === undefined) return
    this.#endedAt = performance.now()
    this.#durationAttributes = series.durationAttributes
    this.#costSavedUsd = costSavedUsd
    recordAtEndOfTurn(this)
  }

  /** The latency point and the span, from what `end()` kept. */
  record(): void {
    const parent = this.#parent
    this.#instruments?.requestDuration.record((this.#endedAt - this.#startedAt) / 1000, this.#durationAttributes, parent)
    if (parent === undefined) return
    // Operation and model are among the start attributes; the series' attributes would set them again.
    const attributes: Attributes = this.#span === undefined ? this.#startAttributes() : {}
    attributes[attribute.result] = this.result
    if (this.tier !== undefined) attributes[attribute.tier] = this.tier
    if (this.namespace !== undefined) attributes[attribute.namespace] = this.namespace
    if (this.key !== undefined) attributes[attribute.keyHash] = this.key.slice(0, 12)
    if (this.rateLimited) attributes[attribute.rateLimited] = true
    if (this.similarity !== undefined) attributes[attribute.semanticSimilarity] = this.similarity
    if (this.semanticRejection !== undefined) attributes[attribute.semanticRejection] = this.semanticRejection
    if (this.stale !== undefined) attributes[attribute.staleReason] = this.stale
    const usage = this.saved?.usage
    if (usage) {
      attributes[attribute.tokensSavedInput] = usage.inputTokens
      attributes[attribute.tokensSavedOutput] = usage.outputTokens
    }
    if (this.#costSavedUsd !== undefined) attributes[attribute.costSavedUsd] = this.#costSavedUsd
    if (this.errorType !== undefined) attributes[genAi.errorType] = this.errorType
    if (this.attributes !== undefined) Object.assign(attributes, this.attributes)
    let span = this.#span
    if (span === undefined) span = this.#startSpan(attributes, parent)
    else span.setAttributes(attributes)
    // As on an HTTP server span, a 4xx answer (here a 429 for the rate limit) is the caller's doing: status unset.
    if (this.errorType !== undefined && !this.rateLimited) span.setStatus({ code: SpanStatusCode.ERROR, message: this.errorType })
    span.end(this.#endedAt)
  }
}

/** The tracer, the instruments and the pricing of one engine. */
export class Telemetry {
  /** The tracer of the provider that records; looked up again whenever the global provider changes. */
  tracer: Tracer
  readonly recordContent: boolean
  readonly priceOf: PriceOf
  readonly stats: StatsRecorder
  readonly tally: RequestTally
  /** Requests and upstream calls as they happen, for the load gauges and the capacity forecast. */
  readonly signals: LoadSignals
  /** Totals read by observable counters (`instruments.ts`). */
  readonly counts: EngineCounts = {
    costSpent: new Counts(),
    upstreamRetries: new Counts(),
    rateLimitRejections: new Counts(),
    upstreamErrors: new Counts(),
    providerCacheTokens: new Counts(),
    embeddingInputs: new Counts(),
    embeddingBatchesMerged: new Counts(),
    semanticRejections: new Counts(),
    staleServed: new Counts(),
    refreshes: new Counts(),
  }
  /** `aicache.engine`, or nothing for an engine without a name. */
  readonly engineAttributes: Attributes
  /** Attribute sets of the model-labelled histograms, each at most 1,000 and the overflow set. */
  readonly durationSeries = new SeriesLimit()
  readonly tokenSeries = new SeriesLimit()
  readonly chunkSeries = new SeriesLimit()
  readonly #instruments: InstrumentSet
  readonly #fixedTracerProvider: TracerProvider | undefined
  // The global provider's delegate last seen, and whether it records.
  #delegate: TracerProvider | undefined | null = null
  #tracing = false
  // The provider each format's answers are priced as when no upstream call is in view (a hit).
  readonly #providers = new Map<ApiFormat, string>()

  constructor(options: TelemetryOptions, priceOf: PriceOf, stats: StatsRecorder, gauges: Omit<GaugeSources, 'tally' | 'counts' | 'engine'>) {
    this.#fixedTracerProvider = options.tracerProvider
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(instrumentationName)
    this.recordContent = options.recordContent ?? false
    this.priceOf = priceOf
    this.stats = stats
    this.engineAttributes = Object.freeze(options.engine === undefined ? {} : { [attribute.engine]: options.engine })
    this.tally = new RequestTally(options.engine)
    this.signals = gauges.capacity?.signals ?? new LoadSignals()
    // The sets known up front exist from the start at zero, so the first retry or rejection is a visible increase.
    for (const operation of new Set(apiFormats.map((format) => format.genAiOperation))) {
      this.retried(operation, 0)
      this.rejected(operation, 0)
    }
    for (const reason of ['error', 'revalidate'] as const) this.servedStale(reason, 0)
    this.#instruments = new InstrumentSet(options.meterProvider, {
      ...gauges,
      engine: options.engine,
      tally: this.tally,
      counts: this.counts,
    })
    // Joins its meter provider's registry now: its series exist before its first request.
    this.#instruments.get()
  }

  /** Counts an upstream retry. */
  retried(operationName: string, count = 1): void {
    this.counts.upstreamRetries.add(operationName, count, () => ({ ...this.engineAttributes, [genAi.operationName]: operationName }))
  }

  /** Counts a request the inbound rate limit refused. */
  rejected(operationName: string | undefined, count = 1): void {
    this.counts.rateLimitRejections.add(operationName ?? '', count, () => ({
      ...this.engineAttributes,
      ...(operationName === undefined ? {} : { [genAi.operationName]: operationName }),
    }))
  }

  /** Counts a request answered from a stale entry (in `stats().stale` too). */
  servedStale(reason: StaleReason, count = 1): void {
    this.counts.staleServed.add(reason, count, () => ({ ...this.engineAttributes, [attribute.staleReason]: reason }))
    this.stats.stale[reason] += count
  }

  /** Counts a background refresh that ended (in `stats().refreshes` too). */
  refreshed(reason: RefreshReason, result: 'stored' | 'failed'): void {
    this.counts.refreshes.add(`${reason}\n${result}`, 1, () => ({
      ...this.engineAttributes,
      [attribute.refreshReason]: reason,
      [attribute.refreshResult]: result,
    }))
    this.stats.refreshes[result]++
  }

  /**
   * Whether spans go anywhere. Until an SDK registers, the global provider's
   * delegate is the API's no-op one, and a span would only cost time.
   *
   * The tracer is taken from the global provider again whenever its delegate
   * changes: an API with separate ESM and CommonJS builds (1.10) has two
   * proxy providers, and the one this module saw before an SDK registered
   * through the other build would stay a no-op forever.
   */
  tracing(): boolean {
    if (this.#fixedTracerProvider) return true
    const provider = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider }
    const delegate = provider.getDelegate?.()
    if (delegate !== this.#delegate) {
      this.#delegate = delegate
      this.#tracing = delegate !== noopTracerProvider
      this.tracer = provider.getTracer(instrumentationName)
    }
    return this.#tracing
  }

  /** `undefined` while no SDK is registered. */
  get instruments(): Instruments | undefined {
    return this.#instruments.get()
  }

  /**
   * Dollars a hit of `saved` did not spend: what its miss cost, prompt-cache
   * reads and writes at their own rates. An answer that names its model
   * costs the same on every hit: its price is remembered with it.
   */
  savedCost(saved: CacheEntry, requestModel: string | undefined, format: ApiFormat | undefined): number | undefined {
    if (saved.model === undefined) return this.priceOf(this.providerOf(format), requestModel, saved.usage)
    // An entry lives in one engine's memory tier, so one pricing prices it;
    // its key holds the requested model and format, so the fallback is the same on every hit.
    const memo = entryMemo(saved)
    if (memo.savedCost !== undefined) return memo.savedCost.usd
    const usd = this.costOf(this.providerOf(format), saved.model, requestModel, saved.usage)
    memo.savedCost = { usd }
    return usd
  }

  /**
   * The `gen_ai.provider.name` whose prices a format's answers carry when no
   * upstream call is in view (a hit, an app's own handler). Prices follow the
   * provider's table, not the host: every OpenAI-compatible host (Azure's
   * included) is priced as OpenAI, an Anthropic format as Anthropic.
   */
  providerOf(format: ApiFormat | undefined): string {
    const answerFormat = answerFormatOf(format)
    let provider = this.#providers.get(answerFormat)
    if (provider === undefined) {
      provider = answerFormat.providerName(new URL('http://upstream.invalid/'))
      this.#providers.set(answerFormat, provider)
    }
    return provider
  }

  /**
   * Dollars of an answer from `provider`: priced by the model the answer
   * names, else by the model requested (a dated snapshot the price table
   * does not know yet, `gpt-4o-2099-01-01`, costs what the requested
   * `gpt-4o` does), else `undefined`.
   */
  costOf(provider: string, answerModel: string | undefined, requestModel: string | undefined, usage: TokenUsage | undefined): number | undefined {
    const usd = this.priceOf(provider, answerModel ?? requestModel, usage)
    if (usd !== undefined || answerModel === undefined || answerModel === requestModel) return usd
    return this.priceOf(provider, requestModel, usage)
  }

  /**
   * Counts the input tokens an upstream call's provider read from or wrote
   * to its own prompt cache (`aicache.provider_cache.tokens`, and `stats()`),
   * beside what aicache's own hits saved.
   */
  providerCached(usage: TokenUsage, operationName: string, providerName: string, model: string | undefined): void {
    const { cacheReadTokens: read, cacheWriteTokens: write } = usage
    if (read === undefined && write === undefined) return
    this.stats.providerCached(read ?? 0, write ?? 0)
    const count = (type: 'read' | 'write', tokens: number | undefined) => {
      if (tokens === undefined) return
      this.counts.providerCacheTokens.add(`${operationName}\n${providerName}\n${model ?? ''}\n${type}`, tokens, () => ({
        ...this.engineAttributes,
        [genAi.operationName]: operationName,
        [genAi.providerName]: providerName,
        ...(model === undefined ? {} : { [genAi.requestModel]: model }),
        [attribute.providerCacheType]: type,
      }))
    }
    count('read', read)
    count('write', write)
  }

  request(format: ApiFormat | undefined, model: string | undefined, stream: boolean): RequestObservation {
    return new RequestObservation(this, format, model, stream)
  }
}
