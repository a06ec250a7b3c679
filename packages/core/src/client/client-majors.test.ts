import { type FakeUpstream, fakeChatAnswer, startFakeUpstream } from '@aicache/testkit'
import OpenAI from 'openai'
import OpenAI7 from 'openai7'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createAiCache } from '../index.js'

/**
 * Client mode (`new OpenAI({ fetch: cache.fetch })`) with both majors of the
 * official client: openai 6 reads a stream to the end of its body, openai 7
 * stops at `data: [DONE]` and cancels the body (and aborts its request).
 */
const clientMajors = [
  { major: 'openai 6', Client: OpenAI },
  { major: 'openai 7', Client: OpenAI7 as unknown as typeof OpenAI },
] as const

describe.each(clientMajors)('client mode with $major', ({ Client }) => {
  let fake: FakeUpstream
  beforeAll(async () => {
    fake = await startFakeUpstream()
  })
  afterEach(() => {
    fake.reset()
    fake.setChunkDelay(0)
    fake.setDoneTail(10)
  })
  afterAll(() => fake.close())

  function clientMode() {
    const cache = createAiCache()
    return { cache, openai: new Client({ baseURL: fake.url, apiKey: 'sk-a', fetch: cache.fetch, maxRetries: 0 }) }
  }

  async function readStream(openai: OpenAI, content: string) {
    const request = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content }], stream: true as const }
    const { data, response } = await openai.chat.completions.create(request).withResponse()
    let text = ''
    for await (const chunk of data) text += chunk.choices[0]?.delta.content ?? ''
    return { text, status: response.headers.get('cache-status') }
  }

  it('gets a miss, then the same answer as a hit', async () => {
    const { openai } = clientMode()
    const question = { model: 'gpt-4o-mini', messages: [{ role: 'user' as const, content: 'How do I activate my card?' }] }
    const first = await openai.chat.completions.create(question).withResponse()
    const second = await openai.chat.completions.create(question).withResponse()
    expect(first.response.headers.get('cache-status')).toMatch(/fwd=uri-miss.*stored/)
    expect(second.response.headers.get('cache-status')).toMatch(/hit; ttl=\d+; detail=l1/)
    expect(second.data).toEqual(first.data)
    expect(first.data.choices[0]?.message.content).toBe(fakeChatAnswer(question))
    expect(fake.callCount()).toBe(1)
  })

  it('makes one upstream call for three identical streams when the upstream ends its body after [DONE]', async () => {
    // Paced like a provider: events a few ms apart, and the body ends well after [DONE].
    fake.setChunkDelay(2)
    fake.setDoneTail(25)
    const { openai, cache } = clientMode()
    const content = 'Three identical streams in client mode'
    const reads = [await readStream(openai, content), await readStream(openai, content), await readStream(openai, content)]
    expect(reads[0]?.text).toBe(fakeChatAnswer({ messages: [{ role: 'user', content }] }))
    for (const read of reads) expect(read.text).toBe(reads[0]?.text)
    expect(reads[0]?.status).toMatch(/fwd=uri-miss/)
    expect(reads[1]?.status).toMatch(/hit/)
    expect(fake.callCount()).toBe(1)
    expect(cache.stats().hits.l1).toBe(2)
  })
})
