import Anthropic from '@anthropic-ai/sdk'
import { context } from '@opentelemetry/api'
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks'
import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'
import { byName, sdk } from '../../test/support/test-sdk.js'
import { attribute, genAi } from '../telemetry/names.js'

/** A Messages call is a GenAI chat operation of the anthropic provider: the same spans, usage and savings as chat completions. */
describe('Anthropic Messages telemetry', () => {
  let fake: FakeUpstream
  beforeAll(async () => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable())
    fake = await startFakeUpstream()
  })
  afterAll(async () => {
    context.disable()
    await fake.close()
  })

  it('records a miss with a GenAI chat span of provider anthropic and a hit with the tokens it saved, prompt-cache tokens counted as input', async () => {
    const telemetry = sdk()
    const gateway = await startTestGateway({
      upstream: { anthropic: fake.url },
      telemetry: { tracerProvider: telemetry.tracerProvider, meterProvider: telemetry.meterProvider },
    })
    try {
      const anthropic = new Anthropic({ baseURL: gateway.url, apiKey: 'sk-ant-a', maxRetries: 0 })
      // A cache breakpoint on the system prompt: the fake writes the prefix to its prompt cache.
      const params = {
        model: 'claude-sonnet-4-5',
        max_tokens: 200,
        system: [{ type: 'text' as const, text: 'You answer questions about cards. '.repeat(20), cache_control: { type: 'ephemeral' as const } }],
        messages: [{ role: 'user' as const, content: 'Why was my card declined?' }],
      }
      const miss = await anthropic.messages.create(params)
      await anthropic.messages.create(params)
      expect(miss.usage.cache_creation_input_tokens).toBeGreaterThan(0)
      const input = miss.usage.input_tokens + (miss.usage.cache_creation_input_tokens ?? 0) + (miss.usage.cache_read_input_tokens ?? 0)

      const [missSpan, hitSpan] = byName(await telemetry.spans(), 'aicache chat')
      expect(missSpan?.attributes).toMatchObject({ [attribute.result]: 'miss', [genAi.requestModel]: 'claude-sonnet-4-5' })
      expect(hitSpan?.attributes).toMatchObject({
        [attribute.result]: 'hit',
        [attribute.tokensSavedInput]: input,
        [attribute.tokensSavedOutput]: miss.usage.output_tokens,
      })
      const [client] = byName(await telemetry.spans(), 'chat claude-sonnet-4-5')
      expect(client?.attributes).toMatchObject({
        [genAi.operationName]: 'chat',
        [genAi.providerName]: 'anthropic',
        [genAi.responseId]: miss.id,
        [genAi.responseFinishReasons]: ['end_turn'],
        [genAi.usageInputTokens]: input,
        [genAi.usageOutputTokens]: miss.usage.output_tokens,
      })
    } finally {
      await gateway.close()
    }
  })
})
