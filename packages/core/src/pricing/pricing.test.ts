import { describe, expect, it } from 'vitest'
import { calcPrice } from '@pydantic/genai-prices'
import { createPricing } from './pricing.js'

describe('pricing', () => {
  it('prices a known model from the bundled table', () => {
    const priceOf = createPricing()
    // gpt-4o-mini: $0.15 per million input tokens, $0.60 per million output tokens.
    expect(priceOf('openai', 'gpt-4o-mini', { inputTokens: 1_000_000, outputTokens: 1_000_000 })).toBeCloseTo(0.75, 6)
    expect(priceOf('openai', 'gpt-4o-mini', { inputTokens: 1000, outputTokens: 500 })).toBeCloseTo(0.00045, 9)
  })

  it('lets an override win over the table', () => {
    const priceOf = createPricing({ overrides: { 'gpt-4o-mini': { inputPerMillionUsd: 1, outputPerMillionUsd: 2 } } })
    expect(priceOf('openai', 'gpt-4o-mini', { inputTokens: 1_000_000, outputTokens: 500_000 })).toBeCloseTo(2, 9)
  })

  it('gives no price for an unknown model, and none without usage', () => {
    const priceOf = createPricing()
    expect(priceOf('openai', 'my-finetune-that-nobody-prices', { inputTokens: 10, outputTokens: 10 })).toBeUndefined()
    expect(priceOf('openai', 'gpt-4o-mini', undefined)).toBeUndefined()
  })

  it('reads overrides as a table of model names, not an object with a prototype', () => {
    const priceOf = createPricing({ overrides: { 'gpt-4o-mini': { inputPerMillionUsd: 1, outputPerMillionUsd: 2 } } })
    for (const model of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(priceOf('openai', model, { inputTokens: 10, outputTokens: 10 })).toBeUndefined()
    }
  })

  it('refuses a negative override at start-up', () => {
    expect(() => createPricing({ overrides: { m: { inputPerMillionUsd: -1, outputPerMillionUsd: 0 } } })).toThrow(/'prices'/)
  })
})

/** The model's rates as the bundled table states them, dollars per million tokens. */
function tableRates(model: string, providerId: string): Record<string, number | undefined> {
  const result = calcPrice({ input_tokens: 1, output_tokens: 1 }, model, { providerId })
  if (result === null) throw new Error(`${model} is not in the table`)
  return result.model_price as Record<string, number | undefined>
}

describe('pricing of provider prompt caching', () => {
  it('prices OpenAI cached input at its own rate (gpt-4o-mini: half the input price)', () => {
    const rates = tableRates('gpt-4o-mini', 'openai')
    expect(rates['cache_read_mtok']).toBe((rates['input_mtok'] ?? 0) / 2)
    const priceOf = createPricing()
    const plain = { inputTokens: 1_000_000, outputTokens: 200_000 }
    const cached = { ...plain, cacheReadTokens: 600_000 }
    const full = priceOf('openai', 'gpt-4o-mini', plain)!
    expect(full).toBeCloseTo((1 * rates['input_mtok']! + 0.2 * rates['output_mtok']!) / 1, 9)
    expect(priceOf('openai', 'gpt-4o-mini', cached)).toBeCloseTo(0.4 * rates['input_mtok']! + 0.6 * rates['cache_read_mtok']! + 0.2 * rates['output_mtok']!, 9)
    expect(priceOf('openai', 'gpt-4o-mini', cached)).toBeLessThan(full)
    // Reasoning tokens are output tokens, priced as output: they change nothing on their own.
    expect(priceOf('openai', 'gpt-4o-mini', { ...plain, reasoningTokens: 100_000 })).toBe(full)
  })

  it('prices Anthropic cache reads and writes at their own rates (claude-sonnet-4: 0.1x and 1.25x input)', () => {
    const rates = tableRates('claude-sonnet-4-20250514', 'anthropic')
    const input = rates['input_mtok']!
    expect(rates['cache_read_mtok']).toBeCloseTo(input * 0.1, 9)
    expect(rates['cache_write_mtok']).toBeCloseTo(input * 1.25, 9)
    const priceOf = createPricing()
    const usage = { inputTokens: 1_000_000, outputTokens: 0, cacheReadTokens: 500_000, cacheWriteTokens: 300_000 }
    expect(priceOf('anthropic', 'claude-sonnet-4-20250514', usage)).toBeCloseTo(0.2 * input + 0.5 * input * 0.1 + 0.3 * input * 1.25, 9)
    expect(priceOf('anthropic', 'claude-sonnet-4-20250514', { inputTokens: 1_000_000, outputTokens: 0 })).toBeCloseTo(input, 9)
  })

  it('searches the table under the provider that answered, remembering answers per provider', () => {
    const priceOf = createPricing()
    const usage = { inputTokens: 1000, outputTokens: 100 }
    expect(priceOf('anthropic', 'claude-sonnet-4-20250514', usage)).toBeGreaterThan(0)
    // OpenAI's table has no Claude: asked in that order and the other way round, each answer stays its provider's.
    expect(priceOf('openai', 'claude-sonnet-4-20250514', usage)).toBeUndefined()
    expect(priceOf('openai', 'gpt-4o-mini', usage)).toBeGreaterThan(0)
    expect(priceOf('anthropic', 'gpt-4o-mini', usage)).toBeUndefined()
    // Azure OpenAI is priced as OpenAI.
    expect(priceOf('azure.ai.openai', 'gpt-4o-mini', usage)).toBe(priceOf('openai', 'gpt-4o-mini', usage))
  })

  it('holds cache counts a provider over-reported to the input tokens instead of failing', () => {
    const priceOf = createPricing()
    const all = priceOf('openai', 'gpt-4o-mini', { inputTokens: 100, outputTokens: 0, cacheReadTokens: 100 })
    expect(priceOf('openai', 'gpt-4o-mini', { inputTokens: 100, outputTokens: 0, cacheReadTokens: 250 })).toBe(all)
    const priced = priceOf('anthropic', 'claude-sonnet-4-20250514', { inputTokens: 100, outputTokens: 0, cacheReadTokens: 80, cacheWriteTokens: 80 })
    expect(priced).toBe(priceOf('anthropic', 'claude-sonnet-4-20250514', { inputTokens: 100, outputTokens: 0, cacheReadTokens: 80, cacheWriteTokens: 20 }))
  })

  it('prices cached input of an override at its cache rates, else at its input rate', () => {
    const priceOf = createPricing({
      overrides: {
        mine: { inputPerMillionUsd: 2, outputPerMillionUsd: 8, cacheReadPerMillionUsd: 0.5, cacheWritePerMillionUsd: 2.5 },
        plain: { inputPerMillionUsd: 2, outputPerMillionUsd: 8 },
      },
    })
    const usage = { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 400_000, cacheWriteTokens: 100_000 }
    expect(priceOf('openai', 'mine', usage)).toBeCloseTo(0.5 * 2 + 0.4 * 0.5 + 0.1 * 2.5 + 8, 9)
    expect(priceOf('anthropic', 'plain', usage)).toBeCloseTo(2 + 8, 9)
    expect(() => createPricing({ overrides: { m: { inputPerMillionUsd: 1, outputPerMillionUsd: 1, cacheReadPerMillionUsd: -1 } } })).toThrow(/'prices'/)
  })
})
