import { calcPrice } from '@pydantic/genai-prices'
import { LRUCache } from 'lru-cache'
import { AiCacheError } from '../errors.js'
import type { TokenUsage } from '../exchange/types.js'

/** A model's price, in US dollars per million tokens. */
export interface ModelPrice {
  inputPerMillionUsd: number
  outputPerMillionUsd: number
}

/** Options of {@link createPricing}. */
export interface PricingOptions {
  /** Prices that win over the table, by model name (your negotiated rates, a self-hosted model). */
  overrides?: Readonly<Record<string, ModelPrice>>
  /** Provider whose table is searched first. @default 'openai' */
  providerId?: string
}

/** Turns usage into dollars; `undefined` when the model's price is not known. */
export type PriceOf = (model: string | undefined, usage: TokenUsage | undefined) => number | undefined

/**
 * Prices from `@pydantic/genai-prices` (its data is bundled, so this works
 * offline), with per-model overrides. A model the table does not know gets
 * no price rather than a made-up one.
 */
export function createPricing(options: PricingOptions = {}): PriceOf {
  const overrides = options.overrides ?? {}
  for (const [model, price] of Object.entries(overrides)) {
    if (!(price.inputPerMillionUsd >= 0) || !(price.outputPerMillionUsd >= 0)) {
      throw new AiCacheError('invalid_option', `Option 'prices': '${model}' needs non-negative per-million prices`, {
        param: 'prices',
      })
    }
  }
  const providerId = options.providerId ?? 'openai'
  // Matching a model against the table's rules costs tens of microseconds, and
  // every hit of an entry asks the same question again: remember the answers.
  const known = new LRUCache<string, { usd: number | undefined }>({ max: 10_000 })
  return (model, usage) => {
    if (model === undefined || usage === undefined) return undefined
    // Own properties only: a model named 'constructor' is not an override.
    const override = Object.hasOwn(overrides, model) ? overrides[model] : undefined
    if (override) {
      return (usage.inputTokens * override.inputPerMillionUsd + usage.outputTokens * override.outputPerMillionUsd) / 1e6
    }
    const question = `${model}\n${usage.inputTokens}\n${usage.outputTokens}`
    let answer = known.get(question)
    if (answer === undefined) {
      const price = calcPrice({ input_tokens: usage.inputTokens, output_tokens: usage.outputTokens }, model, { providerId })
      answer = { usd: price?.total_price }
      known.set(question, answer)
    }
    return answer.usd
  }
}
