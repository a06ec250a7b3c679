import { describe, expect, it } from 'vitest'
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
