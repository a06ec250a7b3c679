import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { attribute, genAi } from '../telemetry/names.js'

/** A Responses call is a GenAI chat operation: the same spans, usage and savings as chat completions. */
describe('Responses telemetry', () => {
  let fake: FakeUpstream
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    fake = await startFakeUpstream()
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(async () => {
    context.disable()
    await fake.close()
  })

  it('records a miss with a GenAI chat span and a hit with the tokens it saved, JSON and streamed', async () => {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      upstream: fake.url,
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    cleanups.push(gateway.close)
    const openai = new OpenAI({ baseURL: `${gateway.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
    const params = { model: 'gpt-4o-mini', input: 'Why was my card declined?' }
    const miss = await openai.responses.create(params)
    await openai.responses.create(params)

    const [missSpan, hitSpan] = byName(await telemetry.spans(), 'aicache chat')
    expect(missSpan?.attributes).toMatchObject({ [attribute.result]: 'miss', [genAi.requestModel]: 'gpt-4o-mini' })
    expect(hitSpan?.attributes).toMatchObject({
      [attribute.result]: 'hit',
      [attribute.tokensSavedInput]: miss.usage?.input_tokens,
      [attribute.tokensSavedOutput]: miss.usage?.output_tokens,
    })
    expect(miss.usage?.input_tokens).toBeGreaterThan(0)
    expect(hitSpan?.attributes[attribute.costSavedUsd]).toBeGreaterThan(0)
    const [client] = byName(await telemetry.spans(), 'chat gpt-4o-mini')
    expect(client?.attributes).toMatchObject({
      [genAi.operationName]: 'chat',
      [genAi.providerName]: 'openai',
      [genAi.responseId]: miss.id,
      [genAi.responseFinishReasons]: ['stop'],
      [genAi.usageInputTokens]: miss.usage?.input_tokens,
      [genAi.usageOutputTokens]: miss.usage?.output_tokens,
    })

    const streamed = { ...params, input: 'Stream the reason', stream: true as const }
    let usage: OpenAI.Responses.ResponseUsage | null | undefined
    for await (const event of await openai.responses.create(streamed)) if (event.type === 'response.completed') usage = event.response.usage
    for await (const event of await openai.responses.create(streamed)) void event
    expect(usage?.output_tokens).toBeGreaterThan(0)
    const hits = byName(await telemetry.spans(), 'aicache chat').filter((span) => span.attributes[attribute.result] === 'hit')
    expect(hits.at(-1)?.attributes).toMatchObject({ [attribute.tokensSavedInput]: usage?.input_tokens, [attribute.tokensSavedOutput]: usage?.output_tokens })
  })
})
