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
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api'
import type { Outcome, TokenUsage } from '../exchange/types.js'
import type { CacheEntry } from '../store/entry.js'
import { entryMemo } from '../store/entry-memo.js'
import type { PriceOf } from '../pricing/pricing.js'
import type { ApiFormat } from '../formats/format.js'
import type { Tier } from '../engine/cache-status.js'
import type { StatsRecorder } from '../engine/stats.js'
import { type GaugeSources, type Instruments, InstrumentSet } from './instruments.js'
import { attribute, genAi, instrumentationName, type RequestResult } from './names.js'
import { type Recordable, recordAtEndOfTurn } from './end-of-turn.js'
import { RequestTally } from './tally.js'

/** Telemetry options of the engine. */
export interface TelemetryOptions {
  /** Tracer provider to use instead of the global one. */
  tracerProvider?: TracerProvider
  /** Meter provider to use instead of the global one. */
  meterProvider?: MeterProvider
  /** Put prompt and answer text on spans. Off by default: they may hold personal data. @default false */
  recordContent?: boolean
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
  promptText?: () => string
}

// Stands in for the span while no SDK traces; it records nothing, so one serves all.
const notRecording = trace.wrapSpanContext(INVALID_SPAN_CONTEXT)

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
    if (telemetry.recordContent && target.promptText) this.#span.setAttribute(attribute.prompt, target.promptText())
  }

  /** Runs `work` with this span active, so HTTP client spans nest under it. */
  within<T>(work: () => T): T {
    return context.with(trace.setSpan(context.active(), this.#span), work)
  }

  /** One more attempt is being made. */
  retried(attempt: number, reason: string): void {
    this.#attempts = attempt
    this.#span.addEvent('aicache.retry', { attempt, reason })
    this.#telemetry.instruments?.upstreamRetries.add(1, { [genAi.operationName]: this.#target.operationName })
  }

  end(facts: UpstreamFacts): void {
    if (this.#ended) return
    this.#ended = true
    const telemetry = this.#telemetry
    const instruments = telemetry.instruments
    const operation = this.#target.operationName
    const errorType = facts.errorType ?? (facts.status !== undefined && facts.status >= 400 ? String(facts.status) : undefined)
    const common: Attributes = {
      [genAi.operationName]: operation,
      [genAi.providerName]: this.#target.providerName,
      [genAi.serverAddress]: this.#target.address,
      [genAi.serverPort]: this.#target.port,
      ...(this.#target.model === undefined ? {} : { [genAi.requestModel]: this.#target.model }),
      ...(facts.responseModel === undefined ? {} : { [genAi.responseModel]: facts.responseModel }),
      ...(errorType === undefined ? {} : { [genAi.errorType]: errorType }),
    }
    instruments?.operationDuration.record((performance.now() - this.#startedAt) / 1000, common)
    const costSpentUsd = telemetry.priceOf(facts.responseModel ?? this.#target.model, facts.usage)
    if (facts.usage) {
      instruments?.tokenUsage.record(facts.usage.inputTokens, { ...common, [genAi.tokenType]: 'input' })
      instruments?.tokenUsage.record(facts.usage.outputTokens, { ...common, [genAi.tokenType]: 'output' })
    }
    if (costSpentUsd !== undefined) {
      instruments?.costSpent.add(costSpentUsd, { [genAi.requestModel]: this.#target.model ?? 'unknown' })
      telemetry.stats.spent(costSpentUsd)
    }
    const span = this.#span
    span.setAttributes(common)
    span.setAttribute(attribute.upstreamAttempts, this.#attempts)
    if (facts.responseId !== undefined) span.setAttribute(genAi.responseId, facts.responseId)
    if (facts.finishReasons?.length) span.setAttribute(genAi.responseFinishReasons, facts.finishReasons)
    if (facts.usage) {
      span.setAttribute(genAi.usageInputTokens, facts.usage.inputTokens)
      span.setAttribute(genAi.usageOutputTokens, facts.usage.outputTokens)
    }
    if (costSpentUsd !== undefined) span.setAttribute(attribute.costSpentUsd, costSpentUsd)
    if (telemetry.recordContent && facts.completionText !== undefined) span.setAttribute(attribute.completion, facts.completionText)
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
    if (settled) settled.then(() => this.end(), () => this.end())
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
    const saved = this.saved
    const costSavedUsd = saved && telemetry.savedCost(saved, this.#model)
    telemetry.stats.request(this.result, this.tier, saved?.usage, costSavedUsd)
    const operationName = this.#format?.genAiOperation
    const series = telemetry.tally.add(this.result, this.tier, operationName, this.#model, saved?.usage, costSavedUsd)
    if (this.rateLimited) this.#instruments?.rateLimitRejections.add(1, series.attributes)
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
    const usage = this.saved?.usage
    if (usage) {
      attributes[attribute.tokensSavedInput] = usage.inputTokens
      attributes[attribute.tokensSavedOutput] = usage.outputTokens
    }
    if (this.#costSavedUsd !== undefined) attributes[attribute.costSavedUsd] = this.#costSavedUsd
    if (this.errorType !== undefined) attributes[genAi.errorType] = this.errorType
    let span = this.#span
    if (span === undefined) span = this.#startSpan(attributes, parent)
    else span.setAttributes(attributes)
    if (this.errorType !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: this.errorType })
    span.end(this.#endedAt)
  }
}

/** The tracer, the instruments and the pricing of one engine. */
export class Telemetry {
  readonly tracer: Tracer
  readonly recordContent: boolean
  readonly priceOf: PriceOf
  readonly stats: StatsRecorder
  readonly tally = new RequestTally()
  readonly #instruments: InstrumentSet
  readonly #fixedTracerProvider: TracerProvider | undefined
  // The global provider's delegate last seen, and whether it records.
  #delegate: TracerProvider | undefined | null = null
  #tracing = false

  constructor(options: TelemetryOptions, priceOf: PriceOf, stats: StatsRecorder, gauges: Omit<GaugeSources, 'tally'>) {
    // The API's global tracer is a proxy: an SDK registered later still gets the spans.
    this.#fixedTracerProvider = options.tracerProvider
    this.tracer = (options.tracerProvider ?? trace.getTracerProvider()).getTracer(instrumentationName)
    this.recordContent = options.recordContent ?? false
    this.priceOf = priceOf
    this.stats = stats
    this.#instruments = new InstrumentSet(options.meterProvider, { ...gauges, tally: this.tally })
  }

  /**
   * Whether spans go anywhere. Until an SDK registers, the global provider's
   * delegate is the API's no-op one, and a span would only cost time.
   */
  tracing(): boolean {
    if (this.#fixedTracerProvider) return true
    const provider = trace.getTracerProvider() as TracerProvider & { getDelegate?: () => TracerProvider }
    const delegate = provider.getDelegate?.()
    if (delegate !== this.#delegate) {
      this.#delegate = delegate
      this.#tracing = delegate?.constructor.name !== 'NoopTracerProvider'
    }
    return this.#tracing
  }

  /** `undefined` while no SDK is registered. */
  get instruments(): Instruments | undefined {
    return this.#instruments.get()
  }

  /**
   * Dollars a hit of `saved` did not spend. An answer that names its model
   * costs the same on every hit: its price is remembered with it.
   */
  savedCost(saved: CacheEntry, requestModel: string | undefined): number | undefined {
    if (saved.model === undefined) return this.priceOf(requestModel, saved.usage)
    // An entry lives in one engine's memory tier, so one pricing prices it.
    const memo = entryMemo(saved)
    if (memo.savedCost !== undefined) return memo.savedCost.usd
    const usd = this.priceOf(saved.model, saved.usage)
    memo.savedCost = { usd }
    return usd
  }

  request(format: ApiFormat | undefined, model: string | undefined, stream: boolean): RequestObservation {
    return new RequestObservation(this, format, model, stream)
  }
}
