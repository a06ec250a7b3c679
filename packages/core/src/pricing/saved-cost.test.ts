import { describe, expect, it } from 'vitest'
import { StatsRecorder } from '../engine/stats.js'
import { chatCompletions } from '../formats/chat-completions.js'
import type { ApiFormat } from '../formats/format.js'
import { Telemetry } from '../telemetry/telemetry.js'
import { sampleEntry } from '../../test/support/store-entries.js'
import { createPricing } from './pricing.js'

const gauges = { memory: () => ({ bytes: 0, entries: 0 }), breakerState: () => undefined, redisErrors: () => undefined, redis: () => undefined }

describe("what a hit saved, priced as its format's provider", () => {
  const priceOf = createPricing()
  const telemetry = new Telemetry({}, priceOf, new StatsRecorder(), gauges)
  // A format answered by Anthropic, as an Anthropic Messages descriptor names it.
  const anthropicFormat: ApiFormat = { ...chatCompletions, providerName: () => 'anthropic' }
  const claude = 'claude-sonnet-4-20250514'
  const usage = { inputTokens: 10_000, outputTokens: 500, cacheReadTokens: 6_000, cacheWriteTokens: 3_000 }

  it("prices an Anthropic format's hit in Anthropic's table, cache reads and writes at their rates", () => {
    const saved = telemetry.savedCost(sampleEntry({ model: claude, usage }), claude, anthropicFormat)
    expect(saved).toBeCloseTo(priceOf('anthropic', claude, usage)!, 12)
    expect(saved).not.toBeCloseTo(priceOf('anthropic', claude, { inputTokens: 10_000, outputTokens: 500 })!, 6)
    // An entry naming no model is priced by the requested one, in the same table.
    expect(telemetry.savedCost(sampleEntry({ model: undefined, usage }), claude, anthropicFormat)).toBeCloseTo(saved!, 12)
  })

  it("prices an OpenAI format's hit in OpenAI's table", () => {
    expect(telemetry.providerOf(chatCompletions)).toBe('openai')
    expect(telemetry.providerOf(undefined)).toBe('openai')
    const openAiUsage = { inputTokens: 10_000, outputTokens: 500, cacheReadTokens: 6_000 }
    expect(telemetry.savedCost(sampleEntry({ model: 'gpt-4o-mini', usage: openAiUsage }), 'gpt-4o-mini', chatCompletions)).toBeCloseTo(
      priceOf('openai', 'gpt-4o-mini', openAiUsage)!,
      12,
    )
    // Claude through an OpenAI format is not in OpenAI's table: no made-up price.
    expect(telemetry.savedCost(sampleEntry({ model: claude, usage }), claude, chatCompletions)).toBeUndefined()
  })
})
