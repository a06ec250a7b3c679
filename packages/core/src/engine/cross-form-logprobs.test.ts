import { type FakeUpstream, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { startTestGateway } from '../../test/support/test-gateway.js'

/**
 * A stream stored for one request answers the same request without
 * `stream: true` (assembled) and the reverse (synthesised): the logprobs the
 * upstream sent must survive the conversion, as the upstream itself would
 * have sent them in the other form.
 */
describe('logprobs across stream and JSON forms', () => {
  let fake: FakeUpstream
  let direct: OpenAI
  const cleanups: Array<() => Promise<void>> = []
  beforeAll(async () => {
    fake = await startFakeUpstream()
    direct = new OpenAI({ baseURL: fake.url, apiKey: 'sk-a', maxRetries: 0 })
  })
  afterEach(async () => {
    await Promise.all(cleanups.splice(0).map((cleanup) => cleanup()))
    fake.reset()
  })
  afterAll(() => fake.close())

  async function gateway() {
    const started = await startTestGateway({ upstream: fake.url })
    cleanups.push(started.close)
    return new OpenAI({ baseURL: `${started.url}/v1`, apiKey: 'sk-a', maxRetries: 0 })
  }

  const chat = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'Score every word' }], logprobs: true, top_logprobs: 2 }
  const completion = { model: 'gpt-3.5-turbo-instruct', prompt: 'Score every word', logprobs: 2 }

  it('chat: a recorded stream answers a JSON request with the logprobs the upstream sends as JSON', async () => {
    const openai = await gateway()
    for await (const _chunk of await openai.chat.completions.create({ ...chat, stream: true })) {
      // Read to the end: the stream is recorded.
    }
    const hit = await openai.chat.completions.create(chat).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    const expected = await direct.chat.completions.create(chat)
    expect(expected.choices[0]?.logprobs?.content?.length).toBeGreaterThan(1)
    expect(hit.data.choices[0]?.logprobs).toEqual(expected.choices[0]?.logprobs)
  })

  it('chat: a stored JSON answer answers a stream request with chunks whose logprobs add up to it', async () => {
    const openai = await gateway()
    const json = await openai.chat.completions.create(chat)
    const hit = await openai.chat.completions.create({ ...chat, stream: true }).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    const content: unknown[] = []
    for await (const chunk of hit.data) content.push(...(chunk.choices[0]?.logprobs?.content ?? []))
    expect(json.choices[0]?.logprobs?.content?.length).toBeGreaterThan(1)
    expect(content).toEqual(json.choices[0]?.logprobs?.content)
  })

  it('completions: a recorded stream answers a JSON request with the upstream JSON logprobs', async () => {
    const openai = await gateway()
    for await (const _chunk of await openai.completions.create({ ...completion, stream: true })) {
      // Read to the end: the stream is recorded.
    }
    const hit = await openai.completions.create(completion).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    const expected = await direct.completions.create(completion)
    expect(expected.choices[0]?.logprobs?.tokens?.length).toBeGreaterThan(1)
    expect(hit.data.choices[0]?.logprobs).toEqual(expected.choices[0]?.logprobs)
  })

  it('completions: a stored JSON answer answers a stream request with chunks whose logprobs add up to it', async () => {
    const openai = await gateway()
    const json = await openai.completions.create(completion)
    const hit = await openai.completions.create({ ...completion, stream: true }).withResponse()
    expect(hit.response.headers.get('cache-status')).toMatch(/hit/)
    const joined = { tokens: [] as unknown[], token_logprobs: [] as unknown[], top_logprobs: [] as unknown[], text_offset: [] as unknown[] }
    for await (const chunk of hit.data) {
      const logprobs = chunk.choices[0]?.logprobs
      if (!logprobs) continue
      for (const field of Object.keys(joined) as Array<keyof typeof joined>) joined[field].push(...((logprobs[field] as unknown[] | undefined) ?? []))
    }
    expect(json.choices[0]?.logprobs?.tokens?.length).toBeGreaterThan(1)
    expect(joined).toEqual(json.choices[0]?.logprobs)
  })
})
