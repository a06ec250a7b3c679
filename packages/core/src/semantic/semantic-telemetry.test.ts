import { createLocalEmbedder, type LocalEmbedder } from '@aicache/embeddings-local'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { attribute, metric } from '../telemetry/names.js'

// Loading the model and embedding take seconds on a loaded machine, far more than the default timeouts.
const modelLoadMs = 60_000

describe('semantic cache telemetry', { timeout: modelLoadMs }, () => {
  let fake: FakeUpstream
  let embedder: LocalEmbedder
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    embedder = createLocalEmbedder({ preload: true })
    await embedder.ready()
  }, modelLoadMs)
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    await embedder.close()
    await fake.close()
  })

  it('marks a semantic hit aicache.tier=semantic with its similarity, and counts similarity, rejections by reason and embedding time', async () => {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      upstream: fake.url,
      semantic: { embed: embedder, threshold: 0.9, embedTimeoutMs: 10_000 },
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const ask = (content: string) => openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] })
    await ask('How do I reset my password?')
    await ask('How can I reset my password?')
    await ask('What is the capital of France?')

    const [first, hit, unrelated] = byName(await telemetry.spans(), 'aicache chat')
    expect(first?.attributes).toMatchObject({ [attribute.result]: 'miss', [attribute.semanticRejection]: 'no_neighbour' })
    expect(hit?.attributes).toMatchObject({ [attribute.result]: 'hit', [attribute.tier]: 'semantic' })
    expect(hit?.attributes[attribute.semanticSimilarity]).toBeGreaterThanOrEqual(0.9)
    expect(hit?.attributes[attribute.semanticRejection]).toBeUndefined()
    expect(unrelated?.attributes).toMatchObject({ [attribute.result]: 'miss', [attribute.semanticRejection]: 'threshold' })
    expect(unrelated?.attributes[attribute.semanticSimilarity]).toBeLessThan(0.9)

    expect(await telemetry.sum(metric.requests, { [attribute.result]: 'hit', [attribute.tier]: 'semantic' })).toBe(1)
    expect(await telemetry.sum(metric.semanticRejections, { [attribute.semanticRejection]: 'threshold' })).toBe(1)
    expect(await telemetry.sum(metric.semanticRejections, { [attribute.semanticRejection]: 'no_neighbour' })).toBe(1)
    const similarity = await telemetry.points(metric.semanticSimilarity)
    const count = (result: string) =>
      similarity
        .filter((point) => point.attributes[attribute.result] === result)
        .reduce((total, point) => total + ((point.value as { count: number }).count ?? 0), 0)
    expect(count('hit')).toBe(1)
    expect(count('miss')).toBe(1)
    const embedded = await telemetry.points(metric.semanticEmbedDuration)
    expect(embedded.reduce((total, point) => total + ((point.value as { count: number }).count ?? 0), 0)).toBe(3)
  })
})
