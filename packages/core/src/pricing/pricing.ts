import { calcPrice } from '@pydantic/genai-prices'
import { LRUCache } from 'lru-cache'
import { AiCacheError } from '../errors.js'
import type { TokenUsage } from '../exchange/types.js'

/** A model's price, in US dollars per million tokens. */
export interface ModelPrice {
  inputPerMillionUsd: number
  outputPerMillionUsd: number
  /** Input tokens the provider read from its prompt cache. @default inputPerMillionUsd */
  cacheReadPerMillionUsd?: number
  /** Input tokens the provider wrote to its prompt cache. @default inputPerMillionUsd */
  cacheWritePerMillionUsd?: number
}

/** Options of {@link createPricing}. */
export interface PricingOptions {
  /** Prices that win over the table, by model name (your negotiated rates, a self-hosted model). */
  overrides?: Readonly<Record<string, ModelPrice>>
}

/**
 * Turns usage into dollars; `undefined` when the model's price is not known.
 * `provider` is the `gen_ai.provider.name` of the API that answered
 * (`openai`, `anthropic`): the same model name may be priced differently by
 * different providers, and the table is searched under that provider only.
 */
export type PriceOf = (provider: string, model: string | undefined, usage: TokenUsage | undefined) => number | undefined

/**
 * The provider id in the `@pydantic/genai-prices` table for a
 * `gen_ai.provider.name`: Azure OpenAI is priced as OpenAI, other names are
 * the table's own (`openai`, `anthropic`).
 */
export function priceTableProvider(provider: string): string {
  return provider === 'azure.ai.openai' ? 'openai' : provider
}

/**
 * The prompt-cache parts of `usage` as the table counts them: reads and
 * writes within the input tokens (a provider that reported more than its
 * input, or a negative count, is held to what is possible).
 */
function cacheParts(usage: TokenUsage): { read: number; write: number } {
  const read = Math.min(Math.max(usage.cacheReadTokens ?? 0, 0), usage.inputTokens)
  const write = Math.min(Math.max(usage.cacheWriteTokens ?? 0, 0), usage.inputTokens - read)
  return { read, write }
}

function checkPrice(model: string, price: ModelPrice): void {
  const optional = [price.cacheReadPerMillionUsd, price.cacheWritePerMillionUsd]
  if (!(price.inputPerMillionUsd >= 0) || !(price.outputPerMillionUsd >= 0) || optional.some((value) => value !== undefined && !(value >= 0))) {
    throw new AiCacheError('invalid_option', `Option 'prices': '${model}' needs non-negative per-million prices`, {
      param: 'prices',
    })
  }
}

/**
 * Prices from `@pydantic/genai-prices` (its data is bundled, so this works
 * offline), with per-model overrides. A model the table does not know gets
 * no price rather than a made-up one.
 *
 * Input tokens the provider read from or wrote to its own prompt cache are
 * priced at the model's cache rates (OpenAI's cached input at half price or
 * less, Anthropic's reads at a tenth of the input price and writes at 1.25
 * times it); an override without cache rates prices them as plain input.
 */
export function createPricing(options: PricingOptions = {}): PriceOf {
  const overrides = options.overrides ?? {}
  for (const [model, price] of Object.entries(overrides)) checkPrice(model, price)
  // Matching a model against the table's rules costs tens of microseconds, and
  // every hit of an entry asks the same question again: remember the answers.
  const known = new LRUCache<string, { usd: number | undefined }>({ max: 10_000 })
  return (provider, model, usage) => {
    if (model === undefined || usage === undefined) return undefined
    const { read, write } = cacheParts(usage)
    // Own properties only: a model named 'constructor' is not an override.
    const override = Object.hasOwn(overrides, model) ? overrides[model] : undefined
    if (override) {
      const input = override.inputPerMillionUsd
      const uncached = usage.inputTokens - read - write
      return (
        (uncached * input +
          read * (override.cacheReadPerMillionUsd ?? input) +
          write * (override.cacheWritePerMillionUsd ?? input) +
          usage.outputTokens * override.outputPerMillionUsd) /
        1e6
      )
    }
    const providerId = priceTableProvider(provider)
    const question = `${providerId}\n${model}\n${usage.inputTokens}\n${usage.outputTokens}\n${read}\n${write}`
    let answer = known.get(question)
    if (answer === undefined) {
      answer = { usd: tablePrice(providerId, model, usage, read, write) }
      known.set(question, answer)
    }
    return answer.usd
  }
}

/** The table's price; its `input_tokens` count every input token, cached ones included. */
function tablePrice(providerId: string, model: string, usage: TokenUsage, read: number, write: number): number | undefined {
  try {
    const price = calcPrice(
      {
        input_tokens: usage.inputTokens,
        output_tokens: usage.outputTokens,
        ...(read > 0 ? { cache_read_tokens: read } : {}),
        ...(write > 0 ? { cache_write_tokens: write } : {}),
      },
      model,
      { providerId },
    )
    return price?.total_price
  } catch {
    // The table refuses usage it finds inconsistent: no price rather than a wrong one.
    return undefined
  }
}
