import type { Attributes } from '@opentelemetry/api'
import type { Tier } from '../engine/cache-status.js'
import type { TokenUsage } from '../exchange/types.js'
import { apiFormats } from '../formats/registry.js'
import { maxSeries, overflowAttributes, type Points } from './counts.js'
import { attribute, genAi, type RequestResult } from './names.js'

/** Requests, tokens saved and dollars saved of one attribute set. */
export interface Series {
  /** Attributes of `aicache.requests` (and of the request span). */
  readonly attributes: Attributes
  /**
   * Attributes of `aicache.request.duration`: those of `aicache.requests`
   * without the model, whose values a histogram (a series per bucket)
   * should not multiply by.
   */
  readonly durationAttributes: Attributes
  readonly model: string
  requests: number
  inputSaved: number
  outputSaved: number
  /** Some request of the set saved tokens (a hit whose answer had a usage). */
  saved: boolean
  costSavedUsd: number
  priced: boolean
}

const resultSlots: Record<RequestResult, number> = { hit: 0, miss: 1, bypass: 2, coalesced: 3, error: 4 }
// 0 for no operation, then one slot for each GenAI operation name of the registered formats.
const operationSlots = new Map<string | undefined, number>(
  [undefined, ...new Set(apiFormats.map((format) => format.genAiOperation))].map((name, slot) => [name, slot]),
)

/** A small number for each result, tier and operation; -1 for an operation it does not know. */
function slotOf(result: RequestResult, tier: Tier | undefined, operationName: string | undefined): number {
  const tierSlot = tier === undefined ? 0 : tier === 'l1' ? 1 : tier === 'l2' ? 2 : 3
  const operationSlot = operationSlots.get(operationName)
  return operationSlot === undefined ? -1 : (resultSlots[result] * 4 + tierSlot) * operationSlots.size + operationSlot
}

/**
 * Running totals of every request, by result, tier, operation and model,
 * read by observable counters when a metric reader collects. A hit then
 * costs one map lookup instead of a recorded data point per counter (each
 * of which the SDK hashes its attributes for); the totals count from the
 * engine's creation, as a Prometheus counter does from process start.
 */
export class RequestTally {
  readonly #series = new Map<string, Series>()
  // The same series by model, then by a small number for result, tier and
  // operation: a request finds its series without building a string.
  readonly #slots = new Map<string | undefined, Array<Series | undefined>>()
  readonly #durationAttributes = new Map<string, Attributes>()
  // `aicache.engine` on every series, when the engine has a name.
  readonly #engine: Attributes
  readonly #prefix: string

  constructor(engine?: string) {
    this.#engine = engine === undefined ? {} : { [attribute.engine]: engine }
    this.#prefix = `${engine ?? ''}\n`
  }

  /**
   * Counts one request, and returns its series, whose attribute objects are
   * the same for every request of the set.
   */
  add(
    result: RequestResult,
    tier: Tier | undefined,
    operationName: string | undefined,
    model: string | undefined,
    saved: TokenUsage | undefined,
    costSavedUsd: number | undefined,
  ): Series {
    const series = this.#seriesOf(result, tier, operationName, model)
    series.requests += 1
    if (saved) {
      series.inputSaved += saved.inputTokens
      series.outputSaved += saved.outputTokens
      series.saved = true
    }
    if (costSavedUsd !== undefined) {
      series.costSavedUsd += costSavedUsd
      series.priced = true
    }
    return series
  }

  /** `aicache.requests`: one point per attribute set. */
  observeRequests(into: Points): void {
    // The overflow set has no engine attribute: it is one set for every engine.
    for (const [key, series] of this.#series) into.add(key === 'overflow' ? key : this.#prefix + key, series.attributes, series.requests)
  }

  /** `aicache.tokens.saved`, by model and token type. */
  observeTokensSaved(into: Points): void {
    for (const series of this.#series.values()) {
      if (!series.saved) continue
      const model = { ...this.#engine, [genAi.requestModel]: series.model }
      into.add(`${this.#prefix}${series.model}\ninput`, { ...model, [genAi.tokenType]: 'input' }, series.inputSaved)
      into.add(`${this.#prefix}${series.model}\noutput`, { ...model, [genAi.tokenType]: 'output' }, series.outputSaved)
    }
  }

  /** `aicache.cost.saved`, by model, for models with a known price. */
  observeCostSaved(into: Points): void {
    for (const series of this.#series.values()) {
      if (series.priced) into.add(this.#prefix + series.model, { ...this.#engine, [genAi.requestModel]: series.model }, series.costSavedUsd)
    }
  }

  #seriesOf(result: RequestResult, tier: Tier | undefined, operationName: string | undefined, model: string | undefined): Series {
    const slot = slotOf(result, tier, operationName)
    if (slot < 0) return this.#findOrCreate(result, tier, operationName, model)
    let slots = this.#slots.get(model)
    const known = slots?.[slot]
    if (known !== undefined) return known
    const series = this.#findOrCreate(result, tier, operationName, model)
    // Models past the series limit all share the overflow series: keep no slots for them.
    if (slots === undefined && this.#slots.size < maxSeries) this.#slots.set(model, (slots = []))
    if (slots !== undefined) slots[slot] = series
    return series
  }

  #findOrCreate(result: RequestResult, tier: Tier | undefined, operationName: string | undefined, model: string | undefined): Series {
    const key = `${result}\n${tier ?? ''}\n${operationName ?? ''}\n${model ?? ''}`
    let series = this.#series.get(key)
    if (series !== undefined) return series
    const overflow = this.#series.size >= maxSeries
    if (overflow) {
      series = this.#series.get('overflow')
      if (series !== undefined) return series
    }
    series = {
      durationAttributes: this.#durationAttributesOf(result, tier, operationName),
      attributes: overflow
        ? overflowAttributes
        : Object.freeze({
            ...this.#engine,
            [attribute.result]: result,
            ...(tier === undefined ? {} : { [attribute.tier]: tier }),
            ...(operationName === undefined ? {} : { [genAi.operationName]: operationName }),
            ...(model === undefined ? {} : { [genAi.requestModel]: model }),
          }),
      model: overflow ? 'other' : (model ?? 'unknown'),
      requests: 0,
      inputSaved: 0,
      outputSaved: 0,
      saved: false,
      costSavedUsd: 0,
      priced: false,
    }
    this.#series.set(overflow ? 'overflow' : key, series)
    return series
  }

  #durationAttributesOf(result: RequestResult, tier: Tier | undefined, operationName: string | undefined): Attributes {
    const key = `${result}\n${tier ?? ''}\n${operationName ?? ''}`
    let attributes = this.#durationAttributes.get(key)
    if (attributes === undefined) {
      attributes = Object.freeze({
        ...this.#engine,
        [attribute.result]: result,
        ...(tier === undefined ? {} : { [attribute.tier]: tier }),
        ...(operationName === undefined ? {} : { [genAi.operationName]: operationName }),
      })
      this.#durationAttributes.set(key, attributes)
    }
    return attributes
  }
}
