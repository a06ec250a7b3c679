import OpenAI from 'openai'
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { CACHED_TOKENS_HEADER, REASONING_TOKENS_HEADER, startFakeUpstream, type FakeUpstream } from './index.js'

let fake: FakeUpstream
let client: OpenAI

beforeAll(async () => {
  fake = await startFakeUpstream()
  client = new OpenAI({ baseURL: fake.url, apiKey: 'sk-test', maxRetries: 0 })
})
afterAll(() => fake.close())
beforeEach(() => fake.reset())

const ask = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Summarise the refund policy, please.' }] }
const knobs = (cached: number, reasoning = 0) => ({ headers: { [CACHED_TOKENS_HEADER]: String(cached), [REASONING_TOKENS_HEADER]: String(reasoning) } })

describe('reported cached and reasoning tokens', () => {
  it('reports cached prompt tokens within the prompt and reasoning tokens on top of the answer (chat JSON)', async () => {
    const plain = await client.chat.completions.create(ask)
    const cached = await client.chat.completions.create(ask, knobs(8, 20))
    expect(cached.choices[0]?.message.content).toBe(plain.choices[0]?.message.content)
    expect(cached.usage?.prompt_tokens).toBe(plain.usage?.prompt_tokens)
    expect(cached.usage?.prompt_tokens_details?.cached_tokens).toBe(8)
    expect(cached.usage?.completion_tokens_details?.reasoning_tokens).toBe(20)
    expect(cached.usage?.completion_tokens).toBe((plain.usage?.completion_tokens ?? 0) + 20)
    expect(cached.usage?.total_tokens).toBe((cached.usage?.prompt_tokens ?? 0) + (cached.usage?.completion_tokens ?? 0))
    // Never more than the prompt itself.
    const all = await client.chat.completions.create(ask, knobs(1_000_000))
    expect(all.usage?.prompt_tokens_details?.cached_tokens).toBe(plain.usage?.prompt_tokens)
  })

  it('reports them in the usage chunk of a stream and in a text completion', async () => {
    const stream = await client.chat.completions.create({ ...ask, stream: true, stream_options: { include_usage: true } }, knobs(5, 3))
    let usage: OpenAI.CompletionUsage | undefined
    for await (const chunk of stream) usage = chunk.usage ?? usage
    expect(usage?.prompt_tokens_details?.cached_tokens).toBe(5)
    expect(usage?.completion_tokens_details?.reasoning_tokens).toBe(3)
    const completion = await client.completions.create({ model: 'gpt-3.5-turbo-instruct', prompt: 'Say hello to the team' }, knobs(2))
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(2)
  })

  it('adds them to a Responses answer, JSON and response.completed', async () => {
    const params = { model: 'gpt-4o-mini', input: 'Summarise the refund policy, please.' }
    const plain = await client.responses.create(params)
    const cached = await client.responses.create(params, knobs(6, 11))
    expect(cached.usage?.input_tokens).toBe(plain.usage?.input_tokens)
    expect(cached.usage?.input_tokens_details.cached_tokens).toBe(6)
    expect(cached.usage?.output_tokens_details.reasoning_tokens).toBe(11)
    expect(cached.usage?.output_tokens).toBe((plain.usage?.output_tokens ?? 0) + 11)
    let completed: OpenAI.Responses.ResponseUsage | undefined
    for await (const event of await client.responses.create({ ...params, stream: true }, knobs(6, 11))) {
      if (event.type === 'response.completed') completed = event.response.usage ?? undefined
    }
    expect(completed).toEqual(cached.usage)
  })
})
