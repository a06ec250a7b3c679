import type { Attributes } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { Points } from './counts.js'
import { attribute, genAi } from './names.js'
import { RequestTally } from './tally.js'

function observed(read: (into: Points) => void): Array<{ value: number; attributes: Attributes | undefined }> {
  const points = new Points()
  read(points)
  return [...points.entries()].map(([, { value, attributes }]) => ({ value, attributes }))
}

describe('RequestTally', () => {
  it('counts requests per attribute set and hands out one attributes object per set', () => {
    const tally = new RequestTally()
    const first = tally.add('hit', 'l1', 'chat', 'gpt-4o-mini', { inputTokens: 10, outputTokens: 5 }, 0.001)
    const second = tally.add('hit', 'l1', 'chat', 'gpt-4o-mini', { inputTokens: 10, outputTokens: 5 }, 0.001)
    tally.add('miss', undefined, 'chat', 'gpt-4o-mini', undefined, undefined)
    expect(second).toBe(first)
    expect(first.durationAttributes).toEqual({ [attribute.result]: 'hit', [attribute.tier]: 'l1', [genAi.operationName]: 'chat' })
    expect(observed((observer) => tally.observeRequests(observer))).toEqual([
      { value: 2, attributes: { [attribute.result]: 'hit', [attribute.tier]: 'l1', [genAi.operationName]: 'chat', [genAi.requestModel]: 'gpt-4o-mini' } },
      { value: 1, attributes: { [attribute.result]: 'miss', [genAi.operationName]: 'chat', [genAi.requestModel]: 'gpt-4o-mini' } },
    ])
    // Another model shares the duration attributes: the histogram is not split by model.
    expect(tally.add('hit', 'l1', 'chat', 'gpt-4o', undefined, undefined).durationAttributes).toBe(first.durationAttributes)
  })

  it('keeps every result, tier, operation and model apart, however the requests interleave', () => {
    const tally = new RequestTally()
    const results = ['hit', 'miss', 'bypass', 'coalesced', 'error'] as const
    const tiers = [undefined, 'l1', 'l2'] as const
    const operations = [undefined, 'chat', 'text_completion', 'embeddings', 'responses'] as const
    const models = [undefined, 'gpt-4o', 'gpt-4o-mini']
    const combinations = results.flatMap((result) =>
      tiers.flatMap((tier) => operations.flatMap((operation) => models.map((model) => ({ result, tier, operation, model })))),
    )
    // Twice, the second time in reverse: each set is counted twice, none mixed up with another.
    for (const { result, tier, operation, model } of [...combinations, ...combinations.reverse()]) {
      const series = tally.add(result, tier, operation, model, undefined, undefined)
      expect(series.attributes).toEqual({
        [attribute.result]: result,
        ...(tier === undefined ? {} : { [attribute.tier]: tier }),
        ...(operation === undefined ? {} : { [genAi.operationName]: operation }),
        ...(model === undefined ? {} : { [genAi.requestModel]: model }),
      })
    }
    const points = observed((observer) => tally.observeRequests(observer))
    expect(points).toHaveLength(combinations.length)
    expect(points.every((point) => point.value === 2)).toBe(true)
  })

  it('sums tokens and dollars saved by model across results and tiers, and prices only priced models', () => {
    const tally = new RequestTally()
    tally.add('hit', 'l1', 'chat', 'gpt-4o', { inputTokens: 10, outputTokens: 5 }, 0.002)
    tally.add('hit', 'l2', 'chat', 'gpt-4o', { inputTokens: 1, outputTokens: 2 }, 0.001)
    tally.add('hit', 'l1', 'chat', 'my-own-model', { inputTokens: 7, outputTokens: 3 }, undefined)
    tally.add('miss', undefined, 'chat', 'never-hit', undefined, undefined)
    expect(observed((observer) => tally.observeTokensSaved(observer))).toEqual([
      { value: 11, attributes: { [genAi.requestModel]: 'gpt-4o', [genAi.tokenType]: 'input' } },
      { value: 7, attributes: { [genAi.requestModel]: 'gpt-4o', [genAi.tokenType]: 'output' } },
      { value: 7, attributes: { [genAi.requestModel]: 'my-own-model', [genAi.tokenType]: 'input' } },
      { value: 3, attributes: { [genAi.requestModel]: 'my-own-model', [genAi.tokenType]: 'output' } },
    ])
    const cost = observed((observer) => tally.observeCostSaved(observer))
    expect(cost).toHaveLength(1)
    expect(cost[0]?.attributes).toEqual({ [genAi.requestModel]: 'gpt-4o' })
    expect(cost[0]?.value).toBeCloseTo(0.003, 12)
  })

  it('folds attribute sets beyond its limit into one overflow set, as clients choose model names', () => {
    const tally = new RequestTally()
    for (let index = 0; index < 1500; index++) tally.add('miss', undefined, 'chat', `model-${index}`, undefined, undefined)
    const points = observed((observer) => tally.observeRequests(observer))
    expect(points).toHaveLength(1001)
    expect(points.at(-1)).toEqual({ value: 500, attributes: { 'otel.metric.overflow': true } })
    expect(points.reduce((sum, point) => sum + point.value, 0)).toBe(1500)
  })
})
